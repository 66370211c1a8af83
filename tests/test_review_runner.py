"""Review runs over real git repositories with a scripted model: anchoring, filters, caps,
fingerprints, cache and the no-silent-drop rule."""

from __future__ import annotations

import dataclasses

import re
from pathlib import Path

from review_helpers import GitRepo, ScriptedBackend, finding

from llama_lsp.features.review.cache import AnswerCache
from llama_lsp.features.review.config import ReviewConfig
from llama_lsp.features.review.diff import parse_diff
from llama_lsp.features.review.report import ReviewReport
from llama_lsp.features.review.runner import Reviewer
from llama_lsp.features.review.source import DiffSource

BASE = "def total(xs):\n    s = 0\n    return s\n\n\ndef other():\n    return 1\n"
BUGGY = ("def total(xs):\n    s = 0\n    for i in range(len(xs) + 1):\n        s += xs[i]\n"
         "    return s\n\n\ndef other():\n    return 1\n")


def _line_of(prompt: str, needle: str) -> int:
    """The number of the first line of the change containing ``needle`` (0 when there is none)."""
    for row in prompt[prompt.index("The change,"):].splitlines():
        if needle in row and (match := re.match(r"[+ ] +(\d+) \| ", row)):
            return int(match.group(1))
    return 0


def _run(repo: GitRepo, backend: ScriptedBackend, config: ReviewConfig | None = None,
         cache: AnswerCache | None = None, base: str = "HEAD~1") -> ReviewReport:
    source = DiffSource("base", repo.root, base)
    files = parse_diff(source.diff_text())
    return Reviewer(backend, config or ReviewConfig(), cache).review(
        files, source.new_content, source.new_size)


def _repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.write("calc.py", BASE)
    repo.commit("base")
    repo.write("calc.py", BUGGY)
    repo.commit("bug")
    return repo


