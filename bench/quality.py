"""Completion quality on HumanEval-infilling, through the same pipeline the server uses.

Every task is a Python file with a hole: ``prompt`` before it, ``suffix`` after it. The file
goes into a :class:`Document` (language ``python``) with the cursor at the hole, and four
configurations fill it, one after the other, with the same loaded model:

- ``raw``: the bare model, greedy, on the same prefix and suffix (no window, no held-back
  whitespace, no context): a model with FIM tokens gets its own FIM prompt
  (``[bos] <pre> prefix <suf> suffix <mid>``), a prefix-only model BOS + the tokenized prefix;
  single-line keeps the first line, multi/span keep everything generated (up to 128 tokens or
  EOS).
- ``pipeline-greedy``: the pipeline with every candidate comparison off (``fimCandidates``,
  ``rerankCandidates`` 1, ``rerankSamples`` 0): prompt layout, window and post-processing only.
- ``pipeline-nopost``: ``CompletionPipeline.complete``'s generated text with the held-back
  whitespace restored (first line only in single-line mode), no filter.
- ``pipeline``: the pipeline's first suggestion, as the server would show it (or nothing).
- ``invoked``: the same for a suggestion the user asks for explicitly (the editor's trigger
  command, ``llama-lsp complete``): ``Settings.for_invoked_request``, which compares more
  single-line candidates for models without FIM tokens.

Metrics: exact match, and pass@1 by running the task's tests on prefix + completion + suffix
in a subprocess (``sys.executable``, in a temporary directory, with a timeout). Generation is
serial; test executions run ``--jobs`` at a time afterwards, so they do not disturb latency.
Latency is measured with a cold KV cache for every completion (see ``--warm-cache``);
``--warm-start`` evaluates each pipeline prompt first, untimed, as the server's warm start
does after a file is opened, so the pipeline's latencies are warm ones.

    python bench/quality.py                              # single-line, every 5th task, demo model
    python bench/quality.py --subset multi --stride 20
    python bench/quality.py --model coder.gguf --gpu-layers -1 --json out.json
    python bench/quality.py --check-data --stride 1      # canonical solutions must all pass

Data: HumanEval-infilling (MIT licence), by default in ``../shared/eval/humaneval-infilling``
next to the repository; ``--data`` points elsewhere. Only this script reads it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from llama_lsp.config.settings import Settings, resolve_settings
from settings_arg import add_set_option, parse_set_options
from llama_lsp.context.documents import Document
from llama_lsp.features.completion.pipeline import (
    SINGLE_LINE_MAX_TOKENS,
    CompletionPipeline,
    restore_held_back,
)
from llama_lsp.features.completion.postprocess import CompletionMode
from llama_lsp.model.backend import Backend, GenerationRequest, ModelError
from llama_lsp.model.host import load_backend
from llama_lsp.model.prompts import fim_prompt

try:
    from tqdm import tqdm
except ImportError:  # pragma: no cover - tqdm only draws the progress bar
    def tqdm(iterable: Iterable[Any] | None = None, **_: Any) -> Any:  # type: ignore[no-redef]
        class _Silent:
            def __iter__(self) -> Any:
                return iter(iterable or ())

            def update(self, _: int = 1) -> None:
                pass

            def close(self) -> None:
                pass

        return _Silent()


DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared/eval/humaneval-infilling"
SUBSETS = {
    "single": "HumanEval-SingleLineInfilling.jsonl.gz",
    "multi": "HumanEval-MultiLineInfilling.jsonl.gz",
    "span": "HumanEval-RandomSpanInfillingLight.jsonl.gz",
}
CONFIGS = ("raw", "pipeline-greedy", "pipeline-nopost", "pipeline", "invoked")
MULTI_MAX_TOKENS = 128
MEMORY_LIMIT_BYTES = 2 * 1024**3

# Runs the program file given as argv[1] as __main__, under an address-space limit, so that a
# runaway completion cannot take the machine's memory.
RUNNER = (
    "import resource, runpy, sys\n"
    f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT_BYTES}, {MEMORY_LIMIT_BYTES}))\n"
    "runpy.run_path(sys.argv[1], run_name='__main__')\n"
)


# --- data -----------------------------------------------------------------------------------


def load_tasks(data: Path, subset: str, stride: int, limit: int | None) -> list[dict[str, str]]:
    """Every ``stride``-th task of the subset (then the first ``limit`` of those)."""
    path = data / SUBSETS[subset]
    if not path.is_file():
        raise SystemExit(f"{path} not found: point --data at the humaneval-infilling folder")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        tasks = [json.loads(line) for line in handle if line.strip()]
    tasks = tasks[::stride]
    return tasks[:limit] if limit is not None else tasks


def document_text(task: dict[str, str], subset: str, layout: str) -> tuple[str, int]:
    """The file the editor would hold, and the cursor's code-point offset in it."""
    prompt, suffix = task["prompt"], task["suffix"]
    if layout == "own-line" and subset != "span":
        # The cursor on an empty line of its own, as after pressing Enter at the end of the
        # line before (without auto-indent): the next line is below, not after the cursor.
        return prompt + "\n" + suffix, len(prompt)
    return prompt + suffix, len(prompt)


