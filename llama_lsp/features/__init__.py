"""Features: completion, code actions and review, over document snapshots and model backends."""
