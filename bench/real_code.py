"""Single-line completion in large real files: the pipeline against the bare model's FIM prompt.

HumanEval's files are 10-60 lines, so its tasks never reach the cursor window's edges
(``prefixLines``, ``suffixLines``) or the cross-file context. This benchmark takes statement
starts deep inside large Python files of installed packages (by default rich, llama_cpp and
hypothesis: code the project was never tuned on), empties the statement's first line (its
indentation stays, as after pressing Enter in an editor) and asks for it back. Configurations,
all greedy unless the pipeline's defaults compare candidates, with one loaded model:

- ``raw``: the model's own FIM prompt of the file around the hole, cut to the last
  ``--prefix-tokens`` tokens before it and the first ``--suffix-tokens`` after it (1,500 and
  500 by default: the baseline of issue 17), no context; first line of the output. A model
  without FIM tokens gets BOS and the prefix.
- ``pipeline``: the server's automatic path, default settings (the line window, cross-file
  context from the package folder as the workspace, post-processing).
- ``invoked``: the same for a suggestion the user asks for (``Settings.for_invoked_request``).
- ``--variant NAME:KEY=VALUE,KEY=VALUE`` adds a pipeline configuration with other settings,
  e.g. ``--variant wide:prefixLines=256,suffixLines=64``.

Metrics: exact match of the stripped line, edit similarity (1 - Levenshtein distance / the
longer length), the median prompt tokens and the median latency with a cold KV cache.

    python bench/real_code.py --model M.gguf [--cases 40] [--seed 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from llama_lsp.config.settings import Settings, resolve_settings
from llama_lsp.context.assembly import WorkspaceContext
from llama_lsp.context.documents import Document
from llama_lsp.context.exclusions import ExclusionPolicy
from llama_lsp.context.syntax.boundaries import starts_at_boundary
from llama_lsp.context.workspace import WorkspaceIndex
from llama_lsp.features.completion.pipeline import SINGLE_LINE_MAX_TOKENS, CompletionPipeline
from llama_lsp.features.completion.postprocess import CompletionMode
from llama_lsp.model.backend import Backend, GenerationRequest
from llama_lsp.model.host import load_backend
from llama_lsp.model.prompts import fim_prompt

sys.path.insert(0, str(Path(__file__).parent))
from settings_arg import add_set_option, parse_set_options  # noqa: E402

DEFAULT_FILES = ("rich/console.py", "rich/progress.py", "rich/text.py", "llama_cpp/llama.py",
                 "hypothesis/core.py", "hypothesis/internal/conjecture/engine.py")
# Holes start this far into a file, where a 128-line window no longer holds all of it.
FIRST_HOLE_LINE = 150
MAX_FILE_BYTES = 10**8


@dataclass(frozen=True)
class Case:
    """A file with one statement's first line emptied (indentation kept)."""

    path: Path
    root: Path
    line: int
    text: str
    offset: int
    expected: str


@dataclass
class Fill:
    """One configuration's line for one case."""

    text: str
    latency_ms: float
    prompt_tokens: int
    exact: bool = False
    similarity: float = 0.0


def package_file(name: str) -> tuple[Path, Path]:
    """(file, the folder holding its top-level package) for ``package/sub/file.py``."""
    package = name.split("/", 1)[0]
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(f"package {package!r} is not installed")
    root = Path(spec.origin).parent.parent
    path = root / name
    if not path.is_file():
        raise FileNotFoundError(path)
    return path, root


def eligible_lines(path: Path) -> list[int]:
    """Lines that start a statement (not a comment or a string) at ``FIRST_HOLE_LINE`` or
    later, 8 to 100 characters once stripped."""
    text = path.read_text(encoding="utf-8")
    snapshot = Document(path.as_uri(), "python", 1, text, MAX_FILE_BYTES).snapshot()
    lines = text.split("\n")
    found = []
    for number in range(FIRST_HOLE_LINE, len(lines) - 1):
        stripped = lines[number].strip()
        if not 8 <= len(stripped) <= 100 or stripped[0] in "#\"'@)]}" or \
                stripped.startswith(("r\"", "f\"", "b\"", "else", "elif", "except", "finally")):
            continue
        column = len(lines[number]) - len(lines[number].lstrip())
        if snapshot.tree is not None and starts_at_boundary(snapshot.tree, number, column):
            found.append(number)
    return found


