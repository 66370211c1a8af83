"""Cost of the context engine on the keystroke path, on a 5,000-line Python file.

After every simulated keystroke: apply the edit, reparse under the server's keystroke budget
(``KEYSTROKE_PARSE_SECONDS``), cut the cursor window, choose the completion mode, gather context
(definitions from this and imported files, similar chunks of other open files), redact the
window and the chunks (``context/redaction.py``, as the pipeline does) and post-process a
typical candidate. Between keystrokes the rest of a reparse that ran out of
budget is finished, as the server's background parser does; that time is reported apart, with
the cost of a blocking reparse for comparison. Tokenization is model-specific and not included.

    python bench/context.py [--lines 5000] [--keystrokes 400] [--detect-secrets]

With ``--lines 2000`` this is the redaction budget's measurement (1 ms p95 per keystroke).
``--detect-secrets`` also times the detect-secrets package (when installed) on the same
keystrokes, as the alternative to the rule set: each keystroke re-scans only the cursor's
line (the best case, with every other line's result cached), and the whole window once.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from llama_lsp.cli.serve import SWITCH_INTERVAL_SECONDS
from llama_lsp.context.assembly import WorkspaceContext
from llama_lsp.context.documents import Document
from llama_lsp.context.exclusions import ExclusionPolicy
from llama_lsp.context.positions import Position, PositionEncoding
from llama_lsp.context.redaction import Redacted, redact
from llama_lsp.context.window import cursor_window
from llama_lsp.context.workspace import WorkspaceIndex
from llama_lsp.features.completion.coordinator import KEYSTROKE_PARSE_SECONDS
from llama_lsp.features.completion.mode import choose_mode
from llama_lsp.features.completion.postprocess import FilterContext, postprocess

SAMPLE = Path(__file__).parent / "data" / "task_queue.py"
TYPED = "        pending = self.pop(timeout=0.5)\n        if pending is not None:\n    "


def build_file(lines: int) -> str:
    """A realistic Python module of about ``lines`` lines (renamed copies of the sample)."""
    body = SAMPLE.read_text().split("\n", 13)[13]  # the sample without its imports
    parts = [SAMPLE.read_text().split("\n", 13)[0:13]]
    text = "\n".join(parts[0]) + "\n"
    copy = 0
    while text.count("\n") < lines:
        text += body.replace("TaskQueue", f"TaskQueue{copy}").replace("Task(", f"Task{copy}(")
        copy += 1
    return text


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--keystrokes", type=int, default=400)
    parser.add_argument("--detect-secrets", action="store_true",
                        help="also time the detect-secrets package (if installed)")
    args = parser.parse_args()
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)  # as `llama-lsp serve` does

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "jobs").mkdir()
        (root / "jobs" / "__init__.py").write_text("")
        (root / "jobs" / "queue.py").write_text(SAMPLE.read_text())
        text = "from jobs.queue import TaskQueue, WorkerPool, summarise\n" + build_file(args.lines)
        lines = text.split("\n")
        # A new line after a statement in a method in the middle of the file.
        cursor_line = next(number + 1 for number, line in enumerate(lines)
                           if number > len(lines) // 2 and line == "        return True")
        lines.insert(cursor_line, "")
        text = "\n".join(lines)
        main_path = root / "app.py"
        main_path.write_text(text)
        other = Document((root / "worker.py").as_uri(), "python", 1, SAMPLE.read_text(), 10**8)
        document = Document(main_path.as_uri(), "python", 1, text, 10**8)
        index = WorkspaceIndex([root], ExclusionPolicy([root]))
        print(f"file: {text.count(chr(10))} lines, {len(text)} characters; typing "
              f"{args.keystrokes} characters at line {cursor_line + 1}")

        blocking = Document(main_path.as_uri(), "python", 1, text, 10**8)
        timings: dict[str, list[float]] = {name: [] for name in
                                           ("edit+parse", "window+mode", "context", "redaction",
                                            "postprocess", "total", "background", "blocking")}
        chunk_redactions: dict[str, Redacted] = {}  # the pipeline keeps these per chunk text
        started = time.perf_counter()
        redact(text)
        cold = (time.perf_counter() - started) * 1000  # every line new: the file just opened
        current = 0
        detect_secrets_lines: list[str] = []
        typed = (TYPED * (args.keystrokes // len(TYPED) + 1))[:args.keystrokes]
        line, column = cursor_line, 0
        chunks_seen = 0
        for number, char in enumerate(typed, start=2):
            t0 = time.perf_counter()
            position = Position(line, column)
            document.apply_change(position, position, char, PositionEncoding.UTF16, number)
            if char == "\n":
                line, column = line + 1, 0
            else:
                column += 1
            snapshot = document.snapshot(KEYSTROKE_PARSE_SECONDS)
            current += snapshot.tree_current
            t1 = time.perf_counter()
            offset = snapshot.index.offset_at(Position(line, column), PositionEncoding.UTF16)
            window = cursor_window(snapshot, offset, 128, 32)
            mode = choose_mode(window, snapshot, offset)
            t2 = time.perf_counter()
            context = WorkspaceContext(index, [snapshot, other.snapshot()])
            chunks = context.gather(snapshot, line, (window.first_line, line + 32))
            chunks_seen = max(chunks_seen, len(chunks))
            t3 = time.perf_counter()
            redact(window.prefix)
            redact(window.suffix)
            for chunk in chunks:
                if chunk.text not in chunk_redactions:
                    chunk_redactions[chunk.text] = redact(chunk.text, chunk.code)
            t3b = time.perf_counter()
            candidate = "queue.run_one(pending)\n        pool.completed += 1\n    return summary"
            postprocess(candidate, FilterContext(mode, "python", window.line_before,
                                                 window.line_after, window.suffix))
            t4 = time.perf_counter()
            if args.detect_secrets:
                detect_secrets_lines.append(window.line_before)
            # Between keystrokes, as in the server after the answer is sent: the background
            # parser finishes the reparse, and this keystroke's snapshots (and the trees only
            # they still hold) are freed.
            document.parse()
            del snapshot, context, chunks, window
            t5 = time.perf_counter()
            blocking.apply_change(position, position, char, PositionEncoding.UTF16, number)
            t6 = time.perf_counter()
            blocking.snapshot()
            t7 = time.perf_counter()
            for name, value in zip(timings, (t1 - t0, t2 - t1, t3 - t2, t3b - t3, t4 - t3b,
                                             t4 - t0, t5 - t4, t7 - t6)):
                timings[name].append(value * 1000)
            if number == 2:
                index.wait_idle()  # the first request fills the caches; later ones never wait
        index.close()

    print(f"context chunks found (max): {chunks_seen}; keystroke budget for parsing "
          f"{KEYSTROKE_PARSE_SECONDS * 1000:.1f} ms; tree current at the keystroke "
          f"{current}/{len(typed)}")
    labels = {"background": "rest of the parse and freeing old trees, between keystrokes",
              "blocking": "a blocking reparse, for comparison"}
    for name, values in timings.items():
        steady = values[1:]
        print(f"{name:>13}: p50 {statistics.median(steady):6.2f} ms   "
              f"p95 {percentile(steady, .95):6.2f} ms   max {max(steady):6.2f} ms"
              + (f"   ({labels[name]})" if name in labels else ""))
    print(f"redaction of the whole file at once (all lines new, as when it opens): "
          f"{cold:.1f} ms")
    if args.detect_secrets:
        _time_detect_secrets(detect_secrets_lines, text)
    return 0


def _time_detect_secrets(cursor_lines: list[str], text: str) -> None:
    """detect-secrets on the same keystrokes: the cursor's line each time, then the file."""
    try:
        from detect_secrets.core.scan import scan_line
        from detect_secrets.settings import default_settings
    except ImportError:
        print("detect-secrets: not installed (pip install detect-secrets)")
        return
    with default_settings():
        list(scan_line("warm = 'up'"))
        per_keystroke = []
        for line in cursor_lines:
            started = time.perf_counter()
            list(scan_line(line))
            per_keystroke.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        for line in text.split("\n"):
            list(scan_line(line))
        whole = (time.perf_counter() - started) * 1000
    print(f"detect-secrets, the cursor's line per keystroke: p50 "
          f"{statistics.median(per_keystroke):6.2f} ms   p95 "
          f"{percentile(per_keystroke, .95):6.2f} ms; the whole file: {whole:.0f} ms")


if __name__ == "__main__":
    sys.exit(main())
