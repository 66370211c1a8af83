"""Code actions over a document snapshot: what can be offered (instant, syntax tree only) and
the validated edit each one makes (model calls happen here, on the model thread)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from llama_lsp.context.documents import DocumentSnapshot
from tree_sitter import Node, Tree

from llama_lsp.context.syntax import walk
from llama_lsp.context.syntax.outline import Definition, outline
from llama_lsp.features.actions import codegen, docstrings, module_doc
from llama_lsp.features.actions.analysis import FUNCTION_KINDS, analyze, indent_unit
from llama_lsp.features.actions.placement import Edit, line_ending
from llama_lsp.features.actions.validate import EditRejected, check_edit, definition_after
from llama_lsp.features.guard import Privacy
from llama_lsp.model.backend import Backend, ModelError


class ActionKind(str, Enum):
    """The code actions this server makes."""

    DOCSTRING = "docstring"
    FIX = "fix"
    IMPLEMENT = "implement"


class ActionFailed(RuntimeError):
    """An action that cannot produce a safe edit; the message is for the user."""


class NoModel(ActionFailed):
    """The action needs the model and none is loaded."""


@dataclass(frozen=True)
class Offer:
    """One action to list: what it does and where its definition is (a byte offset)."""

    kind: ActionKind
    title: str
    byte_offset: int
    message: str = ""
    """The diagnostic's message (fixes only)."""


@dataclass(frozen=True)
class Problem:
    """A diagnostic from the client's code-action context, in byte offsets."""

    start_byte: int
    end_byte: int
    message: str


def byte_offset(text: str, offset: int) -> int:
    """UTF-8 byte offset of code-point ``offset`` in ``text``."""
    return len(text[:offset].encode("utf-8", "surrogatepass"))


def _usable(snapshot: DocumentSnapshot) -> bool:
    return snapshot.tree is not None and snapshot.language is not None and not snapshot.problem


def _innermost(definitions: list[Definition], start: int, end: int,
               kinds: frozenset[str]) -> Definition | None:
    around = [d for d in definitions if d.kind in kinds and d.start_byte <= start
              and end <= d.end_byte]
    return max(around, key=lambda d: (d.start_byte, -d.end_byte)) if around else None


MAX_PROBLEMS = 10
"""Diagnostics of one request that get a fix action (listing must stay instant)."""

_LEADING_LINE = (b"//", b"/*", b"*", b"#", b"@", b"[[", b"template")


def _leading_start(source: bytes, start: int) -> int:
    """Start of the comment, decorator and attribute lines directly above ``start``."""
    line_start = source.rfind(b"\n", 0, start) + 1
    while line_start > 0:
        previous = source.rfind(b"\n", 0, line_start - 1) + 1
        if not source[previous:line_start].strip().startswith(_LEADING_LINE):
            break
        line_start = previous
    return line_start


def _declaration_below(source: bytes, offset: int) -> int:
    """End of the first line below ``offset`` past comment/decorator lines (the declaration a
    doc comment at ``offset`` belongs to)."""
    line_end = source.find(b"\n", offset)
    while line_end >= 0:
        next_end = source.find(b"\n", line_end + 1)
        line = source[line_end + 1:next_end if next_end >= 0 else len(source)].strip()
        if not line.startswith(_LEADING_LINE):
            return next_end if next_end >= 0 else len(source)
        line_end = next_end
    return len(source)


def _top_level(tree: Tree, start_byte: int, end_byte: int) -> list[Node]:
    """The root's children that overlap ``[start_byte, end_byte]``."""
    return walk.children_overlapping(tree.root_node, start_byte, end_byte)


def _local_outline(snapshot: DocumentSnapshot, source: bytes, start_byte: int,
                   end_byte: int) -> list[Definition]:
    assert snapshot.tree is not None and snapshot.language is not None
    roots = _top_level(snapshot.tree, start_byte, end_byte)
    if not roots:
        return []
    return outline(snapshot.tree, source, snapshot.language, (start_byte, end_byte), roots)


