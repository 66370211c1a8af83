"""Overhead of a remote backend: the same model embedded vs behind an HTTP server.

Starts llama-cpp-python's OpenAI-compatible server (``python -m llama_cpp.server``) on a
loopback port with the same GGUF and thread count as the embedded engine, then runs the same
completion requests (the server's pipeline, cursor positions across a real Python file)
through both, interleaved so machine noise hits both alike. Prints the median latency of
each, the ratio of medians and the median per-request ratio (HTTP / embedded), and how often
the two gave the same text.

    python bench/remote.py                      # the demo model, CPU
    python bench/remote.py --model coder.gguf --positions 60
    python bench/remote.py --llama-server /path/to/llama-server   # llamacpp-server backend
"""

from __future__ import annotations

import argparse
import dataclasses
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from llama_lsp.config.settings import resolve_settings
from llama_lsp.context.documents import Document
from llama_lsp.features.completion.pipeline import CompletionPipeline
from llama_lsp.model.free_cores import FreeCores
from llama_lsp.model.host import load_backend
from llama_lsp.model.resolve import resolve_model_path

DEFAULT_FILE = Path(__file__).parent / "data" / "task_queue.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model: Path, port: int, threads: int, n_ctx: int) -> subprocess.Popen[bytes]:
    """llama-cpp-python's server, waited for until it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_threads", str(threads), "--n_threads_batch", str(threads),
         "--n_ctx", str(n_ctx), "--verbose", "False", "--interrupt_requests", "False",
         # Logits for every prompt token (its default) slow prompts down 2-3x.
         "--logits_all", "False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2):
                return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit("llama_cpp.server exited; is llama-cpp-python[server] installed?")
            time.sleep(0.2)
    process.kill()
    raise SystemExit("llama_cpp.server did not start")


def start_llama_server(binary: str, model: Path, port: int, threads: int,
                       n_ctx: int) -> subprocess.Popen[bytes]:
    """llama.cpp's ``llama-server``, waited for until ``/health`` answers."""
    process = subprocess.Popen(
        [binary, "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
         "--threads", str(threads), "--threads-batch", str(threads), "--ctx-size", str(n_ctx),
         "--parallel", "1", "--no-webui"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit("llama-server exited")
            time.sleep(0.2)
    process.kill()
    raise SystemExit("llama-server did not start")


def positions(text: str, count: int) -> list[int]:
    """Cursor offsets in the middle of ``count`` code lines spread over the file."""
    lines = text.split("\n")
    starts = [sum(len(line) + 1 for line in lines[:i]) for i in range(len(lines))]
    code = [i for i, line in enumerate(lines) if len(line.strip()) > 12
            and not line.strip().startswith(("#", '"'))]
    chosen = code[:: max(1, len(code) // count)][:count]
    result = []
    for i in chosen:
        line = lines[i]
        indent = len(line) - len(line.lstrip())
        result.append(starts[i] + indent + (len(line) - indent) // 2)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="a .gguf file (default: the demo model)")
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--positions", type=int, default=30)
    parser.add_argument("--threads", type=int, default=FreeCores().fallback)
    parser.add_argument("--llama-server", metavar="BINARY",
                        help="compare with llama.cpp's llama-server (llamacpp-server backend) "
                             "instead of llama-cpp-python's server (openai backend)")
    args = parser.parse_args()

    model = resolve_model_path(args.model)
    base, problems = resolve_settings({"model": str(model), "threads": args.threads,
                                       "crossFileContext": False})
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    port = free_port()
    if args.llama_server:
        server = start_llama_server(args.llama_server, model, port, args.threads,
                                    base.context_size)
        backend = "llamacpp-server"
    else:
        server = start_server(model, port, args.threads, base.context_size)
        backend = "openai"
    try:
        remote_settings = dataclasses.replace(base, backend=backend,
                                              endpoint=f"http://127.0.0.1:{port}")
        embedded = CompletionPipeline(load_backend(base))
        remote = CompletionPipeline(load_backend(remote_settings))
        text = args.file.read_text()
        document = Document(args.file.resolve().as_uri(), "python", 0, text, 10**8)
        snapshot = document.snapshot()
        offsets = positions(text, args.positions)
        print(f"model: {embedded.backend.info.name}, {args.threads} thread(s) each; "
              f"{len(offsets)} completions of {args.file.name}; HTTP: {backend} backend")
        times: dict[str, list[float]] = {"embedded": [], "http": []}
        outside: dict[str, list[float]] = {"embedded": [], "http": []}
        same = 0
        for offset in offsets:
            texts = []
            for name, pipeline, settings in (("embedded", embedded, base),
                                             ("http", remote, remote_settings)):
                started = time.perf_counter()
                outcome = pipeline.complete(snapshot, offset, settings)
                times[name].append((time.perf_counter() - started) * 1000)
                if outcome.generation is not None:
                    outside[name].append(times[name][-1] - outcome.generation.engine_ms)
                texts.append(outcome.suggestions[0].text if outcome.suggestions else "")
            same += texts[0] == texts[1]
        ratios = [h / e for h, e in zip(times["http"], times["embedded"])]
        for name, values in times.items():
            print(f"{name:9} p50 {statistics.median(values):7.1f} ms   "
                  f"mean {statistics.fmean(values):7.1f} ms")
        print(f"ratio of medians (http / embedded): "
              f"{statistics.median(times['http']) / statistics.median(times['embedded']):.3f}")
        print(f"median per-request ratio: {statistics.median(ratios):.3f}")
        print(f"same suggestion: {same}/{len(offsets)}")
        if backend == "llamacpp-server":  # it reports its own eval time, as llama.cpp does
            print("time outside llama.cpp's eval (pipeline, tokenizing, HTTP) p50: "
                  f"embedded {statistics.median(outside['embedded']):.1f} ms, "
                  f"http {statistics.median(outside['http']):.1f} ms")
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
