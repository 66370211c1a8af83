"""Code actions: listing latency on a 5,000-line file, and resolve time with a real model.

Listing (``textDocument/codeAction`` without the JSON-RPC transport): position -> offsets,
then every action for the cursor from the syntax tree (docstring, implement, fix for one
diagnostic), at random cursors of a 5,000-line Python module and of a 5,000-line Java class
(one class spanning the whole file is the worst case for finding the enclosing definition).

Resolve (``codeAction/resolve`` for "Generate docstring", without transport): analysis, the
schema-constrained model call, rendering, placement and validation, for different functions
of the sample file (its docstrings removed first), with the model the settings resolve to
(the demo model by default).

    python bench/actions.py [--lines 5000] [--cursors 500] [--resolves 5] [--model PATH]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from llama_lsp.config.settings import Settings
from llama_lsp.context.documents import Document, DocumentSnapshot
from llama_lsp.context.positions import Position, PositionEncoding
from llama_lsp.features.actions import service
from llama_lsp.model.host import load_backend

SAMPLE = Path(__file__).parent / "data" / "task_queue.py"


def python_file(lines: int) -> str:
    """About ``lines`` lines of realistic Python (renamed copies of the sample)."""
    sample = SAMPLE.read_text()
    text = ""
    copy = 0
    while text.count("\n") < lines:
        text += sample.replace("TaskQueue", f"TaskQueue{copy}")
        copy += 1
    return text


def java_file(lines: int) -> str:
    """One class of about ``lines`` lines: documented and undocumented methods."""
    methods = []
    index = 0
    while sum(m.count("\n") for m in methods) < lines:
        doc = f"    /** Step {index}. */\n" if index % 2 else ""
        methods.append(f"{doc}    @Override\n    public int step{index}(int a, String b) "
                       f"throws IOException {{\n        if (a < 0) throw new "
                       f"IllegalStateException(b);\n        return a + {index};\n    }}\n\n")
        index += 1
    return "public class Big {\n" + "".join(methods) + "}\n"


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def list_once(snapshot: DocumentSnapshot, line: int, character: int) -> int:
    """What the codeAction handler does for one request; the number of actions."""
    offset = snapshot.index.offset_at(Position(line, character), PositionEncoding.UTF16)
    start = service.byte_offset(snapshot.text, offset)
    problem = service.Problem(start, start, "undefined name 'x'")
    return len(service.offers(snapshot, start, start, [problem]))


def bench_listing(name: str, text: str, language: str, cursors: int) -> None:
    extension = {"python": "py", "java": "java"}[language]
    snapshot = Document(f"file:///bench/{name}.{extension}", language, 1, text,
                        10**8).snapshot()
    lines = text.split("\n")
    chooser = random.Random(0)
    list_once(snapshot, 0, 0)  # compile the queries outside the measurement
    timings = []
    found = 0
    for _ in range(cursors):
        line = chooser.randrange(len(lines))
        character = chooser.randrange(len(lines[line]) + 1)
        started = time.perf_counter()
        found += list_once(snapshot, line, character)
        timings.append((time.perf_counter() - started) * 1000)
    print(f"listing {name}: {len(lines)} lines, {cursors} cursors, {found / cursors:.1f} "
          f"actions each: p50 {statistics.median(timings):.2f} ms, "
          f"p95 {percentile(timings, 0.95):.2f} ms, max {max(timings):.2f} ms")


def without_docstrings(text: str) -> str:
    """``text`` with every function and class docstring removed (``pass`` where it was the
    whole body)."""
    snapshot = Document("file:///bench/strip.py", "python", 1, text, 10**7).snapshot()
    source = text.encode()
    cuts = []
    for definition in service.docstrings.outline_of(snapshot):
        start, end = definition.doc_start_byte, definition.doc_end_byte
        if start is None or end is None or definition.body_start_byte is None \
                or start < definition.body_start_byte:
            continue
        if end >= (definition.body_end_byte or 0):  # the docstring is the whole body
            cuts.append((start, end, b"pass"))
            continue
        line_start = source.rfind(b"\n", 0, start) + 1
        line_end = source.find(b"\n", end)
        cuts.append((line_start, line_end + 1 if line_end >= 0 else len(source), b""))
    for start, end, replacement in sorted(cuts, reverse=True):
        source = source[:start] + replacement + source[end:]
    return source.decode()


def bench_resolve(resolves: int, model: str | None) -> None:
    backend = load_backend(Settings(model=model))
    text = without_docstrings(SAMPLE.read_text())
    snapshot = Document("file:///bench/task_queue.py", "python", 1, text, 10**7).snapshot()
    functions = [d for d in service.undocumented(snapshot) if d.kind in ("function", "method")]
    targets = functions[:resolves]
    timings = []
    try:
        for definition in targets:
            request = service.Request(service.ActionKind.DOCSTRING, definition.name_start_byte)
            started = time.perf_counter()
            try:
                edit = service.compute(snapshot, request, backend, lambda: False)
                outcome = f"{len(edit.new_text.splitlines())} lines"
            except service.ActionFailed as error:
                outcome = f"failed: {error}"
            timings.append(time.perf_counter() - started)
            print(f"  {definition.name}: {timings[-1]:.1f} s ({outcome})")
    finally:
        backend.close()
    print(f"resolve (docstring, {backend.info.name}): {len(timings)} definitions: "
          f"p50 {statistics.median(timings):.1f} s, max {max(timings):.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--cursors", type=int, default=500)
    parser.add_argument("--resolves", type=int, default=5, help="0 skips the model part")
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    bench_listing("python", python_file(args.lines), "python", args.cursors)
    bench_listing("java", java_file(args.lines), "java", args.cursors)
    if args.resolves:
        bench_resolve(args.resolves, args.model)


if __name__ == "__main__":
    main()
