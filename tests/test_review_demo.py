"""``llama-lsp review`` with the real demo model on a planted bug: the run completes with a valid,
anchored report. The quality of a 270M model's findings is not asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from review_helpers import GitRepo

pytestmark = pytest.mark.demo_model

SCHEMA = Path(__file__).parent / "data" / "sarif" / "sarif-schema-2.1.0.json"
WORKTREE = Path(__file__).resolve().parents[1]


def test_planted_off_by_one_review_completes_with_a_valid_report(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("stats.py", "def mean(xs):\n    return sum(xs) / len(xs)\n")
    repo.commit("base")
    repo.write("stats.py", "def mean(xs):\n    return sum(xs) / len(xs)\n\n\n"
                           "def total(xs):\n    s = 0\n    for i in range(len(xs) + 1):\n"
                           "        s += xs[i]\n    return s\n")
    repo.commit("planted bug")
    env = {key: value for key, value in os.environ.items()
           if key not in ("GITHUB_STEP_SUMMARY", "LLAMA_LSP_MODEL")}
    env["PYTHONPATH"] = str(WORKTREE)
    done = subprocess.run(
        [sys.executable, "-m", "llama_lsp", "review", "--base", "HEAD~1", "--format", "json",
         "--output", f"sarif={tmp_path / 'r.sarif'}", "--min-confidence", "low",
         "--fail-on", "error"],
        cwd=repo.root, capture_output=True, text=True, timeout=280, env=env)
    assert done.returncode in (0, 1), done.stderr
    document = json.loads(done.stdout)
    assert "gemma" in document["model"].lower()
    summary = document["summary"]
    assert summary["units_total"] == 1
    assert summary["units_reviewed"] + len(document["skipped_units"]) == 1
    added = set(range(5, 10))
    for finding in document["findings"]:
        assert finding["path"] == "stats.py" and finding["line"] in added
        assert finding["end_line"] in added
    assert (done.returncode == 1) == any(f["severity"] == "error" for f in document["findings"])
    jsonschema.validate(json.loads((tmp_path / "r.sarif").read_text()),
                        json.loads(SCHEMA.read_text()), cls=jsonschema.Draft4Validator)