def load_cases(files: list[str], count: int, seed: int) -> list[Case]:
    """``count`` holes drawn with ``seed`` from the eligible lines of ``files``."""
    pool: list[tuple[Path, Path, int]] = []
    for name in files:
        path, root = package_file(name)
        pool.extend((path, root, line) for line in eligible_lines(path))
    chosen = sorted(random.Random(seed).sample(pool, min(count, len(pool))),
                    key=lambda item: (str(item[0]), item[2]))
    cases = []
    for path, root, number in chosen:
        lines = path.read_text(encoding="utf-8").split("\n")
        indent = lines[number][:len(lines[number]) - len(lines[number].lstrip())]
        before = "\n".join(lines[:number]) + "\n" + indent
        after = "\n" + "\n".join(lines[number + 1:])
        cases.append(Case(path, root, number, before + after, len(before),
                          lines[number].strip()))
    return cases


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def similarity(a: str, b: str) -> float:
    """1 - edit distance / the longer length (1.0 for two empty strings)."""
    longest = max(len(a), len(b))
    return 1.0 - levenshtein(a, b) / longest if longest else 1.0


def cold(backend: Backend) -> None:
    """Forget the KV cache (the embedded backend's Llama), so every prompt is cold."""
    reset = getattr(getattr(backend, "_llm", None), "reset", None)
    if reset is not None:
        reset()


def run_raw(backend: Backend, case: Case, prefix_tokens: int, suffix_tokens: int,
            settings: Settings) -> Fill:
    """The model's own FIM prompt of the file around the hole (a prefix-only model: BOS and
    the prefix), greedy, first line."""
    fim = backend.info.fim
    prefix = backend.tokenize(case.text[:case.offset])[-prefix_tokens:]
    if fim is None:
        tokens = [*backend.info.bos, *prefix]
    else:
        suffix = backend.tokenize(case.text[case.offset:])[:suffix_tokens]
        tokens = fim_prompt(fim, prefix, suffix, backend.info.bos)
    started = time.perf_counter()
    result = backend.generate(GenerationRequest(
        prompt=tokens, max_tokens=min(settings.max_tokens, SINGLE_LINE_MAX_TOKENS),
        temperature=0.0, should_stop=lambda text: "\n" in text), lambda: False)
    return Fill(result.text.split("\n", 1)[0], (time.perf_counter() - started) * 1000,
                len(tokens))


def run_pipeline(pipeline: CompletionPipeline, case: Case, settings: Settings,
                 index_for: Callable[[Path], WorkspaceIndex]) -> Fill:
    """The pipeline's suggestion with the case's package folder as the workspace."""
    snapshot = Document(case.path.as_uri(), "python", 1, case.text, MAX_FILE_BYTES).snapshot()
    context = WorkspaceContext(index_for(case.root), [snapshot])
    started = time.perf_counter()
    outcome = pipeline.complete(snapshot, case.offset, settings, context,
                                mode=CompletionMode.SINGLE_LINE)
    elapsed = (time.perf_counter() - started) * 1000
    text = outcome.suggestions[0].text if outcome.suggestions else ""
    return Fill(text.split("\n", 1)[0], elapsed,
                len(outcome.prompt.tokens) if outcome.prompt else 0)


