"""Bring a docstring in line with its definition: the update-in-place rules.

Every sentence the user wrote stays; parameters follow the signature's order; parameters that
no longer exist go (a lone renamed parameter keeps its description); new parameters, results
and exceptions get empty slots for the model to fill.
"""

from __future__ import annotations

import copy

from llama_lsp.features.actions.analysis import Target
from llama_lsp.features.actions.docmodel import (
    ERRORS,
    PANICS,
    RETURNS,
    SUMMARY,
    YIELDS,
    Docstring,
    Entry,
    param_slot,
    raises_slot,
)

# Which slots each language's doc format has.
_HAS_PARAMS = frozenset({"python", "javascript", "typescript", "typescriptreact", "rust", "java",
                         "c", "cpp"})
_HAS_RETURNS = frozenset({"python", "javascript", "typescript", "typescriptreact", "java", "c",
                          "cpp"})
_HAS_RAISES = frozenset({"python", "javascript", "typescript", "typescriptreact", "java", "cpp"})


def merge(existing: Docstring | None, target: Target) -> Docstring:
    """The docstring ``target`` should have, keeping what ``existing`` says."""
    doc = copy.deepcopy(existing) if existing is not None else Docstring()
    language = target.language_id
    documents_params = language in _HAS_PARAMS and (
        target.is_function or (language == "python" and target.kind == "class"))
    if documents_params:
        doc.params = _merge_params(doc.params, target)
    if not target.yields and not doc.yields:
        doc.yields = ""
    if target.is_function and language in _HAS_RAISES:
        known = {entry.name for entry in doc.raises}
        doc.raises += [Entry(name) for name in target.raises if name not in known]
    return doc


def _merge_params(entries: list[Entry], target: Target) -> list[Entry]:
    by_key = {entry.key: entry for entry in entries}
    wanted = [p.key for p in target.parameters]
    gone = [entry for entry in entries if entry.key not in wanted]
    added = [p for p in target.parameters if p.key not in by_key]
    renamed = {}
    if len(gone) == 1 and len(added) == 1:
        renamed[added[0].key] = gone[0]
    merged = []
    for parameter in target.parameters:
        old = by_key.get(parameter.key) or renamed.get(parameter.key)
        merged.append(Entry(parameter.name, old.text if old else "", old.type if old else None))
    return merged


def missing_slots(doc: Docstring, target: Target) -> list[str]:
    """Slot keys whose prose is empty and that the model should write."""
    language = target.language_id
    slots = [SUMMARY] if not doc.summary.strip() else []
    slots += [param_slot(e.name) for e in doc.params if not e.text.strip()]
    if target.is_function and language in _HAS_RETURNS:
        if target.yields and not doc.yields.strip():
            slots.append(YIELDS)
        elif target.returns_value and not doc.returns.strip() and not target.yields:
            slots.append(RETURNS)
    slots += [raises_slot(e.name) for e in doc.raises if not e.text.strip()]
    if language == "rust" and target.is_function:
        if target.returns_result and not doc.errors.strip():
            slots.append(ERRORS)
        if target.panics and not doc.panics.strip():
            slots.append(PANICS)
    return slots