def local_definitions(snapshot: DocumentSnapshot, start_byte: int, end_byte: int
                      ) -> list[Definition]:
    """The definitions around ``[start_byte, end_byte]`` (with the innermost one's doc and
    parameters), read from that part of the tree only: listing stays fast in big files."""
    source = docstrings.source_of(snapshot)
    start_byte = docstrings.past_indentation(source, start_byte)
    end_byte = max(start_byte, end_byte)
    line_start = source.rfind(b"\n", 0, start_byte) + 1
    line_end = source.find(b"\n", end_byte)
    end = line_end + 1 if line_end >= 0 else len(source)
    if source[line_start:end].strip().startswith(_LEADING_LINE):
        end = _declaration_below(source, end_byte)  # a doc comment: find its declaration
    around = _local_outline(snapshot, source, max(0, line_start - 1), end)
    containing = [d for d in around if d.start_byte <= start_byte <= d.end_byte
                  or (d.doc_start_byte is not None and d.doc_start_byte <= start_byte)
                  and start_byte < d.start_byte]
    if not containing:
        return around
    inner = max(containing, key=lambda d: (d.start_byte, -d.end_byte))
    head_end = inner.body_start_byte if inner.body_start_byte is not None else inner.end_byte
    near = _local_outline(snapshot, source, _leading_start(source, inner.start_byte),
                          head_end + 1)
    known = {d.name_start_byte for d in near}
    return sorted([*near, *(d for d in around if d.name_start_byte not in known)],
                  key=lambda d: (d.start_byte, -d.end_byte))


def offers(snapshot: DocumentSnapshot, start_byte: int, end_byte: int,
           problems: list[Problem]) -> list[Offer]:
    """The actions for a cursor/selection, from the syntax tree alone (no model call)."""
    if not _usable(snapshot):
        return []
    definitions = local_definitions(snapshot, start_byte, end_byte)
    problems = problems[:MAX_PROBLEMS]
    for problem in problems:
        if _innermost(definitions, problem.start_byte, problem.end_byte, FUNCTION_KINDS):
            continue  # its function is already known
        known = {d.name_start_byte for d in definitions}
        definitions += [d for d in local_definitions(snapshot, problem.start_byte,
                                                     problem.end_byte)
                        if d.name_start_byte not in known]
    found: list[Offer] = []
    if not definitions and module_doc.offered(snapshot, start_byte):
        found.append(Offer(ActionKind.DOCSTRING, "Generate module docstring", start_byte))
    target = docstrings.target_at(snapshot, definitions, start_byte)
    if target is not None:
        verb = "Update" if _has_doc(snapshot, target) else "Generate"
        noun = "docstring" if snapshot.language and snapshot.language.language_id == "python" \
            else "doc comment"
        found.append(Offer(ActionKind.DOCSTRING, f"{verb} {noun} for {target.name}",
                           target.name_start_byte))
    source = docstrings.source_of(snapshot)
    function = _innermost(definitions, start_byte, end_byte, FUNCTION_KINDS)
    if function is not None and snapshot.language is not None and codegen.is_unimplemented(
            function, source, snapshot.language.language_id):
        found.append(Offer(ActionKind.IMPLEMENT, f"Implement {function.name} with the model",
                           function.name_start_byte))
    for problem in problems:
        owner = _innermost(definitions, problem.start_byte, problem.end_byte, FUNCTION_KINDS)
        if owner is not None:
            short = " ".join(problem.message.split())[:60]
            found.append(Offer(ActionKind.FIX, f"Fix with the model: {short}",
                               owner.name_start_byte, problem.message))
    return found


def _has_doc(snapshot: DocumentSnapshot, definition: Definition) -> bool:
    assert snapshot.tree is not None and snapshot.language is not None
    target = analyze(definition, snapshot.tree, docstrings.source_of(snapshot),
                     snapshot.language.language_id)
    return target.doc_text is not None


