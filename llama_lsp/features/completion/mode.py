"""Decide whether a completion is one line or several, from the line and the syntax tree."""

from llama_lsp.context.documents import DocumentSnapshot
from llama_lsp.context.syntax import walk
from llama_lsp.context.window import CursorWindow
from llama_lsp.features.completion.postprocess.context import CompletionMode

_CLOSERS_AND_PUNCTUATION = set(")]}\"'`;,:. \t")
# Node types (across the supported grammars) that hold expressions, not statements: a blank
# line inside one of them continues an expression, so the completion is one line.
_EXPRESSION_CONTAINERS = frozenset({
    "argument_list", "arguments", "parameters", "formal_parameters", "parameter_list",
    "list", "dictionary", "set", "tuple", "array", "object", "parenthesized_expression",
    "subscript", "list_comprehension", "dictionary_comprehension", "generator_expression",
    "composite_literal", "literal_value", "array_expression", "tuple_expression",
    "initializer_list", "array_initializer", "template_string", "string", "jsx_element",
    "struct_expression", "field_initializer_list", "call_expression", "call",
})


def _inside_expression(snapshot: DocumentSnapshot, offset: int) -> bool:
    if snapshot.tree is None:
        return False
    byte = len(snapshot.text[:offset].encode("utf-8", "surrogatepass"))
    node = walk.descendant_for_byte_range(snapshot.tree.root_node, byte, byte)
    while node is not None:
        if node.type in _EXPRESSION_CONTAINERS and node.start_byte < byte < node.end_byte:
            return True
        node = node.parent
    return False


def choose_mode(window: CursorWindow, snapshot: DocumentSnapshot | None = None,
                offset: int = 0) -> CompletionMode:
    """Mid-line, or inside an expression -> one line; at an empty line in a block -> several."""
    if window.line_before.strip():
        return CompletionMode.SINGLE_LINE
    if any(char not in _CLOSERS_AND_PUNCTUATION for char in window.line_after):
        return CompletionMode.SINGLE_LINE
    if snapshot is not None and _inside_expression(snapshot, offset):
        return CompletionMode.SINGLE_LINE
    return CompletionMode.MULTI_LINE
