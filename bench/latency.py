"""Keystroke latency of the completion pipeline, with KV-cache reuse and overhead vs llama.cpp.

Replays typing the end of a realistic ~2k-token Python file one character at a time. After
every keystroke the document is edited (incremental tree-sitter reparse included) and a
single-line completion is requested, exactly as the server does for inlineCompletion.

Prints p50/p95 latency, how many keystrokes left the prompt as it was (their earlier result
is given again without a model call), prompt tokens evaluated vs reused, and llama.cpp's own
eval time for the model calls, so the pipeline's overhead shows as a ratio.

    python bench/latency.py                        # the demo model, CPU
    python bench/latency.py --model coder.gguf --gpu-layers -1 --keystrokes 200
    python bench/latency.py --context --threads 1  # with context from the file's folder
    python bench/latency.py --served               # as the server answers: cache first

``--served`` puts the server's completion cache in front of the pipeline, as the server does
for automatic requests: a keystroke that types the next character of the suggestion on screen
gets the rest of it from the cache (typed-through), and only the others call the model. It
prints the latency of every keystroke and of the model calls alone.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from llama_lsp.config.settings import resolve_settings
from llama_lsp.context.assembly import WorkspaceContext
from llama_lsp.context.documents import Document, DocumentSnapshot
from llama_lsp.context.exclusions import ExclusionPolicy
from llama_lsp.context.positions import Position, PositionEncoding
from llama_lsp.context.workspace import WorkspaceIndex
from llama_lsp.features.completion.pipeline import CompletionPipeline
from llama_lsp.features.completion.postprocess import CompletionMode
from llama_lsp.features.completion.service import CompletionService
from llama_lsp.model.host import load_backend

sys.path.insert(0, str(Path(__file__).parent))
from settings_arg import add_set_option, parse_set_options  # noqa: E402

DEFAULT_FILE = Path(__file__).parent / "data" / "task_queue.py"
TYPED_FROM = "def summarise("


def percentile(values: list[float], share: float) -> float:
    """The ``share`` percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="a .gguf file (default: the demo model)")
    parser.add_argument("--gpu-layers", type=int, default=0)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--keystrokes", type=int, default=300,
                        help="how many characters to type (from 'def summarise(')")
    parser.add_argument("--context", action="store_true",
                        help="cross-file context on, the file's folder as the workspace and the "
                             "file the only open document (as the server does)")
    parser.add_argument("--served", action="store_true",
                        help="the server's cache in front of the pipeline (typed-through reuse)")
    add_set_option(parser)
    args = parser.parse_args()

    raw = {"model": args.model, "gpuLayers": args.gpu_layers, "threads": args.threads,
           **parse_set_options(parser, args.set)}
    settings, problems = resolve_settings({k: v for k, v in raw.items() if v is not None})
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    backend = load_backend(settings)
    open_documents: list[DocumentSnapshot] = []
    context = None
    if args.context:
        root = args.file.resolve().parent
        context = WorkspaceContext(
            WorkspaceIndex([root], ExclusionPolicy([root]), background=False), open_documents)
    pipeline = CompletionPipeline(backend)
    service = CompletionService(settings) if args.served else None
    served: list[float] = []
    text = args.file.read_text()
    start = text.index(TYPED_FROM)
    typed = text[start:start + args.keystrokes]
    document = Document(args.file.resolve().as_uri(), "python", 0, text[:start], 10**8)
    print(f"model: {backend.info.name} ({'FIM' if backend.info.fim else 'prefix-only'}), "
          f"gpu layers {settings.gpu_layers}, file {args.file.name}, "
          f"{len(backend.tokenize(text))} tokens, typing {len(typed)} characters, "
          f"cross-file context {'on' if args.context else 'off'}")

    latencies: list[float] = []
    engine: list[float] = []
    engine_latencies: list[float] = []
    repeats = 0
    evaluated: list[int] = []
    reused: list[int] = []
    prompt_sizes: list[int] = []
    generated: list[int] = []
    for number, char in enumerate(typed, start=1):
        started = time.perf_counter()
        end = document.snapshot().index.position_at(len(document.text), PositionEncoding.UTF16)
        position = Position(end.line, end.character)
        document.apply_change(position, position, char, PositionEncoding.UTF16, number)
        snapshot = document.snapshot()
        open_documents[:] = [snapshot]
        if service is not None:
            window = service.window(snapshot, len(snapshot.text), settings)
            if service.instant(snapshot.uri, window, "") is not None:
                served.append((time.perf_counter() - started) * 1000)
                continue
        outcome = pipeline.complete(snapshot, len(snapshot.text), settings, context,
                                    mode=CompletionMode.SINGLE_LINE)
        latencies.append((time.perf_counter() - started) * 1000)
        if service is not None:
            shown = outcome.suggestions[0].text if outcome.suggestions else ""
            service.store(snapshot.uri, window, "", shown)
            if shown:
                service.show(snapshot.uri, window, shown)
            served.append(latencies[-1])
        result = outcome.generation
        assert result is not None
        if result.repeated:
            repeats += 1
        else:
            engine.append(result.engine_ms)
            engine_latencies.append(latencies[-1])
        evaluated.append(result.n_evaluated)
        reused.append(result.n_reused)
        prompt_sizes.append(result.n_prompt)
        generated.append(result.n_generated)

    follow = slice(1, None)  # every request after the first is a keystroke follow-up
    reuse_share = sum(reused[follow]) / max(1, sum(prompt_sizes[follow]))
    ratios = [total / max(eng, 1e-6) for total, eng in zip(engine_latencies, engine)]
    if outcome.prompt is not None:
        print(f"context tokens in the last prompt: {outcome.prompt.parts.get('context', 0)}")
    print(f"requests: {len(latencies)}; prompt tokens median {statistics.median(prompt_sizes):.0f}; "
          f"generated tokens median {statistics.median(generated):.0f}")
    print(f"latency end to end: p50 {percentile(latencies, .5):.1f} ms, "
          f"p95 {percentile(latencies, .95):.1f} ms, first {latencies[0]:.0f} ms; "
          f"{repeats} requests repeated a recent prompt (its result again, no model call); "
          f"the other {len(engine)}: p50 {percentile(engine_latencies, .5):.1f} ms, "
          f"p95 {percentile(engine_latencies, .95):.1f} ms")
    if service is not None:
        print(f"served (every keystroke, {len(served) - len(latencies)} of {len(served)} from the "
              f"cache): p50 {percentile(served, .5):.1f} ms, p95 {percentile(served, .95):.1f} ms; "
              f"the model calls below")
    print(f"llama.cpp eval time: p50 {percentile(engine, .5):.1f} ms, "
          f"p95 {percentile(engine, .95):.1f} ms")
    print(f"overhead ratio (end to end / llama.cpp eval): median {statistics.median(ratios):.3f}, "
          f"total {sum(engine_latencies) / sum(engine):.3f}")
    print(f"prompt tokens on follow-ups: evaluated median {statistics.median(evaluated[follow]):.0f}, "
          f"reused median {statistics.median(reused[follow]):.0f}, "
          f"reused share {reuse_share:.1%}")
    backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
