#!/bin/sh
# On the GPU box: vLLM's OpenAI-compatible server. Clients use backend "openai" with
# fimTemplate "qwen" (vLLM has no FIM endpoint; the markers are written into the prompt).
set -eu
exec vllm serve "${MODEL:-Qwen/Qwen2.5-Coder-7B}" \
  --host 0.0.0.0 --port 8000 --max-model-len 8192 \
  --api-key "$TEAM_LLM_KEY"
