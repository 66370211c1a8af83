"""Generate or update the doc of one definition: analyse, merge, fill slots, render, place."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from llama_lsp.context.documents import DocumentSnapshot
from llama_lsp.context.syntax.outline import Definition, outline
from llama_lsp.features.actions.analysis import DOCUMENTED_KINDS, Target, analyze, indent_unit
from llama_lsp.features.actions.docmodel import SUMMARY, Docstring
from llama_lsp.features.actions.merge import merge, missing_slots
from llama_lsp.features.actions.parse_comment import parse_go, parse_rust, parse_tagged
from llama_lsp.features.actions.parse_python import STYLES, Style, detect_style, \
    parse_python_docstring
from llama_lsp.features.actions.placement import Edit, place, string_prefix
from llama_lsp.features.actions.render import render
from llama_lsp.features.actions.slots import fill_slots, go_summary, tidy
from llama_lsp.features.audit import lines_of
from llama_lsp.features.guard import Privacy
from llama_lsp.model.backend import Backend, ModelError

DEFAULT_STYLE: Style = "google"


def source_of(snapshot: DocumentSnapshot) -> bytes:
    """The snapshot's text as tree-sitter sees it."""
    return snapshot.text.encode("utf-8", "surrogatepass")


def file_style(definitions: list[Definition], setting: str) -> Style:
    """The Python docstring style: the setting, else the most common one in the file."""
    if setting in STYLES:
        return setting  # type: ignore[return-value]
    votes = Counter(style for d in definitions if d.doc and (style := detect_style(d.doc)))
    return votes.most_common(1)[0][0] if votes else DEFAULT_STYLE


def parse_existing(target: Target, style: Style) -> Docstring | None:
    """The target's current doc as data, or None."""
    text = target.doc_text
    if text is None:
        return None
    language = target.language_id
    if language == "python":
        return parse_python_docstring(text, detect_style(text) or style)
    if language == "go":
        return parse_go(text)
    if language == "rust":
        return parse_rust(text)
    return parse_tagged(text)


@dataclass
class DocPlan:
    """What a docstring action will write, before the model fills the empty slots."""

    target: Target
    doc: Docstring
    slots: list[str]
    style: Style
    unit: str
    raw: bool = False
    """Python: the docstring is a raw string (the model's backslashes stay as they are)."""


def documentable(definitions: list[Definition]) -> list[Definition]:
    """Definitions that can carry a doc (functions, methods, classes, types)."""
    return [d for d in definitions if d.kind in DOCUMENTED_KINDS]


def target_at(snapshot: DocumentSnapshot, definitions: list[Definition],
              byte_offset: int) -> Definition | None:
    """The innermost documentable definition around ``byte_offset`` (a cursor in a line's
    indentation counts as on the line's first character)."""
    byte_offset = past_indentation(source_of(snapshot), byte_offset)
    around = [d for d in documentable(definitions)
              if d.start_byte <= byte_offset <= d.end_byte
              or (d.doc_start_byte is not None and d.doc_start_byte <= byte_offset < d.start_byte)]
    if not around:
        return None
    return max(around, key=lambda d: (d.start_byte, -d.end_byte))


def past_indentation(source: bytes, byte_offset: int) -> int:
    """``byte_offset``, moved to the line's first non-blank character when it is before it."""
    line_start = source.rfind(b"\n", 0, byte_offset) + 1
    end = line_start
    while end < len(source) and source[end] in b" \t":
        end += 1
    return max(byte_offset, end) if byte_offset <= end else byte_offset


def plan(snapshot: DocumentSnapshot, definition: Definition, definitions: list[Definition],
         style_setting: str) -> DocPlan:
    """Analyse ``definition`` and merge its doc with its signature."""
    assert snapshot.tree is not None and snapshot.language is not None
    target = analyze(definition, snapshot.tree, source_of(snapshot),
                     snapshot.language.language_id)
    style = file_style(definitions, style_setting)
    doc = merge(parse_existing(target, style), target)
    raw = target.language_id == "python" and target.doc_node_range is not None and "r" in \
        string_prefix(source_of(snapshot), target.doc_node_range).lower()
    return DocPlan(target, doc, missing_slots(doc, target), style, indent_unit(snapshot.text),
                   raw)


def definition_source(snapshot: DocumentSnapshot, target: Target) -> str:
    """The definition's text (decorators included), for the prompt."""
    source = source_of(snapshot)
    return source[target.definition.start_byte:target.definition.end_byte].decode(
        "utf-8", "replace")


def fill(plan_: DocPlan, snapshot: DocumentSnapshot, backend: Backend | None,
         is_cancelled: Callable[[], bool], privacy: Privacy = Privacy(), path: str = "") -> None:
    """Ask the model for the plan's empty slots (no call when none are empty)."""
    if not plan_.slots:
        return
    if backend is None:
        raise ModelError("no model is loaded")
    text = definition_source(snapshot, plan_.target)
    definition = plan_.target.definition
    filled = fill_slots(backend, plan_.target, text, plan_.slots, is_cancelled, privacy,
                        (lines_of(path or snapshot.uri, definition.start_line, text,
                                  "definition"),))
    apply_answers(plan_, filled)


def apply_answers(plan_: DocPlan, answers: dict[str, str]) -> None:
    """Put the model's prose (tidied; Go summaries start with the name) in the plan's slots."""
    for key, text in answers.items():
        text = tidy(text)
        if plan_.target.language_id == "python" and not plan_.raw:
            text = text.replace("\\", "\\\\")  # existing text is source; the model's is not
        if key == SUMMARY and plan_.target.language_id == "go":
            text = go_summary(plan_.target.name, text)
        plan_.doc.fill(key, text)
    plan_.slots = [slot for slot in plan_.slots if slot not in answers]


def edit_for(plan_: DocPlan, snapshot: DocumentSnapshot) -> Edit:
    """The text edit writing the plan's doc in place (slots must be filled)."""
    source = source_of(snapshot)
    target = plan_.target
    prefix = string_prefix(source, target.doc_node_range) \
        if target.language_id == "python" and target.doc_node_range else ""
    line_comments = bool(target.doc_text and target.language_id in ("c", "cpp")
                         and target.doc_text.lstrip().startswith("///"))
    lines = render(plan_.doc, target, plan_.style, plan_.unit, prefix, line_comments)
    return place(source, snapshot.text, target, lines, plan_.unit)


def outline_of(snapshot: DocumentSnapshot) -> list[Definition]:
    """All definitions of the snapshot (empty without a tree)."""
    if snapshot.tree is None or snapshot.language is None:
        return []
    return outline(snapshot.tree, source_of(snapshot), snapshot.language)
