"""Deterministic formatters: a :class:`Docstring` rendered in one language's doc style.

Each renderer returns the doc's lines (delimiters included, no base indentation, no line
breaks); :mod:`placement` indents them and joins them with the file's line ending.
"""

from __future__ import annotations

import re

from llama_lsp.features.actions.analysis import Parameter, Target
from llama_lsp.features.actions.docmodel import Docstring, Entry
from llama_lsp.features.actions.parse_python import Style

TAGGED_LANGUAGES = frozenset({"javascript", "typescript", "typescriptreact", "java", "c", "cpp"})


def _lines(text: str) -> list[str]:
    return text.split("\n") if text else []


def _prose(doc: Docstring) -> list[str]:
    lines = _lines(doc.summary)
    if doc.description:
        lines += ["", *_lines(doc.description)]
    return lines


def _indented(text: str, indent: str) -> list[str]:
    return [indent + line if line.strip() else "" for line in _lines(text)]


def _entry_lines(head: str, text: str, indent: str) -> list[str]:
    """``head`` followed by the first line of ``text``, later lines indented by ``indent``."""
    first, *rest = _lines(text) or [""]
    return [f"{head} {first}".rstrip(), *[indent + line if line.strip() else "" for line in rest]]


# ---------------------------------------------------------------------------------------------
# Python


def _google(doc: Docstring, target: Target, unit: str) -> list[str]:
    sections: list[list[str]] = []
    if doc.params:
        heading = "Attributes:" if target.fields_are_attributes else "Args:"
        body = [heading]
        for entry in doc.params:
            head = f"{entry.name} ({entry.type}):" if entry.type else f"{entry.name}:"
            body += [unit + line if line else "" for line in
                     _entry_lines(head, entry.text, unit)]
        sections.append(body)
    for heading, text in (("Returns:", doc.returns), ("Yields:", doc.yields)):
        if text:
            sections.append([heading, *_indented(text, unit)])
    if doc.raises:
        body = ["Raises:"]
        for entry in doc.raises:
            body += [unit + line if line else "" for line in
                     _entry_lines(f"{entry.name}:", entry.text, unit)]
        sections.append(body)
    for heading, text in doc.extra:
        sections.append(_lines(text) if heading is None else [f"{heading}:",
                                                                *_indented(text, unit)])
    return _join_sections(_prose(doc), sections)


def _numpy(doc: Docstring, target: Target, unit: str) -> list[str]:
    def heading(title: str) -> list[str]:
        return [title, "-" * len(title)]

    sections: list[list[str]] = []
    if doc.params:
        body = heading("Attributes" if target.fields_are_attributes else "Parameters")
        for entry in doc.params:
            body += [f"{entry.name} : {entry.type}" if entry.type else entry.name,
                     *_indented(entry.text, unit)]
        sections.append(body)
    for title, text, type_line in (
            ("Returns", doc.returns, doc.returns_type or target.return_type),
            ("Yields", doc.yields, _yielded_type(target.return_type))):
        if text:  # without a known type, the description stands alone
            body = [type_line, *_indented(text, unit)] if type_line else _lines(text)
            sections.append([*heading(title), *body])
    if doc.raises:
        body = heading("Raises")
        for entry in doc.raises:
            body += [entry.name, *_indented(entry.text, unit)]
        sections.append(body)
    for title, text in doc.extra:
        sections.append(_lines(text) if title is None else [*heading(title), *_lines(text)])
    return _join_sections(_prose(doc), sections)


def _yielded_type(return_type: str | None) -> str | None:
    if not return_type:
        return None
    match = re.match(r"[\w.]*(?:Generator|Iterator|Iterable)\[([^,\]]+)", return_type)
    return match.group(1).strip() if match else None


def _sphinx(doc: Docstring, target: Target, unit: str) -> list[str]:
    fields: list[str] = []
    field_name = "ivar" if target.fields_are_attributes else "param"
    for entry in doc.params:
        fields += _entry_lines(f":{field_name} {entry.name}:", entry.text, unit)
        if entry.type:
            fields.append(f":type {entry.name}: {entry.type}")
    if doc.returns:
        fields += _entry_lines(":returns:", doc.returns, unit)
        if doc.returns_type:
            fields.append(f":rtype: {doc.returns_type}")
    if doc.yields:
        fields += _entry_lines(":yields:", doc.yields, unit)
    for entry in doc.raises:
        fields += _entry_lines(f":raises {entry.name}:", entry.text, unit)
    sections = [fields] if fields else []
    for heading, text in doc.extra:
        sections.append(_lines(text) if heading is None else _entry_lines(heading, text, unit))
    return _join_sections(_prose(doc), sections)


def _join_sections(prose: list[str], sections: list[list[str]]) -> list[str]:
    lines = list(prose)
    for section in sections:
        if lines:
            lines.append("")
        lines += section
    return lines


_PYTHON_STYLES = {"google": _google, "numpy": _numpy, "sphinx": _sphinx}


