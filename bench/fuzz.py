"""Long fuzz runs against the real server on stdio (the strategies of ``tests/test_fuzz.py``).

Sends hostile LSP traffic (every registered method with mutated params, broken JSON, broken
frames) in small batches, rotating through the utf-8, utf-16 and utf-32 position encodings,
and after each batch checks that every request got exactly one reply and the server still
answers. Prints what it tried and what broke:

    python bench/fuzz.py                       # 10,000 messages, a tiny random-weight model
    python bench/fuzz.py --messages 50000 --model path/to/model.gguf

A crash (the process died) or a hang (no answer within --timeout) restarts the server.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from lsp_fuzz import NOT_IN_SESSION, FuzzSession, FuzzStats, messages, templates  # noqa: E402

ENCODINGS = ["utf-8", "utf-16", "utf-32"]
MEAN_BATCH = 3  # st.lists(min_size=1, max_size=5)


def run(model: str, total: int, timeout: float, stats: FuzzStats) -> None:
    methods = sorted(set(templates(model)) - NOT_IN_SESSION)
    per_encoding = max(1, total // len(ENCODINGS))
    for encoding in ENCODINGS:
        session = FuzzSession(model, encoding, stats)
        goal = stats.tried + per_encoding

        @settings(max_examples=per_encoding // MEAN_BATCH + 20, deadline=None, database=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(batch=st.lists(messages(model, methods, session.next_id), min_size=1,
                              max_size=2 * MEAN_BATCH - 1))
        def batches(batch: list) -> None:
            if stats.tried >= goal:
                return
            try:
                session.send(batch, timeout)
            except OSError as error:
                stats.problems.append(f"client error: {error}")
            if stats.tried % 1000 < len(batch):
                print(f"  {encoding}: {stats.tried} messages...", file=sys.stderr)

        while stats.tried < goal:  # batches are 1-5 messages: top up to the goal
            batches()
        session.finish(timeout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--model", help="a .gguf file (default: a tiny random-weight model)")
    parser.add_argument("--timeout", type=float, default=30,
                        help="seconds a request may take before it counts as a hang")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        model = args.model
        if model is None:
            from tiny_models import write_tiny_model

            model = str(write_tiny_model(Path(folder) / "tiny.gguf", fim=True,
                                         constant_output="x").path)
        stats = FuzzStats()
        started = time.perf_counter()
        run(model, args.messages, args.timeout, stats)
        elapsed = time.perf_counter() - started

    print(f"tried       {stats.tried} messages ({stats.requests} requests expecting a reply, "
          f"{elapsed:.0f} s, {stats.tried / elapsed:.0f} messages/s)")
    print(f"crashes     {stats.crashes}")
    print(f"hangs       {stats.hangs}")
    print(f"unanswered  {stats.unanswered}")
    print(f"duplicates  {stats.duplicates}")
    print(f"slow        {stats.slow} (answered after --timeout, or cancelled by shutdown: "
          "model jobs)")
    print(f"peak RSS    {stats.peak_rss_kib / 1024:.0f} MiB (server process)")
    for problem in stats.problems[:20]:
        print(f"  - {problem}")
    for slow in stats.slow_methods[:10]:
        print(f"  slow: {slow}")
    broken = stats.crashes + stats.hangs + stats.unanswered + stats.duplicates
    return 1 if broken or stats.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