def _definition_at(snapshot: DocumentSnapshot, definitions: list[Definition],
                   name_byte: int) -> Definition:
    for definition in definitions:
        if definition.name_start_byte == name_byte:
            return definition
    raise ActionFailed("the definition is no longer there; ask for code actions again")


@dataclass(frozen=True)
class Request:
    """One action to compute."""

    kind: ActionKind
    byte_offset: int
    message: str = ""
    docstring_style: str = "auto"
    privacy: Privacy = Privacy()
    """Redaction and audit of the model call."""
    refusal: str | None = None
    """Why the document must stay out of prompts (a secret-bearing file), if it must."""
    path: str = ""
    """The document's path as prompts and the audit log show it."""


def refuse(refusal: str | None) -> None:
    """Raise :class:`ActionFailed` for a document that must stay out of prompts."""
    if refusal is not None:
        raise ActionFailed(f"no model actions in a {refusal}")


def compute(snapshot: DocumentSnapshot, request: Request, backend: Backend | None,
            is_cancelled: Callable[[], bool]) -> Edit:
    """The validated edit of one action; raises :class:`ActionFailed` with the reason
    (:class:`NoModel` when it needs the model and ``backend`` is None)."""
    refuse(request.refusal)
    if not _usable(snapshot):
        raise ActionFailed(snapshot.problem or snapshot.no_tree
                           or "this file has no syntax tree (unknown language)")
    definitions = docstrings.outline_of(snapshot)
    try:
        if request.kind is ActionKind.DOCSTRING:
            definition = docstrings.target_at(snapshot, definitions, request.byte_offset)
            if definition is None and module_doc.offered(snapshot, request.byte_offset):
                return module_doc.edit(snapshot, backend, is_cancelled, request.privacy,
                                       request.path)
            if definition is None:
                raise ActionFailed("no function, method or class here to document")
            return docstring_edit(snapshot, definition, definitions, request.docstring_style,
                                  backend, is_cancelled, request.privacy, request.path)
        definition = _definition_at(snapshot, definitions, request.byte_offset)
        if backend is None:
            raise ModelError("no model is loaded")
        return _code_edit(snapshot, definition, request, backend, is_cancelled)
    except ModelError as error:  # without a backend, only the missing model can fail
        failed = NoModel if backend is None else ActionFailed
        raise failed(f"the model failed: {error}") from error
    except EditRejected as error:
        raise ActionFailed(f"refused the model's edit: {error}; nothing was changed") from error


def docstring_edit(snapshot: DocumentSnapshot, definition: Definition,
                   definitions: list[Definition], style: str, backend: Backend | None,
                   is_cancelled: Callable[[], bool], privacy: Privacy = Privacy(),
                   path: str = "") -> Edit:
    """Plan, fill, render, place and validate the doc of ``definition``."""
    plan = docstrings.plan(snapshot, definition, definitions, style)
    docstrings.fill(plan, snapshot, backend, is_cancelled, privacy, path)
    edit = docstrings.edit_for(plan, snapshot)
    validate_edit(snapshot, edit, definition, check_doc=True)
    return edit


def _bounds(snapshot: DocumentSnapshot, definition: Definition) -> tuple[int, int]:
    """The code-point span an edit of ``definition`` may touch (its doc comment included)."""
    source = docstrings.source_of(snapshot)
    start = definition.start_byte if definition.doc_start_byte is None \
        else min(definition.start_byte, definition.doc_start_byte)
    line_start = source.rfind(b"\n", 0, start) + 1
    end = definition.end_byte
    return (len(source[:line_start].decode("utf-8", "surrogatepass")),
            len(source[:end].decode("utf-8", "surrogatepass")))


def validate_edit(snapshot: DocumentSnapshot, edit: Edit, definition: Definition,
              check_doc: bool = False) -> None:
    """Parses without new errors, stays inside the definition, and still defines it."""
    assert snapshot.language is not None
    bounds = _bounds(snapshot, definition)
    edited, tree = check_edit(snapshot.language, snapshot.text, snapshot.tree, edit, bounds)
    grown = len(edit.new_text) - (edit.end - edit.start)
    after = definition_after(snapshot.language, edited, tree, definition.name,
                             bounds[0], bounds[1] + grown)
    if check_doc and after.doc is None:
        raise EditRejected("the documentation would not be attached to the definition")