def test_finding_on_changed_line_is_reported_with_code_and_columns(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    backend = ScriptedBackend(lambda p: {"findings": [
        finding(_line_of(p, "xs[i]"), "error", message="index out of range")]})
    report = _run(repo, backend)
    (found,) = report.findings
    assert (found.path, found.line, found.severity) == ("calc.py", 4, "error")
    assert found.code == "s += xs[i]" and found.end_column == len("        s += xs[i]") + 1
    assert report.units_reviewed == report.units_total == 1


def test_finding_on_unchanged_line_is_never_a_finding(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    backend = ScriptedBackend(lambda p: {"findings": [
        finding(_line_of(p, "s = 0"), confidence="high", message="confident, unchanged"),
        finding(_line_of(p, "return s"), confidence="medium", message="unsure, unchanged")]})
    report = _run(repo, backend)
    assert report.findings == []
    assert [n.message for n in report.notes] == ["confident, unchanged"]
    assert report.dropped == {"not on an added or changed line": 1}


def test_range_reaching_into_changed_lines_is_narrowed_to_them(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    backend = ScriptedBackend(lambda p: {"findings": [finding(1, end_line=9)]})
    (found,) = _run(repo, backend).findings
    assert (found.line, found.end_line) == (3, 4)


def test_filters_gate_suppress_categories_and_out_of_unit_lines(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    backend = ScriptedBackend(lambda p: {"findings": [
        finding(3, confidence="low"),
        finding(3, message="Missing docstring for total"),
        finding(3, category="style", message="odd spacing"),
        finding(500, message="nowhere"),
        finding(4, message="kept"),
    ]})
    report = _run(repo, backend)
    assert [f.message for f in report.findings] == ["kept"]
    assert report.dropped == {
        "below the confidence gate": 1, "suppressed by the do-not-report list": 1,
        "category style ignored": 1, "line outside the reviewed code": 1}
    relaxed = _run(repo, backend, ReviewConfig(min_confidence="low", suppress=(),
                                               ignore_categories=()))
    assert len(relaxed.findings) == 4


def test_fingerprints_are_stable_across_runs_wording_and_line_shifts(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    words = iter(["index out of range", "off by one", "reads past the end"])
    backend = ScriptedBackend(lambda p: {"findings": [
        finding(_line_of(p, "xs[i]"), message=next(words))] if "xs[i]" in p else []})
    first = _run(repo, backend).findings[0]
    again = _run(repo, backend).findings[0]
    repo.write("calc.py", "import math\n\n\n" + BUGGY)  # three lines above the finding
    repo.commit("shift")
    shifted = _run(repo, backend, base="HEAD~2").findings[0]
    assert shifted.line == first.line + 3 and shifted.message != first.message
    assert first.fingerprint() == again.fingerprint() == shifted.fingerprint()


def test_caps_per_file_and_per_run_keep_the_most_severe(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("a.py", "x = 0\n")
    repo.write("b.py", "y = 0\n")
    repo.commit()
    repo.write("a.py", "x = 0\n" + "".join(f"a{i} = {i}\n" for i in range(6)))
    repo.write("b.py", "y = 0\n" + "".join(f"b{i} = {i}\n" for i in range(6)))
    repo.commit()
    severities = ["info", "warning", "error"]
    backend = ScriptedBackend(lambda p: {"findings": [
        finding(n, severities[n % 3], message=f"m{n}") for n in (2, 3, 4)]})
    report = _run(repo, backend, ReviewConfig(max_findings_per_file=2, max_findings=3))
    assert len(report.findings) == 3 and len(report.capped) == 3
    assert {f.severity for f in report.findings} <= {"error", "warning"}
    assert max(sum(f.path == p for f in report.findings) for p in ("a.py", "b.py")) == 2


def test_every_unit_is_reviewed_or_listed(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("big.py", "start = 0\n")
    repo.write("data.bin", b"\x00\x01")
    repo.write("poetry.lock", "a\n")
    repo.commit()
    repo.write("big.py", "start = 0\n" + "".join(f"v{i} = {i}\n" for i in range(2000)))
    repo.write("data.bin", b"\x00\x02")
    repo.write("poetry.lock", "b\n")
    repo.commit()
    backend = ScriptedBackend(lambda p: {"findings": []})
    report = _run(repo, backend, ReviewConfig(max_units=5, max_unit_lines=100))
    assert report.units_total > 5 and report.units_reviewed == 5
    assert len(report.skipped_units) == report.units_total - 5
    assert all("limit of 5 units" in u.reason for u in report.skipped_units)
    assert {(s.path, s.reason) for s in report.skipped_files} == {
        ("data.bin", "binary"), ("poetry.lock", "lockfile")}


def test_unusable_answers_are_listed_not_dropped(tmp_path: Path) -> None:
    repo = _repo(tmp_path)

    class Broken(ScriptedBackend):
        def generate(self, request, is_cancelled):  # type: ignore[no-untyped-def]
            result = super().generate(request, is_cancelled)
            return type(result)(result.text[:10], 10, result.n_prompt, 0, "length", 1, 1)

    report = _run(repo, Broken(lambda p: {"findings": [finding(3)]}))
    assert report.units_reviewed == 0
    assert len(report.skipped_units) == 1 and "did not finish" in report.skipped_units[0].reason


def test_cache_answers_unchanged_units_without_the_model(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    repo.write("calc.py", BUGGY + "\n\ndef added():\n    return 2\n")
    repo.commit("more")
    cache = AnswerCache(tmp_path / "cache", b"k" * 32)
    backend = ScriptedBackend(lambda p: {"findings": [finding(_line_of(p, "+ "), "error")]})
    first = _run(repo, backend, cache=cache, base="HEAD~2")
    assert first.units_reviewed == 2 and first.units_cached == 0 and len(backend.prompts) == 2
    second = _run(repo, backend, cache=cache, base="HEAD~2")
    assert second.units_cached == 2 and len(backend.prompts) == 2
    assert [f.fingerprint() for f in second.findings] == [f.fingerprint() for f in first.findings]
    repo.write("calc.py", BUGGY + "\n\ndef added():\n    return 3\n")  # one unit changes
    repo.commit("tweak")
    third = _run(repo, backend, cache=cache, base="HEAD~3")
    assert third.units_cached == 1 and len(backend.prompts) == 3
    other_model = ScriptedBackend(lambda p: {"findings": []}, path="other.gguf")
    assert _run(repo, other_model, cache=cache, base="HEAD~3").units_cached == 0
    other_key = AnswerCache(tmp_path / "cache", b"x" * 32)
    assert _run(repo, backend, cache=other_key, base="HEAD~3").units_cached == 0


def test_cache_entries_that_are_not_signed_with_the_key_are_misses(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path / "cache", b"k" * 32)
    cache.put("key", '{"findings": [1]}')
    assert cache.get("key") == '{"findings": [1]}'
    (entry,) = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    signed = entry.read_bytes()
    entry.write_bytes(signed.replace(b"[1]", b"[ ]"))  # altered answer, old signature
    assert cache.get("key") is None
    entry.write_bytes(b'{"findings": []}')  # a bare answer, as a contributor could commit it
    assert cache.get("key") is None
    entry.unlink()
    outside = tmp_path / "outside.txt"
    outside.write_bytes(signed)
    entry.symlink_to(outside)  # a link to a real signed entry is still not followed
    assert cache.get("key") is None
    cache.put("key", "{}")
    assert outside.read_bytes() == signed and not entry.is_symlink()


def test_diff_file_without_matching_tree_is_rebuilt_from_hunks(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    text = DiffSource("base", repo.root, "HEAD~1").diff_text()
    repo.write("calc.py", "def total(xs):\n    return 42\n")  # the tree no longer matches
    backend = ScriptedBackend(lambda p: {"findings": [finding(_line_of(p, "xs[i]"))]})
    source = DiffSource("file", repo.root)
    report = Reviewer(backend, ReviewConfig()).review(parse_diff(text), source.new_content,
                                                      source.new_size)
    (found,) = report.findings
    assert found.line == 4 and found.code == "s += xs[i]"
    assert "(plaintext)" in backend.prompts[0]
    elsewhere = Reviewer(backend, ReviewConfig()).review(
        parse_diff(text), lambda path: None, lambda path: None)
    assert elsewhere.findings[0].line == 4


def test_parallel_jobs_only_for_thread_safe_backends_and_same_report(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("m.py", "x = 0\n")
    repo.commit()
    repo.write("m.py", "x = 0\n" + "".join(f"\n\n\ndef f{i}():\n    return {i}\n" for i in range(8)))
    repo.commit()
    answer = lambda p: {"findings": [finding(_line_of(p, "return"))]}  # noqa: E731
    serial = _run(repo, ScriptedBackend(answer), ReviewConfig(max_unit_lines=4))
    safe = ScriptedBackend(answer)
    safe.info = dataclasses.replace(safe.info, parallel_safe=True)
    parallel = _run(repo, safe, ReviewConfig(max_unit_lines=4, jobs=4))
    assert serial.units_reviewed == parallel.units_reviewed == 8
    assert [f.fingerprint() for f in serial.findings] == \
        [f.fingerprint() for f in parallel.findings]


def test_progress_is_a_bar_on_a_terminal_and_log_lines_otherwise() -> None:
    import io

    from llama_lsp.features.review.progress import BarProgress, LogProgress, progress_for

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    bar = progress_for(Terminal())
    assert isinstance(bar, BarProgress)
    bar.start(2)
    bar.done("a.py: function f", 1.0, False)
    bar.close()
    stream = io.StringIO()
    log = progress_for(stream)
    assert isinstance(log, LogProgress)
    log.start(2)
    log.done("a.py: function f", 1.25, False)
    log.done("b.py: lines 1-3", 0.0, True)
    assert stream.getvalue().splitlines() == [
        "review: 2 unit(s) to review", "review: [1/2] a.py: function f (1.2 s)",
        "review: [2/2] b.py: lines 1-3 (cached)"]


def test_time_budget_lists_the_units_it_had_no_time_for(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("m.py", "x = 0\n")
    repo.commit()
    repo.write("m.py", "x = 0\n" + "".join(f"\n\n\ndef f{i}():\n    return {i}\n" for i in range(3)))
    repo.commit()

    class Slow(ScriptedBackend):
        def generate(self, request, is_cancelled):  # type: ignore[no-untyped-def]
            import time

            time.sleep(1.2)
            return super().generate(request, is_cancelled)

    report = _run(repo, Slow(lambda p: {"findings": []}),
                  ReviewConfig(max_unit_lines=4, max_seconds=1))
    assert report.units_reviewed == 1 and report.units_total == 3
    assert [u.reason for u in report.skipped_units] == ["over the time budget of 1 s"] * 2
