"""Parse existing Python docstrings (Google, NumPy, Sphinx) into a :class:`Docstring`.

Whatever is not recognised is kept verbatim (as description or extra sections), so rendering
the parsed docstring again never drops a sentence the user wrote.
"""

from __future__ import annotations

import inspect
import textwrap
import re
from typing import Literal

from llama_lsp.features.actions.docmodel import Docstring, Entry

Style = Literal["google", "numpy", "sphinx"]
STYLES: tuple[Style, ...] = ("google", "numpy", "sphinx")

_PARAM_HEADINGS = {"args", "arguments", "parameters", "params", "attributes",
                   "keyword args", "keyword arguments", "other parameters"}
_RETURN_HEADINGS = {"returns", "return"}
_YIELD_HEADINGS = {"yields", "yield"}
_RAISE_HEADINGS = {"raises", "raise", "exceptions"}
_GOOGLE_HEADING = re.compile(r"^([A-Z][A-Za-z ]*):\s*$")
_NUMPY_UNDERLINE = re.compile(r"^\s*-{3,}\s*$")
_GOOGLE_ENTRY = re.compile(r"^(\*{0,2}[\w.]+)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")
_SPHINX_FIELD = re.compile(r"^:(\w+)(?:\s+([^:]+?))?:\s*(.*)$")


def detect_style(docstring: str) -> Style | None:
    """The style a docstring is written in, or None when it has no sections."""
    if re.search(r"^\s*:(param|returns?|raises?|type|rtype|yields?|ivar)\b", docstring, re.M):
        return "sphinx"
    lines = docstring.splitlines()
    for first, second in zip(lines, lines[1:]):
        if first.strip() and _NUMPY_UNDERLINE.match(second):
            return "numpy"
    for line in lines:
        match = _GOOGLE_HEADING.match(line.strip())
        if match and match.group(1).lower() in (
                _PARAM_HEADINGS | _RETURN_HEADINGS | _YIELD_HEADINGS | _RAISE_HEADINGS):
            return "google"
    return None


def parse_python_docstring(content: str, style: Style | None = None) -> Docstring:
    """Parse a docstring's content (without quotes) written in ``style`` (detected if None)."""
    text = inspect.cleandoc(content.replace("\r\n", "\n"))
    style = style or detect_style(text) or "google"
    lines = text.split("\n")
    if style == "sphinx":
        return _parse_sphinx(lines)
    if style == "numpy":
        return _parse_numpy(lines)
    return _parse_google(lines)


def _split_prose(lines: list[str], doc: Docstring) -> None:
    """Summary (first paragraph) and description (the rest) from prose lines."""
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return
    blank = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    doc.summary = "\n".join(lines[:blank]).strip()
    doc.description = "\n".join(lines[blank:]).strip("\n")


def _dedent(lines: list[str]) -> str:
    return textwrap.dedent("\n".join(lines)).strip("\n") if any(line.strip() for line in lines) \
        else ""


def _entries(lines: list[str], numpy: bool) -> list[Entry]:
    """Entries of a parameter/raises section: a name line, then deeper continuation lines
    (Google: joined with spaces; NumPy: the description lines, kept as lines)."""
    entries: list[Entry] = []
    for line in _dedent(lines).split("\n"):
        if not line.strip():
            continue
        if line[0] not in " \t":
            if numpy:
                name, _, type_text = line.partition(":")
                entries.append(Entry(name.strip(), "", type_text.strip() or None))
                continue
            if match := _GOOGLE_ENTRY.match(line):
                entries.append(Entry(match.group(1), match.group(3).strip(), match.group(2)))
                continue
        if not entries:
            entries.append(Entry(line.strip()))
            continue
        entry = entries[-1]
        joiner = "\n" if numpy else " "
        entry.text = f"{entry.text}{joiner}{line.strip()}" if entry.text else line.strip()
    return entries


def _assign(doc: Docstring, heading: str, lines: list[str], numpy: bool) -> None:
    key = heading.lower()
    if key in _PARAM_HEADINGS and not key.startswith(("keyword", "other")):
        doc.params.extend(_entries(lines, numpy))
    elif key in _RAISE_HEADINGS:
        doc.raises.extend(_entries(lines, numpy))
    elif key in _RETURN_HEADINGS or key in _YIELD_HEADINGS:
        body = _dedent(lines)
        if numpy:
            first, _, rest = body.partition("\n")
            type_line, body = (first.strip(), _dedent(rest.split("\n"))) if rest.strip() \
                else (None, first.strip())
            if key in _RETURN_HEADINGS:
                doc.returns_type = type_line
        if key in _RETURN_HEADINGS:
            doc.returns = body
        else:
            doc.yields = body
    else:
        doc.extra.append((heading, _dedent(lines)))


def _parse_google(lines: list[str]) -> Docstring:
    doc = Docstring()
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    for line in lines:
        match = _GOOGLE_HEADING.match(line) if line[:1] not in (" ", "\t") else None
        if match:
            sections.append((match.group(1), []))
        elif sections[-1][0] is not None and line.strip() and line[0] not in " \t":
            sections.append((None, [line]))  # prose after a section ended
        else:
            sections[-1][1].append(line)
    _split_prose(sections[0][1], doc)
    for heading, body in sections[1:]:
        if heading is None:
            if _dedent(body):
                doc.extra.append((None, _dedent(body)))
        else:
            _assign(doc, heading, body, numpy=False)
    return doc


def _parse_numpy(lines: list[str]) -> Docstring:
    doc = Docstring()
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    index = 0
    while index < len(lines):
        line = lines[index]
        if index + 1 < len(lines) and line.strip() and _NUMPY_UNDERLINE.match(lines[index + 1]):
            sections.append((line.strip(), []))
            index += 2
            continue
        sections[-1][1].append(line)
        index += 1
    _split_prose(sections[0][1], doc)
    for heading, body in sections[1:]:
        assert heading is not None
        _assign(doc, heading, body, numpy=True)
    return doc


def _parse_sphinx(lines: list[str]) -> Docstring:
    doc = Docstring()
    prose: list[str] = []
    fields: list[tuple[str, str | None, list[str]]] = []
    for line in lines:
        match = _SPHINX_FIELD.match(line.strip()) if line[:1] not in (" ", "\t") else None
        if match:
            fields.append((match.group(1), match.group(2), [match.group(3)]))
        elif fields and (line[:1] in (" ", "\t") or not line.strip()):
            fields[-1][2].append(line.strip())
        elif fields:
            fields.append(("", None, [line]))  # prose after the fields
        else:
            prose.append(line)
    _split_prose(prose, doc)
    types: dict[str, str] = {}
    for name, argument, body in fields:
        text = " ".join(part for part in body if part).strip()
        if name in ("param", "parameter", "arg", "argument", "key", "keyword", "ivar", "var"):
            words = (argument or "").split()
            entry = Entry(words[-1] if words else "", text,
                          " ".join(words[:-1]) or None)
            doc.params.append(entry)
        elif name == "type" and argument:
            types[argument.strip()] = text
        elif name in ("returns", "return"):
            doc.returns = text
        elif name == "rtype":
            doc.returns_type = text
        elif name in ("yields", "yield"):
            doc.yields = text
        elif name in ("raises", "raise", "except", "exception"):
            doc.raises.append(Entry((argument or "").strip(), text))
        elif name == "":
            doc.extra.append((None, "\n".join(body).strip()))
        else:
            doc.extra.append((f":{name}{' ' + argument if argument else ''}:", text))
    for entry in doc.params:
        entry.type = entry.type or types.get(entry.name)
    return doc
