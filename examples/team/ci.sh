#!/bin/sh
# A CI job against the team's server. TEAM_LLM_KEY comes from the CI secret store.
set -eu
SERVER="--backend llamacpp-server --endpoint https://llm.corp.example:8080 --api-key-env TEAM_LLM_KEY --context-size 8192"
# Fails (exit 2) with one clear line when the server is unreachable or refuses the key.
llama-lsp doctor $SERVER
# One completion, e.g. as a smoke test of the deployment.
llama-lsp complete src/app.py:10:5 $SERVER
