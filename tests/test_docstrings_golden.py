"""Golden cases for docstring formatting, placement and update in place (format:
tests/golden/README.md, section ``docstrings/``). No model: the case supplies the prose."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from llama_lsp.context.documents import Document
from llama_lsp.features.actions import docstrings
from llama_lsp.features.actions.service import byte_offset, validate_edit

GOLDEN = Path(__file__).parent / "golden" / "docstrings"
CURSOR = "<|cursor|>"
SECTIONS = ("document", "answers", "expected")
HEADERS = {"language", "style", "escapes"}
LANGUAGES = {"python", "javascript", "typescript", "go", "rust", "java", "c", "cpp"}
_SECTION_LINE = re.compile(r"^--- (\w+) ---$")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "s": " ", "\\": "\\"}
_EXTENSIONS = {"python": "py", "javascript": "js", "typescript": "ts", "go": "go",
               "rust": "rs", "java": "java", "c": "c", "cpp": "cpp"}


@dataclass(frozen=True)
class DocCase:
    """One parsed case file."""

    language: str
    style: str
    document: str
    cursor: int
    answers: dict[str, str]
    expected: str


def _unescape(text: str, path: Path) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(1) not in _ESCAPES:
            raise ValueError(f"{path}: unknown escape \\{match.group(1)}")
        return _ESCAPES[match.group(1)]

    return re.sub(r"\\(.)", replace, text)


def load_case(path: Path) -> DocCase:
    """Parse one case file."""
    lines = path.read_text(encoding="utf-8").removesuffix("\n").split("\n")
    header: dict[str, str] = {}
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for number, line in enumerate(lines, start=1):
        match = _SECTION_LINE.match(line)
        if match:
            if match.group(1) not in SECTIONS or match.group(1) in sections:
                raise ValueError(f"{path}:{number}: unexpected or repeated section")
            current = sections[match.group(1)] = []
        elif current is not None:
            current.append(line)
        elif line.strip() and not line.startswith("#"):
            key, colon, value = line.partition(":")
            if not colon or key.strip() not in HEADERS:
                raise ValueError(f"{path}:{number}: unknown header line {line!r}")
            header[key.strip()] = value.strip()
    if set(sections) != set(SECTIONS) or header.get("language") not in LANGUAGES:
        raise ValueError(f"{path}: needs a known language and sections {SECTIONS}")
    content = {name: "\n".join(body) for name, body in sections.items()}
    if header.get("escapes", "off") == "on":
        content = {name: _unescape(body, path) for name, body in content.items()}
    if content["document"].count(CURSOR) != 1:
        raise ValueError(f"{path}: the document needs exactly one {CURSOR}")
    answers = {}
    for line in content["answers"].split("\n"):
        if line.strip():
            key, equals, value = line.partition(" = ")
            if not equals:
                raise ValueError(f"{path}: answers are 'slot = text' lines, got {line!r}")
            answers[key.strip()] = value.strip()
    return DocCase(header["language"], header.get("style", "auto"),
                   content["document"].replace(CURSOR, ""),
                   content["document"].index(CURSOR), answers, content["expected"])


def run_case(case: DocCase) -> tuple[list[str], str]:
    """The slots the plan asks for, and the document after the edit."""
    uri = f"file:///case.{_EXTENSIONS[case.language]}"
    snapshot = Document(uri, case.language, 1, case.document, 10**7).snapshot()
    definitions = docstrings.outline_of(snapshot)
    definition = docstrings.target_at(snapshot, definitions,
                                      byte_offset(snapshot.text, case.cursor))
    assert definition is not None, "no documentable definition at the cursor"
    plan = docstrings.plan(snapshot, definition, definitions, case.style)
    asked = list(plan.slots)
    docstrings.apply_answers(plan, case.answers)
    edit = docstrings.edit_for(plan, snapshot)
    validate_edit(snapshot, edit, definition, check_doc=True)
    return asked, edit.apply(snapshot.text)


CASE_PATHS = sorted(GOLDEN.glob("*/*.txt"))


def test_every_language_has_golden_cases() -> None:
    assert {path.parent.name for path in CASE_PATHS} == LANGUAGES


@pytest.mark.parametrize("path", CASE_PATHS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden_case(path: Path) -> None:
    case = load_case(path)
    asked, result = run_case(case)
    assert sorted(asked) == sorted(case.answers), "the slots asked of the model"
    assert result == case.expected, (
        f"\n{path.relative_to(GOLDEN)}\n--- expected ---\n{case.expected}\n--- got ---\n{result}")