def render_python(doc: Docstring, target: Target, style: Style, unit: str,
                  prefix: str = "") -> list[str]:
    """A triple-quoted docstring; one line when it is only a summary."""
    body = _PYTHON_STYLES[style](doc, target, unit)
    body = [line.replace('"""', '\\"\\"\\"') for line in body]
    if len(body) <= 1:
        return [f'{prefix}"""{body[0] if body else ""}"""']
    return [f'{prefix}"""{body[0]}', *body[1:], '"""']


# ---------------------------------------------------------------------------------------------
# Tag styles: JSDoc (JavaScript), TSDoc (TypeScript), Javadoc (Java), Doxygen (C, C++)


def _js_type(parameter: Parameter | None, entry: Entry) -> str:
    if entry.type:
        return entry.type
    if parameter is None:
        return "*"
    if parameter.type:
        return parameter.type
    default = (parameter.default or "").strip()
    if re.fullmatch(r"-?[\d_.]+(e-?\d+)?", default):
        return "number"
    if default[:1] in ("'", '"', "`"):
        return "string"
    if default in ("true", "false"):
        return "boolean"
    if default.startswith("["):
        return "Array"
    if default.startswith("{"):
        return "Object"
    return "*"


def _tag_body(doc: Docstring, target: Target) -> list[str]:
    language = target.language_id
    jsdoc = language == "javascript"
    tsdoc = language in ("typescript", "typescriptreact")
    doxygen = language in ("c", "cpp")
    lines = _prose(doc)
    if doxygen and lines and not doc.plain_summary:
        lines[0] = f"@brief {lines[0]}"
    tags: list[str] = []
    parameters = {p.key: p for p in target.parameters}
    for entry in doc.params:
        if jsdoc:
            head = f"@param {{{_js_type(parameters.get(entry.key), entry)}}} {entry.name}"
        else:
            head = f"@param {entry.name}"
        separator = " -" if (jsdoc or tsdoc) and entry.text else ""
        tags += _entry_lines(head + separator, entry.text, "  ")
    returns_tag = "@returns" if (jsdoc or tsdoc) else "@return"
    if doc.returns:
        type_text = doc.returns_type or _js_return_type(target)
        head = f"{returns_tag} {{{type_text}}}" if jsdoc and type_text else returns_tag
        tags += _entry_lines(head, doc.returns, "  ")
    if doc.yields:
        tags += _entry_lines("@yields", doc.yields, "  ")
    for entry in doc.raises:
        if jsdoc:
            head = f"@throws {{{entry.name}}}"
        elif tsdoc:
            head = f"@throws {{@link {entry.name}}}"
        else:
            head = f"@throws {entry.name}"
        tags += _entry_lines(head, entry.text, "  ")
    for heading, text in doc.extra:
        tags += _lines(text) if heading is None else _entry_lines(heading, text, "  ")
    if tags and lines:
        lines.append("")
    return lines + tags


def _js_return_type(target: Target) -> str:
    return target.return_type or "*"


def render_tagged(doc: Docstring, target: Target, line_comments: bool = False) -> list[str]:
    """``/** ... */`` (one line when only a summary), or ``///`` lines when asked."""
    body = [line.replace("*/", "*\\/") for line in _tag_body(doc, target)]
    if line_comments:
        return [f"/// {line}".rstrip() for line in body]
    if len(body) == 1:
        return [f"/** {body[0]} */"]
    return ["/**", *[f" * {line}".rstrip() for line in body], " */"]


# ---------------------------------------------------------------------------------------------
# Go and Rust


def render_go(doc: Docstring, target: Target) -> list[str]:
    """``// Name ...`` line comments."""
    return [f"// {line}".rstrip() for line in _prose(doc)]


def render_rust(doc: Docstring, target: Target) -> list[str]:
    """``///`` lines with ``# Arguments``, ``# Errors`` and ``# Panics`` sections."""
    sections: list[list[str]] = []
    if doc.params:
        body = ["# Arguments", ""]
        for entry in doc.params:
            body += _entry_lines(f"* `{entry.name}` -", entry.text, "  ")
        sections.append(body)
    for heading, text in (("# Returns", doc.returns), ("# Errors", doc.errors),
                          ("# Panics", doc.panics)):
        if text:
            sections.append([heading, "", *_lines(text)])
    for heading, text in doc.extra:
        sections.append(_lines(text) if heading is None else [f"# {heading}", "", *_lines(text)])
    return [f"/// {line}".rstrip() for line in _join_sections(_prose(doc), sections)]


def render(doc: Docstring, target: Target, style: Style, unit: str, prefix: str = "",
           line_comments: bool = False) -> list[str]:
    """The doc of ``target`` in its language's format."""
    language = target.language_id
    if language == "python":
        return render_python(doc, target, style, unit, prefix)
    if language == "go":
        return render_go(doc, target)
    if language == "rust":
        return render_rust(doc, target)
    return render_tagged(doc, target, line_comments)
