"""Golden cases for the completion post-processing filters (format: tests/golden/README.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from llama_lsp.context.callee import python_parameters
from llama_lsp.features.completion.postprocess import (
    FILTERS,
    CompletionMode,
    FilterContext,
    postprocess,
)

GOLDEN = Path(__file__).parent / "golden" / "postprocess"
CURSOR = "<|cursor|>"
SECTIONS = ("document", "candidate", "expected")
_SECTION_LINE = re.compile(r"^--- (\w+) ---$")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "s": " ", "\\": "\\"}
FILTERS_BY_NAME = {apply.__name__: apply for apply in FILTERS}


@dataclass(frozen=True)
class GoldenCase:
    """One parsed case file."""

    path: Path
    filter_name: str
    context: FilterContext
    candidate: str
    expected: str


def _unescape(text: str, path: Path) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(1) not in _ESCAPES:
            raise ValueError(f"{path}: unknown escape \\{match.group(1)}")
        return _ESCAPES[match.group(1)]

    return re.sub(r"\\(.)", replace, text)


def _context(document: str, language: str, mode: CompletionMode,
             max_lines: int | None, callee: str | None = None) -> FilterContext:
    before, after = document.split(CURSOR)
    line_start = max(before.rfind("\n"), before.rfind("\r")) + 1
    line_after = re.split(r"\r\n|\r|\n", after, maxsplit=1)[0]
    extra: dict[str, object] = {} if max_lines is None else {"max_lines": max_lines}
    if callee is not None:
        first = callee.partition("(")[2].split(",")[0].strip(" )")
        extra["callee"] = python_parameters(callee, bound_first=first in ("self", "cls"))
    return FilterContext(mode=mode, language_id=language, line_before=before[line_start:],
                         line_after=line_after, suffix=after, **extra)


def load_case(path: Path) -> GoldenCase:
    """Parse one case file."""
    text = path.read_text(encoding="utf-8")
    lines = text.removesuffix("\n").split("\n")
    header: dict[str, str] = {}
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for number, line in enumerate(lines, start=1):
        match = _SECTION_LINE.match(line)
        if match:
            name = match.group(1)
            if name not in SECTIONS or name in sections:
                raise ValueError(f"{path}:{number}: unexpected or repeated section {name!r}")
            current = sections[name] = []
        elif current is not None:
            current.append(line)
        elif line.strip() and not line.startswith("#"):
            key, colon, value = line.partition(":")
            if not colon:
                raise ValueError(f"{path}:{number}: header lines are 'key: value'")
            header[key.strip()] = value.strip()
    missing = [name for name in SECTIONS if name not in sections]
    unknown = set(header) - {"language", "mode", "max_lines", "escapes", "callee"}
    if missing or unknown or "language" not in header or "mode" not in header:
        raise ValueError(f"{path}: missing sections {missing}, unknown headers {sorted(unknown)}, "
                         "or no language/mode header")
    escapes = header.get("escapes", "off")
    if escapes not in ("on", "off"):
        raise ValueError(f"{path}: escapes must be on or off")
    content = {name: "\n".join(body) for name, body in sections.items()}
    if escapes == "on":
        content = {name: _unescape(body, path) for name, body in content.items()}
    if content["document"].count(CURSOR) != 1:
        raise ValueError(f"{path}: the document needs exactly one {CURSOR}")
    max_lines = int(header["max_lines"]) if "max_lines" in header else None
    return GoldenCase(
        path=path,
        filter_name=path.parent.name,
        context=_context(content["document"], header["language"],
                         CompletionMode(header["mode"]), max_lines, header.get("callee")),
        candidate=content["candidate"],
        expected=content["expected"],
    )


CASE_PATHS = sorted(GOLDEN.glob("*/*.txt"))


def _case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def test_there_are_golden_cases_for_every_filter():
    folders = {path.parent.name for path in CASE_PATHS}
    assert folders == set(FILTERS_BY_NAME) | {"all"}


@pytest.mark.parametrize("path", CASE_PATHS, ids=_case_id)
def test_golden_case(path: Path):
    case = load_case(path)
    if case.filter_name == "all":
        result = postprocess(case.candidate, case.context)
    else:
        result = FILTERS_BY_NAME[case.filter_name](case.candidate, case.context)
    assert result == case.expected, (
        f"\n{path.relative_to(GOLDEN)}\n--- candidate ---\n{case.candidate}\n"
        f"--- expected ---\n{case.expected!r}\n--- got ---\n{result!r}"
    )


# --- the loader itself --------------------------------------------------------------------------


def test_loader_builds_the_context_from_the_cursor(tmp_path: Path):
    folder = tmp_path / "remove_suffix_overlap"
    folder.mkdir()
    case_file = folder / "case.txt"
    case_file.write_text(
        "# a comment\nlanguage: go\nmode: single-line\nmax_lines: 3\nescapes: on\n"
        "--- document ---\nfunc f() {\\r\n\\tfoo(<|cursor|>)\\r\n}\n"
        "--- candidate ---\nx)\\s\n--- expected ---\nx\n",
        encoding="utf-8",
    )
    case = load_case(case_file)
    assert case.filter_name == "remove_suffix_overlap"
    assert case.context == FilterContext(
        mode=CompletionMode.SINGLE_LINE, language_id="go", line_before="\tfoo(",
        line_after=")", suffix=")\r\n}", max_lines=3)
    assert case.candidate == "x) "
    assert case.expected == "x"


def test_loader_keeps_sections_literal_without_escapes(tmp_path: Path):
    case_file = tmp_path / "case.txt"
    case_file.write_text(
        "language: python\nmode: multi-line\n--- document ---\ns = '\\n'\n<|cursor|>\n"
        "--- candidate ---\na\n\n--- expected ---\n",
        encoding="utf-8",
    )
    case = load_case(case_file)
    assert case.context.line_before == ""
    assert case.context.suffix == ""
    assert case.candidate == "a\n"
    assert case.expected == ""
    assert case.context.max_lines == FilterContext(CompletionMode.MULTI_LINE, "x", "", "",
                                                   "").max_lines


@pytest.mark.parametrize(
    "text",
    [
        "language: python\n--- document ---\n<|cursor|>\n--- candidate ---\n--- expected ---\n",
        "language: python\nmode: single-line\n--- document ---\nx\n--- candidate ---\n"
        "--- expected ---\n",
        "language: python\nmode: single-line\n--- document ---\n<|cursor|>\n--- candidate ---\n",
        "language: python\nmode: single-line\ncolour: red\n--- document ---\n<|cursor|>\n"
        "--- candidate ---\n--- expected ---\n",
        "language: python\nmode: single-line\nescapes: on\n--- document ---\n<|cursor|>\n"
        "--- candidate ---\n\\q\n--- expected ---\n",
    ],
)
def test_loader_rejects_malformed_cases(tmp_path: Path, text: str):
    case_file = tmp_path / "bad.txt"
    case_file.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError):
        load_case(case_file)
