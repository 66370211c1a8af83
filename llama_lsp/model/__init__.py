"""The model engine: backends, FIM formats and prompt token layouts."""