def _code_edit(snapshot: DocumentSnapshot, definition: Definition, request: Request,
               backend: Backend, is_cancelled: Callable[[], bool]) -> Edit:
    assert snapshot.tree is not None and snapshot.language is not None
    language = snapshot.language.language_id
    source = docstrings.source_of(snapshot)
    target = analyze(definition, snapshot.tree, source, language)
    eol = line_ending(snapshot.text)
    if request.kind is ActionKind.IMPLEMENT:
        if not codegen.is_unimplemented(definition, source, language):
            raise ActionFailed(f"{definition.name} already has a body")
        byte_edit = codegen.implement(backend, source, definition, language, target.indent,
                                      indent_unit(snapshot.text), eol, is_cancelled,
                                      request.privacy, request.path or snapshot.uri)
    else:
        byte_edit = codegen.fix(backend, source, definition, language, target.indent, eol,
                                request.message, is_cancelled, request.privacy,
                                request.path or snapshot.uri)
    edit = byte_edit.to_text(source)
    validate_edit(snapshot, edit, definition)
    return edit


def undocumented(snapshot: DocumentSnapshot) -> list[Definition]:
    """Public documentable definitions without a doc, in source order; not Python magic
    methods (``__init__`` is documented by its class) nor functions local to a function."""
    if not _usable(snapshot):
        return []
    definitions = docstrings.outline_of(snapshot)
    functions = [d for d in definitions if d.kind in FUNCTION_KINDS]
    python = snapshot.language is not None and snapshot.language.language_id == "python"
    return [d for d in docstrings.documentable(definitions)
            if d.is_public and not (python and d.name.startswith("__") and d.name.endswith("__"))
            and not any(f.start_byte < d.start_byte and d.end_byte <= f.end_byte
                        for f in functions)
            and not _has_doc(snapshot, d)]


def file_targets(snapshot: DocumentSnapshot, refusal: str | None = None
                 ) -> tuple[list[Definition], list[Definition]]:
    """The file's outline, and the undocumented public definitions to document (in order);
    :class:`ActionFailed` for a document that must stay out of prompts (``refusal``)."""
    refuse(refusal)
    return docstrings.outline_of(snapshot), undocumented(snapshot)


def file_edit(snapshot: DocumentSnapshot, definition: Definition, definitions: list[Definition],
              style: str, backend: Backend | None,
              is_cancelled: Callable[[], bool], privacy: Privacy = Privacy(),
              path: str = "") -> Edit | str:
    """The validated doc edit of one definition, or why it failed (one line for the user)."""
    try:
        return docstring_edit(snapshot, definition, definitions, style, backend, is_cancelled,
                              privacy, path)
    except (ModelError, EditRejected) as error:
        return f"{definition.name}: {error}"


def combine_edits(snapshot: DocumentSnapshot, edits: list[Edit]) -> list[Edit]:
    """The edits in order, checked together (no overlap, no new syntax errors)."""
    edits = sorted(edits, key=lambda e: e.start)
    _check_together(snapshot, edits)
    return edits


def _check_together(snapshot: DocumentSnapshot, edits: list[Edit]) -> None:
    """All edits at once must not overlap or add syntax errors."""
    assert snapshot.language is not None
    text = snapshot.text
    for before, after in zip(edits, edits[1:]):
        if before.end > after.start:
            raise ActionFailed("two generated docs overlap; nothing was changed")
    for edit in reversed(edits):
        text = edit.apply(text)
    whole = Edit(0, len(snapshot.text), text)
    try:
        check_edit(snapshot.language, snapshot.text, snapshot.tree, whole,
                   (0, len(snapshot.text)))
    except EditRejected as error:
        raise ActionFailed(f"refused the generated docs: {error}; nothing was changed") \
            from error