def parse_variant(parser: argparse.ArgumentParser, spec: str) -> tuple[str, dict[str, object]]:
    """``NAME:KEY=VALUE,KEY=VALUE`` as (name, settings)."""
    name, colon, items = spec.partition(":")
    if not colon or not name:
        parser.error(f"--variant {spec!r}: expected NAME:KEY=VALUE[,KEY=VALUE]")
    return name, parse_set_options(parser, items.split(","))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="a .gguf file (default: the demo model)")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--files", default=",".join(DEFAULT_FILES),
                        help="comma-separated package-relative files")
    parser.add_argument("--prefix-tokens", type=int, default=1500)
    parser.add_argument("--suffix-tokens", type=int, default=500)
    parser.add_argument("--configs", default="raw,pipeline,invoked")
    parser.add_argument("--variant", action="append", default=[],
                        metavar="NAME:KEY=VALUE[,KEY=VALUE]")
    parser.add_argument("--verbose", action="store_true", help="print every case")
    parser.add_argument("--json", type=Path, help="write per-case results here")
    add_set_option(parser)
    args = parser.parse_args()
    options = {"model": args.model, "threads": args.threads}
    options.update(parse_set_options(parser, args.set))
    settings, problems = resolve_settings({k: v for k, v in options.items() if v is not None})
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    configs: dict[str, Settings | None] = {}
    for name in (c.strip() for c in args.configs.split(",") if c.strip()):
        if name not in ("raw", "pipeline", "invoked"):
            parser.error(f"unknown configuration {name!r}")
        configs[name] = None if name == "raw" else (
            settings.for_invoked_request() if name == "invoked" else settings)
    for spec in args.variant:
        name, changes = parse_variant(parser, spec)
        variant, problems = resolve_settings({**{k: v for k, v in options.items()
                                                 if v is not None}, **changes})
        if problems:
            parser.error("; ".join(problems))
        configs[name] = variant
    cases = load_cases([f.strip() for f in args.files.split(",") if f.strip()],
                       args.cases, args.seed)
    backend = load_backend(settings)
    pipeline = CompletionPipeline(backend)
    indexes: dict[Path, WorkspaceIndex] = {}

    def index_for(root: Path) -> WorkspaceIndex:
        if root not in indexes:
            indexes[root] = WorkspaceIndex([root], ExclusionPolicy([root]), background=False)
        return indexes[root]

    print(f"model: {backend.info.name}; {len(cases)} holes (seed {args.seed}) in "
          f"{len({case.path for case in cases})} files; raw window {args.prefix_tokens} + "
          f"{args.suffix_tokens} tokens" + (f"; settings {', '.join(args.set)}" if args.set
                                            else ""))
    results: list[dict[str, Any]] = []
    for number, case in enumerate(cases, 1):
        fills: dict[str, Fill] = {}
        for name, config in configs.items():
            cold(backend)
            fill = run_raw(backend, case, args.prefix_tokens, args.suffix_tokens, settings) \
                if config is None else run_pipeline(pipeline, case, config, index_for)
            fill.exact = fill.text.strip() == case.expected
            fill.similarity = similarity(fill.text.strip(), case.expected)
            fills[name] = fill
            if args.verbose:
                print(f"[{number}/{len(cases)}] {case.path.name}:{case.line + 1} {name:>10} "
                      f"{'=' if fill.exact else ' '} {fill.text.strip()!r} "
                      f"(want {case.expected!r}) {fill.latency_ms:.0f} ms", flush=True)
        results.append({"file": str(case.path), "line": case.line + 1,
                        "expected": case.expected,
                        **{name: asdict(fill) for name, fill in fills.items()}})
    backend.close()
    print(f"{'configuration':>14} | exact | similarity | prompt tokens | median ms")
    for name in configs:
        fills_of = [r[name] for r in results]
        exact = sum(f["exact"] for f in fills_of)
        print(f"{name:>14} | {exact}/{len(fills_of)} = {exact / len(fills_of):.1%} | "
              f"{statistics.mean(f['similarity'] for f in fills_of):.3f} | "
              f"{statistics.median(f['prompt_tokens'] for f in fills_of):.0f} | "
              f"{statistics.median(f['latency_ms'] for f in fills_of):.0f}")
    if args.json:
        args.json.write_text(json.dumps({"model": backend.info.name, "seed": args.seed,
                                         "settings": args.set, "variants": args.variant,
                                         "cases": results}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
