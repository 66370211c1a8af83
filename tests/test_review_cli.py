"""``llama-lsp review`` end to end: real git repositories, the tiny random-weight model run as a
real process (its JSON-schema grammar forces well-formed answers), exit codes and config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from review_helpers import GitRepo, ScriptedBackend, finding
from tiny_models import TinyModelInfo

from llama_lsp.cli import review as review_cli
from llama_lsp.cli.main import main

CLI = [sys.executable, "-m", "llama_lsp", "review"]
SCHEMA = Path(__file__).parent / "data" / "sarif" / "sarif-schema-2.1.0.json"
WORKTREE = Path(__file__).resolve().parents[1]


CACHE_KEY = {"REVIEW_CACHE_KEY": "a-secret-only-the-ci-job-has"}


def _run(cwd: Path, *args: str, stdin: str | None = None,
         env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items()
           if key not in ("GITHUB_STEP_SUMMARY", "LLAMA_LSP_MODEL")}
    env["PYTHONPATH"] = str(WORKTREE)
    env.update(env_extra or {})
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=240,
                          input=stdin, env=env)


@pytest.fixture()
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.write("calc.py", "def total(xs):\n    return 0\n")
    repo.write("README.md", "# demo\n")
    repo.write("yarn.lock", "a\n")
    repo.commit("base")
    repo.write("calc.py", "def total(xs):\n    s = 0\n    for i in range(len(xs) + 1):\n"
                          "        s += xs[i]\n    return s\n")
    repo.write("README.md", "# demo\n\nMore words.\n")
    repo.write("yarn.lock", "b\n")
    repo.write("ünï cödé.py", "x = 'ä'\n")
    repo.commit("change")
    return repo


def _check_report(document: dict) -> None:
    summary = document["summary"]
    assert summary["units_reviewed"] + len(document["skipped_units"]) == summary["units_total"]
    assert len(document["reviewed_units"]) == summary["units_reviewed"]
    assert summary["units_total"] >= 3


def test_review_base_writes_every_format(repo: GitRepo, tiny_fim_model: TinyModelInfo) -> None:
    out = repo.root / "out"
    done = _run(repo.root, "--base", "HEAD~1", "--model", str(tiny_fim_model.path),
                "--format", "json", "--output", f"sarif={out}/r.sarif",
                "--output", f"markdown={out}/summary.md", "--output", f"rdjsonl={out}/r.jsonl",
                "--output", f"gitlab={out}/gl.json", "--output", f"github={out}/gh.txt",
                "--output", f"text={out}/r.txt", "--min-confidence", "low")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "review: [" in done.stderr  # plain log lines
    document = json.loads(done.stdout)
    _check_report(document)
    assert {"path": "yarn.lock", "reason": "lockfile"} in document["skipped_files"]
    jsonschema.validate(json.loads((out / "r.sarif").read_text()),
                        json.loads(SCHEMA.read_text()), cls=jsonschema.Draft4Validator)
    for finding_ in document["findings"]:
        assert finding_["path"] in ("calc.py", "README.md", "ünï cödé.py")
    assert "yarn.lock" in (out / "summary.md").read_text()
    assert isinstance(json.loads((out / "gl.json").read_text()), list)


def test_same_diff_gives_the_same_report_and_cache_reuses_it(
        repo: GitRepo, tiny_fim_model: TinyModelInfo, tmp_path: Path) -> None:
    args = ("--base", "HEAD~1", "--model", str(tiny_fim_model.path), "--format", "json",
            "--min-confidence", "low", "--cache-dir", str(tmp_path / "cache"),
            "--cache-key-env", "REVIEW_CACHE_KEY")
    first = json.loads(_run(repo.root, *args, env_extra=CACHE_KEY).stdout)
    second = json.loads(_run(repo.root, *args, env_extra=CACHE_KEY).stdout)
    assert first["findings"] == second["findings"]
    assert first["skipped_units"] == second["skipped_units"]
    assert second["summary"]["units_cached"] == first["summary"]["units_reviewed"]
    uncached = json.loads(_run(repo.root, *args[:-4]).stdout)
    assert uncached["findings"] == first["findings"]
    no_key = _run(repo.root, *args)  # e.g. a pull request from a fork: no secrets, no cache
    assert no_key.returncode == 0 and "no cache: $REVIEW_CACHE_KEY is empty" in no_key.stderr
    assert json.loads(no_key.stdout)["summary"]["units_cached"] == 0
    no_key_env = _run(repo.root, *args[:-2])
    assert no_key_env.returncode == 2 and "needs --cache-key-env" in no_key_env.stderr


def test_staged_and_stdin_diffs(repo: GitRepo, tiny_fim_model: TinyModelInfo) -> None:
    repo.write("calc.py", "def total(xs):\n    return sum(xs)\n")
    repo.git("add", "calc.py")
    staged = _run(repo.root, "--staged", "--model", str(tiny_fim_model.path), "--format", "json")
    assert staged.returncode == 0, staged.stderr
    document = json.loads(staged.stdout)
    assert document["source"] == "staged changes" and document["summary"]["units_total"] == 1
    diff = repo.git("diff", "--cached")
    piped = _run(repo.root, "--diff", "-", "--model", str(tiny_fim_model.path), "--format",
                 "json", stdin=diff)
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["summary"]["units_total"] == 1


def test_config_file_and_flag_overrides(repo: GitRepo, tiny_fim_model: TinyModelInfo,
                                        tmp_path: Path) -> None:
    ci_config = tmp_path / "review.toml"
    ci_config.write_text('[review]\nexclude = ["*.md"]\nmax-units = 1\n')
    done = _run(repo.root, "--base", "HEAD~1", "--model", str(tiny_fim_model.path),
                "--format", "json", "--config", str(ci_config))
    document = json.loads(done.stdout)
    assert {"path": "README.md", "reason": "excluded by config"} in document["skipped_files"]
    assert document["summary"]["units_total"] == 2
    assert any("limit of 1 units" in u["reason"] for u in document["skipped_units"])
    overridden = json.loads(_run(repo.root, "--base", "HEAD~1", "--model",
                                 str(tiny_fim_model.path), "--format", "json",
                                 "--config", str(ci_config), "--max-units", "5").stdout)
    assert not any("limit of" in u["reason"] for u in overridden["skipped_units"])


@pytest.mark.parametrize("args, message", [
    (["--base", "no-such-ref"], "unknown git ref"),
    (["--base", "HEAD~1", "--output", "sarif"], "FORMAT=PATH"),
    (["--base", "HEAD~1", "--output", "pdf=x.pdf"], "unknown format"),
    (["--base", "HEAD~1", "--model", "/nonexistent/model.gguf"], "does not exist"),
    (["--diff", "missing.diff"], "cannot read diff"),
    (["--base", "HEAD~1", "--format", "pdf"], "invalid choice"),
    (["--max-units", "3"], "one of the arguments --base --staged --diff is required"),
    (["--base", "HEAD~1", "--max-units", "0"], "'max_units' must be a positive integer"),
])
def test_user_errors_exit_2_with_one_line(repo: GitRepo, tiny_fim_model: TinyModelInfo,
                                          args: list[str], message: str) -> None:
    model = [] if "--model" in args else ["--model", str(tiny_fim_model.path)]
    done = _run(repo.root, *args, *model)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len([line for line in done.stderr.splitlines() if "llama-lsp review:" in line]) == 1
    assert "usage:" not in done.stderr


def test_not_a_git_repo_bad_config_and_bad_diff_exit_2(tmp_path: Path,
                                                       tiny_fim_model: TinyModelInfo) -> None:
    model = ["--model", str(tiny_fim_model.path)]
    outside = _run(tmp_path, "--base", "main", *model)
    assert outside.returncode == 2 and "not a git repository" in outside.stderr
    (tmp_path / "bad.diff").write_text("--- a/x\n+++ b/x\n@@ nonsense\n")
    bad_diff = _run(tmp_path, "--diff", "bad.diff", *model)
    assert bad_diff.returncode == 2 and "hunk header" in bad_diff.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.llama-lsp.review]\nfail-on = "sometimes"\n')
    bad_config = _run(tmp_path, "--diff", "bad.diff", *model)
    assert bad_config.returncode == 2 and "'fail-on' must be one of" in bad_config.stderr
    for done in (outside, bad_diff, bad_config):
        assert "Traceback" not in done.stderr


def test_fail_on_sets_exit_1_and_github_overflow_goes_to_the_summary(
        repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    def answer(prompt: str) -> dict[str, object]:
        change = prompt[prompt.index("The change,"):]
        lines = [int(row.split("|")[0][1:]) for row in change.splitlines()
                 if row.startswith("+ ") and "|" in row]
        return {"findings": [finding(n, "warning") for n in lines[:3]]}

    monkeypatch.setattr(review_cli, "load_backend", lambda settings: ScriptedBackend(answer))
    monkeypatch.chdir(repo.root)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["review", "--base", "HEAD~1", "--fail-on", "error", "--quiet"]) == 0
    assert main(["review", "--base", "HEAD~1", "--fail-on", "warning", "--quiet"]) == 1
    assert main(["review", "--base", "HEAD~1", "--fail-on", "info", "--quiet",
                 "--format", "github"]) == 1
    out = capsys.readouterr().out
    assert "::warning file=calc.py,line=2" in out
    assert not summary.exists()  # nothing over the caps
    monkeypatch.setattr(review_cli.github_caps, "PER_LEVEL", 1)
    assert main(["review", "--base", "HEAD~1", "--quiet", "--format", "github"]) == 0
    assert "Not annotated" in summary.read_text()


def test_nothing_to_review_needs_no_model(repo: GitRepo, tmp_path: Path) -> None:
    missing = str(tmp_path / "absent.gguf")
    empty = _run(repo.root, "--staged", "--model", missing, "--format", "json")
    assert empty.returncode == 0, empty.stderr
    assert json.loads(empty.stdout)["model"] == "not loaded"
    repo.write("yarn.lock", "c\n")
    repo.commit("lockfile only")
    lock_only = _run(repo.root, "--base", "HEAD~1", "--model", missing, "--format", "json")
    assert lock_only.returncode == 0, lock_only.stderr
    assert json.loads(lock_only.stdout)["skipped_files"] == [
        {"path": "yarn.lock", "reason": "lockfile"}]


def test_model_settings_table_reaches_the_model_settings(
        repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []

    def load(settings):  # type: ignore[no-untyped-def]
        seen.append(settings)
        return ScriptedBackend(lambda p: {"findings": []})

    repo.write("ci.toml", '[review]\nmodel-settings = { contextSize = 2048 }\n')
    monkeypatch.setattr(review_cli, "load_backend", load)
    monkeypatch.chdir(repo.root)
    assert main(["review", "--base", "HEAD~1", "--quiet", "--threads", "3",
                 "--config", "ci.toml"]) == 0
    assert (seen[0].context_size, seen[0].threads) == (2048, 3)
    repo.write("ci.toml", '[review]\nmodel-settings = { contextSize = "big" }\n')
    assert main(["review", "--base", "HEAD~1", "--quiet", "--config", "ci.toml"]) == 2


def test_unrelated_histories_explain_the_missing_merge_base(
        repo: GitRepo, tiny_fim_model: TinyModelInfo) -> None:
    repo.git("checkout", "-q", "--orphan", "other")
    repo.write("z.py", "z = 1\n")
    repo.commit("unrelated")
    done = _run(repo.root, "--base", "main", "--model", str(tiny_fim_model.path))
    assert done.returncode == 2 and "fetch-depth" in done.stderr, done.stderr
