#!/bin/sh
# A CI job against the team's server. TEAM_LLM_KEY comes from the CI secret store.
set -eu
SERVER="--backend llamacpp-server --endpoint https://llm.corp.example:8080 --api-key-env TEAM_LLM_KEY --context-size 8192"
# Fails (exit 2) with one clear line when the server is unreachable or refuses the key.
llama-lsp doctor $SERVER
# One completion, e.g. as a smoke test of the deployment.
llama-lsp complete src/app.py:10:5 $SERVER
# Review the pull request's changes on the team's server, 4 units at a time. Only the command
# line may name the server and the key variable (a repository's .llama-lsp.toml may not).
llama-lsp review --base "${BASE_REF:-origin/main}" $SERVER --jobs 4 \
  --format github --output sarif=llama-lsp.sarif --output markdown=review.md
