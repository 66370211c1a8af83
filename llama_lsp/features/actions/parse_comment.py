"""Parse existing doc comments: JSDoc/TSDoc/Javadoc/Doxygen tags, Go ``//``, Rust ``///``."""

from __future__ import annotations

import re

from llama_lsp.features.actions.docmodel import Docstring, Entry

_TAG = re.compile(r"^[@\\](\w+)(?:\[[^\]]*\])?\s*(.*)$")
_BRACED_TYPE = re.compile(r"^\{(.*?)\}\s*(.*)$", re.S)
_RUST_HEADING = re.compile(r"^#\s+(.+?)\s*$")
_RUST_ARGUMENT = re.compile(r"^[*-]\s+`?([\w.]+)`?\s*(?:-|:)?\s*(.*)$")


def comment_lines(comment: str) -> list[str]:
    """The text of a comment block without its markers (``/** * */``, ``///``, ``//``)."""
    text = comment.replace("\r\n", "\n").strip()
    if text.startswith("/*"):
        text = re.sub(r"^/\*[*!]?", "", text)
        text = re.sub(r"\*/$", "", text)
        lines = [re.sub(r"^\s*\*( |$)?", "", line) if line.lstrip().startswith("*")
                 else line.strip() for line in text.split("\n")]
    else:
        lines = [re.sub(r"^\s*//[/!]?( |$)?", "", line) for line in text.split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return [line.rstrip() for line in lines]


def _prose(lines: list[str], doc: Docstring) -> None:
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines:
        lines[0] = re.sub(r"^[@\\]brief\s+", "", lines[0])
    blank = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    doc.summary = "\n".join(lines[:blank]).strip()
    doc.description = "\n".join(lines[blank:]).strip("\n")


def parse_tagged(comment: str) -> Docstring:
    """JSDoc, TSDoc, Javadoc and Doxygen: prose, then ``@tag`` paragraphs."""
    doc = Docstring()
    lines = comment_lines(comment)
    prose: list[str] = []
    tags: list[tuple[str, list[str]]] = []
    for line in lines:
        match = _TAG.match(line.strip())
        if match and match.group(1) not in ("link", "code"):
            tags.append((match.group(1), [match.group(2)]))
        elif tags:
            tags[-1][1].append(line)
        else:
            prose.append(line)
    briefs = [" ".join(body).strip() for name, body in tags if name == "brief"]
    prose = briefs + prose
    _prose(prose, doc)
    doc.plain_summary = bool(doc.summary) and not briefs and not re.match(
        r"\s*[@\\]brief", "\n".join(lines))
    for name, body in tags:
        text = "\n".join(body).strip()
        if name in ("param", "arg", "argument"):
            type_text, rest = _split_type(text)
            parts = rest.split(None, 1)
            if not parts:
                continue
            name_text = parts[0].strip("[]").split("=")[0]
            description = parts[1] if len(parts) > 1 else ""
            description = re.sub(r"^-\s*", "", description)
            doc.params.append(Entry(name_text, description.strip(), type_text))
        elif name in ("returns", "return", "result"):
            doc.returns_type, doc.returns = _split_type(text)
        elif name in ("yields", "yield"):
            doc.yields = _split_type(text)[1]
        elif name in ("throws", "throw", "exception", "exceptions"):
            linked = re.match(r"^\{@link\s+([^}]+)\}\s*(.*)$", text, re.S)
            type_text, rest = (linked.group(1), linked.group(2)) if linked else _split_type(text)
            if type_text is None:
                parts = rest.split(None, 1)
                type_text, rest = (parts[0], parts[1] if len(parts) > 1 else "") if parts \
                    else ("", "")
            doc.raises.append(Entry(type_text.strip(), re.sub(r"^-\s*", "", rest).strip()))
        elif name != "brief":
            doc.extra.append((f"@{name}", text))
    return doc


def _split_type(text: str) -> tuple[str | None, str]:
    match = _BRACED_TYPE.match(text)
    if match and not match.group(1).startswith("@link"):
        return match.group(1), match.group(2).strip()
    return None, text.strip()


def parse_go(comment: str) -> Docstring:
    """Go: all prose; the first paragraph is the summary."""
    doc = Docstring()
    _prose(comment_lines(comment), doc)
    return doc


def parse_rust(comment: str) -> Docstring:
    """Rust ``///``: prose, then ``# Heading`` sections (Arguments, Errors, Panics, others)."""
    doc = Docstring()
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    fenced = False
    for line in comment_lines(comment):
        if line.strip().startswith("```"):
            fenced = not fenced
        match = None if fenced else _RUST_HEADING.match(line)
        if match:
            sections.append((match.group(1), []))
        else:
            sections[-1][1].append(line)
    _prose(sections[0][1], doc)
    for heading, body in sections[1:]:
        text = "\n".join(body).strip("\n")
        key = (heading or "").lower()
        if key in ("arguments", "parameters", "args"):
            for line in text.split("\n"):
                match = _RUST_ARGUMENT.match(line.strip())
                if match:
                    doc.params.append(Entry(match.group(1), match.group(2).strip()))
                elif doc.params and line.strip():
                    doc.params[-1].text += " " + line.strip()
        elif key == "errors":
            doc.errors = text.strip()
        elif key == "panics":
            doc.panics = text.strip()
        elif key == "returns":
            doc.returns = text.strip()
        else:
            doc.extra.append((heading, text))
    return doc
