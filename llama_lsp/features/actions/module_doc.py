"""Python module docstrings: offered above the first statement of a module without one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath

from tree_sitter import Node

from llama_lsp.context.documents import DocumentSnapshot
from llama_lsp.context.syntax.outline import Definition
from llama_lsp.features.actions.analysis import Target
from llama_lsp.features.actions.docmodel import SUMMARY, Docstring
from llama_lsp.features.actions.placement import ByteEdit, Edit, line_ending
from llama_lsp.features.actions.render import render_python
from llama_lsp.features.actions.slots import fill_slots, tidy
from llama_lsp.features.audit import lines_of
from llama_lsp.features.guard import Privacy
from llama_lsp.features.actions.validate import EditRejected, check_edit
from llama_lsp.model.backend import Backend, ModelError

HEAD_CHARS = 2400


def _first_statement(snapshot: DocumentSnapshot) -> Node | None:
    assert snapshot.tree is not None
    return next((child for child in snapshot.tree.root_node.named_children
                 if child.type != "comment"), None)


def _is_docstring(node: Node | None) -> bool:
    return node is not None and node.type == "expression_statement" and \
        node.named_child_count == 1 and node.named_children[0].type == "string"


def offered(snapshot: DocumentSnapshot, byte_offset: int) -> bool:
    """A Python module without a docstring, the cursor above its first statement."""
    if snapshot.language is None or snapshot.language.language_id != "python" \
            or snapshot.tree is None or snapshot.problem:
        return False
    first = _first_statement(snapshot)
    if _is_docstring(first):
        return False
    return first is None or byte_offset <= first.start_byte


def _module_target(snapshot: DocumentSnapshot, source: bytes) -> Target:
    name = PurePath(snapshot.path or snapshot.uri).stem or "module"
    definition = Definition(
        name=name, kind="module", start_byte=0, end_byte=len(source), start_line=0,
        end_line=snapshot.text.count("\n"), name_start_byte=0, signature="",
        body_start_byte=0, body_end_byte=len(source), doc=None, doc_start_byte=None,
        doc_end_byte=None, parameters=(), parent=None, is_public=True)
    return Target(definition, "python", (), False, None, False, False, (), False, False, False,
                  "", "", None, None, 0)


def edit(snapshot: DocumentSnapshot, backend: Backend | None,
         is_cancelled: Callable[[], bool], privacy: Privacy = Privacy(), path: str = "") -> Edit:
    """The validated edit adding a one-line module docstring before the first statement."""
    if not offered(snapshot, 0):
        raise EditRejected("this file already has a module docstring")
    if backend is None:
        raise ModelError("no model is loaded")
    assert snapshot.language is not None
    source = snapshot.text.encode("utf-8", "surrogatepass")
    target = _module_target(snapshot, source)
    head = snapshot.text[:HEAD_CHARS]
    summary = fill_slots(backend, target, head, [SUMMARY], is_cancelled, privacy,
                         (lines_of(path or snapshot.uri, 0, head, "module"),),
                         "module-docstring")[SUMMARY]
    lines = render_python(Docstring(summary=tidy(summary)), target, "google", "    ")
    eol = line_ending(snapshot.text)
    first = _first_statement(snapshot)
    if first is None:
        at = len(source)
        lead = eol if source and not source.endswith(b"\n") else ""
        change = ByteEdit(at, at, lead + eol.join(lines) + eol)
    else:
        change = ByteEdit(first.start_byte, first.start_byte, eol.join(lines) + eol + eol)
    text_edit = change.to_text(source)
    edited, tree = check_edit(snapshot.language, snapshot.text, snapshot.tree, text_edit,
                              (0, len(snapshot.text)))
    statements = [c for c in tree.root_node.named_children if c.type != "comment"]
    if not statements or not _is_docstring(statements[0]):
        raise EditRejected("the docstring would not be the module's first statement")
    return text_edit
