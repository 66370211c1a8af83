#!/bin/sh
# On the GPU box: llama.cpp's server for the whole team.
# -c 32768 with -np 4: four parallel slots of 8192 tokens each (set contextSize 8192 in clients).
# Keys: one per line in keys.txt. Put TLS in front (a reverse proxy), or build llama.cpp with
# OpenSSL and add --ssl-key-file/--ssl-cert-file; clients refuse plain http to other machines
# unless allowInsecureHttp is set.
set -eu
exec llama-server \
  --model "${MODEL:-/models/qwen2.5-coder-7b-q8_0.gguf}" \
  --host 0.0.0.0 --port 8080 \
  --ctx-size 32768 --parallel 4 --n-gpu-layers 99 \
  --api-key-file "${KEYS:-/etc/llama/keys.txt}" \
  --no-webui