def task_uri(task_id: str) -> str:
    return "file:///humaneval/" + quote(task_id) + ".py"


# --- metrics --------------------------------------------------------------------------------


def normalised(text: str, subset: str) -> str:
    """What exact match compares: stripped (single-line), else lines rstripped, no trailing blanks."""
    if subset == "single":
        return text.strip()
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def same_but_trailing_whitespace(a: str, b: str) -> bool:
    return normalised(a, "multi") == normalised(b, "multi")


def program(task: dict[str, str], completion: str, subset: str) -> str:
    """Prefix + completion + suffix + tests.

    In the line subsets the hole is whole lines, newline included, while completions end
    without one (the pipeline strips it; single-line keeps the first line): add it back.
    """
    middle = completion
    if subset != "span" and not middle.endswith("\n"):
        middle += "\n"
    return (task["prompt"] + middle + task["suffix"] + "\n\n" + task["test"]
            + f"\n\ncheck({task['entry_point']})\n")


def run_program(source: str, timeout: float) -> tuple[bool, str]:
    """Run ``source`` in a fresh interpreter in a temporary directory: (exit 0?, why not)."""
    with tempfile.TemporaryDirectory(prefix="humaneval-") as folder:
        path = Path(folder) / "program.py"
        path.write_text(source, encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, "-I", "-c", RUNNER, str(path)],
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            env={"PATH": os.environ.get("PATH", ""), "PYTHONHASHSEED": "0",
                 "PYTHONDONTWRITEBYTECODE": "1"},
        )
        try:
            _, error = process.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        try:  # the program's own children too
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if timed_out:
            process.communicate()
            return False, f"timeout after {timeout:g} s"
    if process.returncode == 0:
        return True, ""
    lines = error.decode("utf-8", "replace").strip().splitlines()
    return False, lines[-1][:200] if lines else f"exit code {process.returncode}"


class Executor:
    """Runs programs ``jobs`` at a time; identical programs run once."""

    def __init__(self, jobs: int, timeout: float) -> None:
        self.jobs = jobs
        self.timeout = timeout
        self.results: dict[str, tuple[bool, str]] = {}

    def run_all(self, sources: Iterable[str], label: str) -> None:
        pending = sorted({s for s in sources if s not in self.results})
        bar = tqdm(total=len(pending), desc=label, unit="run", file=sys.stderr)
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            futures = {pool.submit(run_program, s, self.timeout): s for s in pending}
            for future in as_completed(futures):
                self.results[futures[future]] = future.result()
                bar.update(1)
        bar.close()


# --- generation -----------------------------------------------------------------------------


@dataclass
class Fill:
    """One configuration's completion for one task."""

    text: str
    latency_ms: float
    exact: bool = False
    passed: bool = False
    failure: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def cold_cache(backend: Backend) -> Callable[[], None]:
    """Forget the KV cache before a completion, so every one evaluates its whole prompt.

    The Backend interface has no such call: this reaches into the embedded backend's Llama.
    """
    llm = getattr(backend, "_llm", None)
    reset = getattr(llm, "reset", None)
    if reset is None:
        print("warning: this backend's KV cache cannot be reset; latencies are warm",
              file=sys.stderr)
        return lambda: None
    return reset


