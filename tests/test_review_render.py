"""Renderers: SARIF against the official 2.1.0 schema and GitHub's rules, GitHub annotation
caps and escaping, and golden outputs of every format."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from llama_lsp.features.review.findings import Finding
from llama_lsp.features.review.render import FORMATS, render
from llama_lsp.features.review.render.github import escape_data, escape_property, overflow
from llama_lsp.features.review.report import ReviewReport, UnitNote
from llama_lsp.features.review.skips import Skip

SCHEMA = Path(__file__).parent / "data" / "sarif" / "sarif-schema-2.1.0.json"
GOLDEN = Path(__file__).parent / "golden" / "review"


def _finding(path: str, line: int, severity: str = "warning", category: str = "bug",
             message: str = "problem", **extra: object) -> Finding:
    return Finding(path=path, line=line, end_line=int(extra.pop("end_line", line)),
                   severity=severity, category=category,
                   confidence=str(extra.pop("confidence", "high")), message=message,
                   code=str(extra.pop("code", f"code at {line}")), end_column=12,
                   **extra)  # type: ignore[arg-type]


def sample_report() -> ReviewReport:
    """A fixed report touching every renderer feature."""
    return ReviewReport(
        model="Gemma 3 270m",
        source="origin/main...HEAD",
        findings=[
            _finding("src/calc.py", 4, "error", message="Index i reaches len(xs): IndexError.",
                     end_line=5, suggestion="    for i in range(len(xs)):"),
            _finding("src/dir é/ünï.py", 2, "warning", "security",
                     "Shell command built from input, e.g. a, b: injection | risk"),
            _finding("web/app.ts", 10, "info", "performance", "100% of rows\nscanned twice",
                     confidence="medium"),
        ],
        notes=[_finding("src/calc.py", 1, message="Unchanged line note.")],
        capped=[_finding("src/calc.py", 9, "info", message="Over the cap.")],
        skipped_files=[Skip("poetry.lock", "lockfile"), Skip("logo.png", "binary")],
        skipped_units=[UnitNote("big.py", "lines 300-400", 300, 400,
                                "over the limit of 5 units per run")],
        truncated_units=[UnitNote("big.py", "function huge", 10, 129,
                                  "function huge spans lines 10-900; shown as lines 10-129")],
        dropped={"below the confidence gate": 2},
        files_reviewed=3, units_total=6, units_reviewed=5, units_cached=1,
        unit_seconds=[2.0, 4.0, 3.0], seconds=9.0,
    )


def test_sarif_validates_against_the_official_schema() -> None:
    log = json.loads(render("sarif", sample_report()))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator,
                        format_checker=jsonschema.FormatChecker())


def test_sarif_meets_github_code_scanning_rules() -> None:
    log = json.loads(render("sarif", sample_report()))
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "llama-lsp" and driver["rules"]
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert len(set(rule_ids)) == len(rule_ids)
    assert all(rule["shortDescription"]["text"] for rule in driver["rules"])
    assert len(run["results"]) == 3
    for result in run["results"]:
        assert result["ruleId"] in rule_ids
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["message"]["text"].strip()
        assert result["level"] in ("error", "warning", "note")
        (location,) = result["locations"]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        assert uri and not uri.startswith(("/", "file:")) and "://" not in uri
        assert " " not in uri and uri.isascii()
        region = location["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["endLine"] >= region["startLine"]
        assert region["startColumn"] >= 1 and region["endColumn"] >= 1
        fingerprint = result["partialFingerprints"]["primaryLocationLineHash"]
        assert fingerprint.endswith(":1") and len(fingerprint.split(":")[0]) == 32
    assert run["results"][1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] \
        == "src/dir%20%C3%A9/%C3%BCn%C3%AF.py"


def test_sarif_fingerprint_ignores_the_model_wording_and_line() -> None:
    one = _finding("a.py", 3, message="first wording", code="x = y[i]")
    two = _finding("a.py", 30, message="other wording", code="x = y[i]")
    assert one.fingerprint() == two.fingerprint()
    assert one.fingerprint() != _finding("a.py", 3, category="security",
                                         code="x = y[i]").fingerprint()
    assert one.fingerprint() != _finding("b.py", 3, code="x = y[i]").fingerprint()
    assert one.fingerprint() != _finding("a.py", 3, code="x = y[j]").fingerprint()


def test_duplicate_fingerprints_get_occurrence_numbers() -> None:
    report = ReviewReport(findings=[_finding("a.py", 1, code="pass"),
                                    _finding("a.py", 2, code="pass")])
    results = json.loads(render("sarif", report))["runs"][0]["results"]
    hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in results]
    assert hashes[0].split(":")[0] == hashes[1].split(":")[0]
    assert [h.split(":")[1] for h in hashes] == ["1", "2"]


def test_github_escaping_matches_the_actions_toolkit() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    line = render("github", sample_report()).splitlines()[1]
    assert line.startswith("::warning file=src/dir é/ünï.py,line=2,endLine=2,title=")
    assert line.endswith("::Shell command built from input, e.g. a, b: injection | risk")


def test_github_annotations_capped_at_10_per_level_and_50_in_all() -> None:
    findings = [_finding("a.py", n, severity, message=f"m{n}")
                for n, severity in enumerate(["error"] * 15 + ["warning"] * 12 + ["info"] * 3,
                                             start=1)]
    report = ReviewReport(findings=findings)
    lines = render("github", report).splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert sum(c.startswith("::error ") for c in commands) == 10
    assert sum(c.startswith("::warning ") for c in commands) == 10
    assert sum(c.startswith("::notice ") for c in commands) == 3
    assert len(overflow(report)) == 7
    assert lines[-1] == "llama-lsp: 7 more finding(s) are only in the step summary"
    many = ReviewReport(findings=[_finding("a.py", n, "error") for n in range(1, 80)])
    assert len([c for c in render("github", many).splitlines() if c.startswith("::")]) <= 50


def test_rdjsonl_lines_are_reviewdog_diagnostics() -> None:
    lines = render("rdjsonl", sample_report()).splitlines()
    first = json.loads(lines[0])
    assert first["severity"] == "ERROR" and first["source"]["name"] == "llama-lsp"
    assert first["location"]["range"]["start"] == {"line": 4, "column": 1}
    assert first["suggestions"][0]["text"] == "    for i in range(len(xs)):"
    assert [json.loads(line)["severity"] for line in lines] == ["ERROR", "WARNING", "INFO"]


def test_gitlab_code_quality_issues_have_unique_fingerprints() -> None:
    issues = json.loads(render("gitlab", sample_report()))
    assert {i["severity"] for i in issues} == {"critical", "major", "info"}
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    assert issues[0]["location"] == {"path": "src/calc.py", "lines": {"begin": 4, "end": 5}}


def test_markdown_lists_skips_truncations_caps_and_notes() -> None:
    text = render("markdown", sample_report())
    for needle in ("poetry.lock", "lockfile", "over the limit of 5 units", "shown as lines 10-129",
                   "Over the cap.", "Unchanged line note.", "injection \\| risk"):
        assert needle in text


@pytest.mark.parametrize("format_name", FORMATS)
def test_golden_output(format_name: str) -> None:
    path = GOLDEN / f"{format_name}.txt"
    actual = render(format_name, sample_report())
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("format_name", ["text", "sarif", "rdjsonl", "github", "gitlab"])
def test_notes_on_unchanged_lines_and_capped_findings_are_never_annotations(
        format_name: str) -> None:
    output = render(format_name, sample_report())
    assert "Unchanged line note." not in output and "Over the cap." not in output


def test_escape_helpers_keep_one_line_and_no_runner_command() -> None:
    import json

    from llama_lsp.features.review.escape import json_text, line_start, printable

    assert printable("plain/ä.py") == "plain/ä.py"
    assert printable("a\nb\x1b[31m\u202ec\u2028") == "a\\x0ab\\x1b[31m\\u202ec\\u2028"
    assert printable("x ##[error]y") == "x ##\\[error]y"
    assert line_start("::error::x") == "./::error::x" and line_start(" ::x") == "./ ::x"
    value = {"path": "a\n::b\x85\u202e##[x]\U000e0001"}
    text = json_text(value)
    assert json.loads(text) == value and text.isascii() and "##[" not in text
