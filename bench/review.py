"""Throughput and memory of ``llama-lsp review`` with the configured model (demo by default).

1. Refusal: a 69-byte diff whose hunk header claims line 1,000,000,000,000 of a missing file
   is fed to ``llama-lsp review --diff -``; prints its exit code (2), wall time (target < 1 s)
   and peak RSS (it once reached 17 GB).
2. Throughput: a git repository with a ~300-line diff (new and changed Python functions across
   three files) is reviewed through ``llama-lsp review`` run as a process, without cache. Prints
   the diff size, units, units/minute, p50/p95 seconds per unit and the total wall time
   (target: well under 5 minutes).
3. Peak memory: a 10,000-line diff is reviewed with ``--max-units`` (default 10; the rest are
   listed as not reviewed), and the child's peak RSS is printed next to the 300-line run's.
   Every unit is still built and accounted for, so the figure shows memory stays bounded.

    python bench/review.py
    python bench/review.py --model coder.gguf --big-lines 10000 --big-units 10
    python bench/review.py --refusal-only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def function(index: int, body_lines: int, changed: bool) -> str:
    """A small realistic Python function; ``changed`` alters its loop."""
    bound = "len(items) + 1" if changed and index % 4 == 0 else "len(items)"
    lines = [f"def process_{index}(items, limit={index}):",
             f'    """Sum the items of batch {index} up to a limit."""',
             "    total = 0",
             f"    for i in range({bound}):",
             "        value = items[i]",
             "        if value > limit:",
             "            continue",
             "        total += value * 2 if changed else value"]
    lines += [f"    total += {n}" for n in range(max(0, body_lines - len(lines) - 1))]
    lines.append("    return total")
    return "\n".join(lines).replace("if changed else value", "if value % 2 else value" if changed
                                    else "if False else value") + "\n\n\n"


def make_repo(directory: Path, files: int, functions: int, body_lines: int,
              base_functions: int | None = None) -> Path:
    """A repository whose last commit changes ``base_functions`` (default: half) functions and
    adds the rest, in each of ``files`` files."""
    repo = directory
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "bench@example.com")
    git(repo, "config", "user.name", "bench")
    for number in range(files):
        kept = functions // 2 if base_functions is None else base_functions
        text = "".join(function(i, body_lines, False) for i in range(kept))
        (repo / f"module_{number}.py").write_text("import math\n\n\n" + text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    for number in range(files):
        text = "".join(function(i, body_lines, True) for i in range(functions))
        (repo / f"module_{number}.py").write_text("import math\n\n\n" + text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "change")
    return repo


def added_lines(repo: Path) -> int:
    out = subprocess.run(["git", "diff", "--numstat", "HEAD~1...HEAD"], cwd=repo, check=True,
                         capture_output=True, text=True).stdout
    return sum(int(row.split()[0]) for row in out.splitlines())


def review(repo: Path, extra: list[str]) -> tuple[dict, float, int]:
    """Run ``llama-lsp review`` in a child process: (json report, wall seconds, peak RSS KiB)."""
    code = ("import resource, runpy, sys; sys.argv = ['llama-lsp'] + sys.argv[1:];"
            "from llama_lsp.cli.main import main; code = main();"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr);"
            "sys.exit(code)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, "review", "--base", "HEAD~1", "--format",
                           "json", "--quiet", *extra], cwd=repo, capture_output=True, text=True,
                          env=env)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"review failed: {done.stderr.strip()[-500:]}")
    peak = int(done.stderr.strip().splitlines()[-1])
    return json.loads(done.stdout), seconds, peak


HUGE_HUNK = "--- /dev/null\n+++ b/missing_file.py\n@@ -0,0 +1000000000000,1 @@\n+x=1\n"


def refusal(directory: Path) -> None:
    """Time and peak RSS of refusing the 69-byte diff (in a fresh git repository)."""
    directory.mkdir()
    git(directory, "init", "-q")
    code = ("import resource, sys; sys.argv = ['llama-lsp'] + sys.argv[1:];"
            "from llama_lsp.cli.main import main; code = main();"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr);"
            "sys.exit(code)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, "review", "--diff", "-"], cwd=directory,
                          input=HUGE_HUNK, capture_output=True, text=True, env=env, timeout=60)
    seconds = time.perf_counter() - started
    peak = int(done.stderr.strip().splitlines()[-1])
    print(f"{len(HUGE_HUNK.encode())}-byte diff claiming line 10^12: exit {done.returncode} in "
          f"{seconds:.2f} s wall (target < 1 s, Python start included); peak RSS "
          f"{peak / 1024:.0f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="a .gguf file (default: the demo model)")
    parser.add_argument("--big-lines", type=int, default=10_000, help="lines of the big diff")
    parser.add_argument("--big-units", type=int, default=10, help="--max-units for the big diff")
    parser.add_argument("--skip-big", action="store_true", help="only the 300-line run")
    parser.add_argument("--refusal-only", action="store_true", help="only the 69-byte diff")
    args = parser.parse_args()
    extra = ["--model", args.model] if args.model else []
    with tempfile.TemporaryDirectory() as scratch:
        refusal(Path(scratch) / "refusal")
        if args.refusal_only:
            return 0
        small = make_repo(Path(scratch) / "small", files=3, functions=14, body_lines=10)
        report, seconds, peak_small = review(small, extra)
        summary = report["summary"]
        print(f"~300-line diff: {added_lines(small)} added lines, {summary['units_total']} units, "
              f"{summary['units_reviewed']} reviewed, {len(report['skipped_units'])} not "
              f"reviewed, {summary['findings']} findings; filtered out: {report['dropped']}")
        per_unit = summary["p50_seconds_per_unit"]
        if summary["units_reviewed"]:
            rate = summary["units_reviewed"] / (summary["seconds"] / 60)
            print(f"  throughput: {rate:.1f} units/minute; p50 {per_unit:.1f} s/unit")
        print(f"  total: {seconds:.1f} s wall (review itself {summary['seconds']:.1f} s; "
              f"target < 300 s); peak RSS {peak_small / 1024:.0f} MiB")
        if args.skip_big:
            return 0
        functions = max(1, args.big_lines // 14)
        big = make_repo(Path(scratch) / "big", files=1, functions=functions, body_lines=12,
                        base_functions=0)
        report, seconds, peak_big = review(big, [*extra, "--max-units", str(args.big_units)])
        summary = report["summary"]
        print(f"{args.big_lines}-line diff: {added_lines(big)} added lines, "
              f"{summary['units_total']} units built, {summary['units_reviewed']} reviewed, "
              f"{len(report['skipped_units'])} listed as not reviewed; {seconds:.1f} s wall; "
              f"peak RSS {peak_big / 1024:.0f} MiB (300-line run: {peak_small / 1024:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