def run_raw(backend: Backend, task: dict[str, str], subset: str, layout: str,
            settings: Settings) -> Fill:
    """The bare model, greedy: a model with FIM tokens gets its own FIM prompt of the whole
    prefix and suffix (``[bos] <pre> prefix <suf> suffix <mid>``), a prefix-only model BOS +
    the tokenized prefix. Single-line stops at (and drops from) the first newline."""
    single = subset == "single"
    text, offset = document_text(task, subset, layout)
    prefix, suffix = text[:offset], text[offset:]
    started = time.perf_counter()
    fim = backend.info.fim
    if fim is not None:
        tokens = fim_prompt(fim, backend.tokenize(prefix), backend.tokenize(suffix),
                            backend.info.bos)
    else:
        tokens = [*backend.info.bos, *backend.tokenize(prefix)]
    request = GenerationRequest(
        prompt=tokens,
        max_tokens=min(settings.max_tokens, SINGLE_LINE_MAX_TOKENS) if single else MULTI_MAX_TOKENS,
        temperature=0.0,
        should_stop=(lambda text: "\n" in text) if single else None,
    )
    try:
        result = backend.generate(request, lambda: False)
    except ModelError as error:
        return Fill("", (time.perf_counter() - started) * 1000, details={"error": str(error)})
    text = result.text.split("\n", 1)[0] if single else result.text
    return Fill(text, (time.perf_counter() - started) * 1000, details={
        "generated": result.text, "stop_reason": result.stop_reason,
        "n_prompt": result.n_prompt, "n_generated": result.n_generated,
    })


def run_pipeline(pipeline: CompletionPipeline, task: dict[str, str], subset: str, layout: str,
                 settings: Settings, warm_start: bool = False) -> tuple[Fill, Fill]:
    """(pipeline-nopost, pipeline) from one ``complete`` call.

    ``warm_start``: first evaluate the prompt as the server's warm start does after a file is
    opened (``CompletionPipeline.warm`` at the cursor's line start), untimed."""
    mode = CompletionMode.SINGLE_LINE if subset == "single" else CompletionMode.MULTI_LINE
    text, offset = document_text(task, subset, layout)
    snapshot = Document(task_uri(task["task_id"]), "python", 1, text,
                        settings.max_file_bytes).snapshot()
    if warm_start:
        pipeline.warm(snapshot, text.rfind("\n", 0, offset) + 1, settings)
    started = time.perf_counter()
    try:
        outcome = pipeline.complete(snapshot, offset, settings, mode=mode)
    except ModelError as error:
        elapsed = (time.perf_counter() - started) * 1000
        failed = {"error": str(error)}
        return Fill("", elapsed, details=failed), Fill("", elapsed, details=failed)
    elapsed = (time.perf_counter() - started) * 1000
    held_back = outcome.prompt.held_back if outcome.prompt else ""
    unfiltered = restore_held_back(outcome.raw_text, held_back)
    if mode is CompletionMode.SINGLE_LINE:
        unfiltered = unfiltered.split("\n", 1)[0]
    details: dict[str, Any] = {"raw_text": outcome.raw_text, "held_back": held_back}
    if outcome.skipped:
        details["skipped"] = outcome.skipped
    if outcome.generation is not None:
        details.update(stop_reason=outcome.generation.stop_reason,
                       n_prompt=outcome.generation.n_prompt,
                       n_generated=outcome.generation.n_generated)
    suggestion = outcome.suggestions[0].text if outcome.suggestions else ""
    return Fill(unfiltered, elapsed, details=details), Fill(suggestion, elapsed)


# --- report ---------------------------------------------------------------------------------


def percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def summarise(results: list[dict[str, Any]], configs: list[str]) -> dict[str, dict[str, float]]:
    summary = {}
    for name in configs:
        fills = [r["fills"][name] for r in results]
        summary[name] = {
            "tasks": len(fills),
            "exact_match": percent(sum(f.exact for f in fills), len(fills)),
            "pass_at_1": percent(sum(f.passed for f in fills), len(fills)),
            "median_latency_ms": statistics.median(f.latency_ms for f in fills) if fills else 0.0,
            "empty": sum(not f.text.strip() for f in fills),
        }
    return summary


def print_report(results: list[dict[str, Any]], configs: list[str],
                 summary: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """Print the table and the post-processing comparison; return the tasks it made fail."""
    print(f"{'configuration':<17} {'tasks':>5} {'exact match':>12} {'pass@1':>8} "
          f"{'median ms':>10} {'empty':>6}")
    for name in configs:
        row = summary[name]
        print(f"{name:<17} {row['tasks']:>5} {row['exact_match']:>11.1f}% {row['pass_at_1']:>7.1f}% "
              f"{row['median_latency_ms']:>10.0f} {row['empty']:>6}")
    if "pipeline-nopost" in configs and "pipeline" in configs:
        print("(pipeline-nopost and pipeline come from the same complete() call: same latency)")
    for name, base in (("pipeline-greedy", "raw"), ("pipeline", "pipeline-greedy"),
                       ("pipeline", "raw"), ("invoked", "raw")):
        if name in configs and base in configs:
            em = summary[name]["exact_match"] - summary[base]["exact_match"]
            p1 = summary[name]["pass_at_1"] - summary[base]["pass_at_1"]
            print(f"{name} vs {base}: exact match {em:+.1f} points, pass@1 {p1:+.1f} points")
    lowered: list[dict[str, Any]] = []
    if "pipeline-nopost" not in configs or "pipeline" not in configs:
        return lowered
    pairs = [(r, r["fills"]["pipeline-nopost"], r["fills"]["pipeline"]) for r in results]
    changed = [(r, a, b) for r, a, b in pairs if a.text != b.text]
    real = [(r, a, b) for r, a, b in changed if not same_but_trailing_whitespace(a.text, b.text)]
    emptied = [(r, a, b) for r, a, b in real if a.text.strip() and not b.text.strip()]
    raised = [r for r, a, b in pairs if b.passed and not a.passed]
    lowered = [{"task_id": r["task_id"], "nopost": a.text, "pipeline": b.text,
                "failure": b.failure} for r, a, b in pairs if a.passed and not b.passed]
    em_lowered = sum(a.exact and not b.exact for _, a, b in pairs)
    em_raised = sum(b.exact and not a.exact for _, a, b in pairs)
    print(f"post-processing changed {len(changed)} of {len(pairs)} tasks "
          f"({len(real)} beyond trailing whitespace, {len(emptied)} to no suggestion)")
    nopost, full = summary["pipeline-nopost"]["pass_at_1"], summary["pipeline"]["pass_at_1"]
    print(f"pass@1 pipeline {full:.1f}% vs pipeline-nopost {nopost:.1f}% ({full - nopost:+.1f} "
          f"points): raised on {len(raised)} tasks, lowered on {len(lowered)}; "
          f"exact match raised on {em_raised}, lowered on {em_lowered}")
    for item in lowered:
        print(f"  LOWERED {item['task_id']}: nopost {item['nopost']!r} -> pipeline "
              f"{item['pipeline']!r} ({item['failure'] or 'failed'})")
    return lowered


# --- main -----------------------------------------------------------------------------------


def check_data(tasks: list[dict[str, str]], subset: str, executor: Executor) -> int:
    """Canonical solutions must pass every test; also show how many pass with an empty hole."""
    canonical = [program(t, t["canonical_solution"], subset) for t in tasks]
    empty = [program(t, "", subset) for t in tasks]
    executor.run_all(canonical + empty, "execute")
    failures = [(t["task_id"], executor.results[p][1]) for t, p in zip(tasks, canonical)
                if not executor.results[p][0]]
    empty_passes = sum(executor.results[p][0] for p in empty)
    print(f"{subset}: canonical solutions pass {len(tasks) - len(failures)}/{len(tasks)} "
          f"({percent(len(tasks) - len(failures), len(tasks)):.1f}%); an empty completion passes "
          f"{empty_passes}/{len(tasks)} ({percent(empty_passes, len(tasks)):.1f}%)")
    for task_id, why in failures:
        print(f"  FAIL {task_id}: {why}")
    return 0 if not failures else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subset", choices=sorted(SUBSETS), default="single")
    parser.add_argument("--stride", type=int, default=5, help="every N-th task (default 5)")
    parser.add_argument("--limit", type=int, help="at most N tasks (after --stride)")
    parser.add_argument("--model", help="a .gguf file (default: the demo model)")
    parser.add_argument("--gpu-layers", type=int)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help=f"comma-separated, from {','.join(CONFIGS)}")
    parser.add_argument("--layout", choices=("inline", "own-line"), default="inline",
                        help="line subsets: the cursor at the start of the line after the hole "
                             "(inline: prompt + suffix) or on an empty line of its own "
                             "(own-line: prompt + newline + suffix)")
    add_set_option(parser)
    parser.add_argument("--jobs", type=int, default=2, help="test executions at a time")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per test run")
    parser.add_argument("--warm-cache", action="store_true",
                        help="keep the KV cache between completions (default: cold every time)")
    parser.add_argument("--warm-start", action="store_true",
                        help="before each pipeline completion, evaluate its prompt (untimed) as "
                             "the server does after a file is opened: warm latency")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path, help="write per-task results here")
    parser.add_argument("--check-data", action="store_true",
                        help="run the tests on the canonical solutions (must all pass) and exit")
    args = parser.parse_args()

    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown or not configs:
        parser.error(f"unknown configuration(s) {unknown}; choose from {','.join(CONFIGS)}")
    if args.stride < 1 or args.jobs < 1:
        parser.error("--stride and --jobs must be at least 1")
    tasks = load_tasks(args.data, args.subset, args.stride, args.limit)
    executor = Executor(args.jobs, args.timeout)
    if args.check_data:
        return check_data(tasks, args.subset, executor)

    raw_options = {"model": args.model, "gpuLayers": args.gpu_layers, "threads": args.threads}
    if args.subset != "single":
        raw_options["maxTokens"] = MULTI_MAX_TOKENS
    raw_options.update(parse_set_options(parser, args.set))
    settings, problems = resolve_settings({k: v for k, v in raw_options.items() if v is not None})
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    started = time.perf_counter()
    backend = load_backend(settings)
    pipeline = CompletionPipeline(backend)
    forget = (lambda: None) if args.warm_cache else cold_cache(backend)
    layout = "inline" if args.subset == "span" else args.layout
    greedy_settings = replace(settings, fim_candidates=1, rerank_candidates=1, rerank_samples=0)
    print(f"model: {backend.info.name} ({'FIM' if backend.info.fim else 'prefix-only'}); "
          f"subset {args.subset}, {len(tasks)} tasks (stride {args.stride}), layout {layout}, "
          f"KV cache {'warm' if args.warm_cache else 'cold'} per completion"
          f"{' (pipeline prompts warmed first)' if args.warm_start else ''}, "
          f"test timeout {args.timeout:g} s"
          + (f"; settings {', '.join(args.set)}" if args.set else ""))

    results: list[dict[str, Any]] = []
    for task in tqdm(tasks, desc="generate", unit="task", file=sys.stderr):
        fills: dict[str, Fill] = {}
        if "raw" in configs:
            forget()
            fills["raw"] = run_raw(backend, task, args.subset, layout, settings)
        if "pipeline-greedy" in configs:
            forget()
            _, fills["pipeline-greedy"] = run_pipeline(pipeline, task, args.subset, layout,
                                                       greedy_settings, args.warm_start)
        if "pipeline" in configs or "pipeline-nopost" in configs:
            forget()
            nopost, full = run_pipeline(pipeline, task, args.subset, layout, settings,
                                        args.warm_start)
            fills["pipeline-nopost"], fills["pipeline"] = nopost, full
        if "invoked" in configs:
            forget()
            _, fills["invoked"] = run_pipeline(pipeline, task, args.subset, layout,
                                               settings.for_invoked_request(), args.warm_start)
        results.append({"task_id": task["task_id"], "task": task,
                        "fills": {name: fills[name] for name in configs}})
    generated_at = time.perf_counter()
    backend.close()

    programs = {(r["task_id"], name): program(r["task"], fill.text, args.subset)
                for r in results for name, fill in r["fills"].items()}
    executor.run_all(programs.values(), "execute")
    expected = {r["task_id"]: normalised(r["task"]["canonical_solution"], args.subset)
                for r in results}
    for r in results:
        for name, fill in r["fills"].items():
            fill.exact = normalised(fill.text, args.subset) == expected[r["task_id"]]
            fill.passed, fill.failure = executor.results[programs[(r["task_id"], name)]]
    finished = time.perf_counter()

    summary = summarise(results, configs)
    lowered = print_report(results, configs, summary)
    print(f"time: {finished - started:.0f} s ({generated_at - started:.0f} s loading and "
          f"generating, {finished - generated_at:.0f} s running {len(executor.results)} "
          f"distinct programs, {args.jobs} at a time)")
    if args.json:
        record = {
            "model": backend.info.name, "subset": args.subset, "stride": args.stride,
            "limit": args.limit, "layout": layout, "warm_cache": args.warm_cache,
            "warm_start": args.warm_start,
            "settings": args.set,
            "configs": configs, "summary": summary, "post_processing_lowered": lowered,
            "tasks": [{"task_id": r["task_id"],
                       "canonical_solution": r["task"]["canonical_solution"],
                       **{name: asdict(fill) for name, fill in r["fills"].items()}}
                      for r in results],
        }
        args.json.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        print(f"per-task results: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
