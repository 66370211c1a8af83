"""Drop the arguments of the call at the cursor that its callee cannot take.

With the callee's parameters known (from its definition), a surplus positional argument, an
unknown or repeated keyword, or a positional one after a keyword is certainly wrong: the
completion is cut before it, keeping the call's closing bracket and what follows. A call left
open with every parameter given is closed, as nothing else can follow.
"""

from __future__ import annotations

import re

from llama_lsp.context.callee import Parameters, call_at_cursor
from llama_lsp.context.scanning import walk
from llama_lsp.features.completion.postprocess.context import CompletionMode, FilterContext

_KEYWORD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)")


def _arguments(text: str, language_id: str) -> tuple[list[tuple[int, int]], int | None]:
    """Spans of the call's top-level arguments in ``text`` (which starts inside the call),
    and where the call's closing bracket is (None when it stays open)."""
    spans: list[tuple[int, int]] = []
    depth = 0
    start = 0
    for position, char, is_code, _ in walk(text, language_id):
        if not is_code:
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                spans.append((start, position))
                return spans, position
            depth -= 1
        elif char == "," and depth == 0:
            spans.append((start, position))
            start = position + 1
    spans.append((start, len(text)))
    return spans, None


class _Binder:
    """Binds arguments to parameters one at a time; says when one cannot be bound."""

    def __init__(self, parameters: Parameters) -> None:
        self.parameters = parameters
        self.bound: set[str] = set()
        self.positional = 0
        self.seen_keyword = False

    def bind(self, argument: str) -> bool | None:
        """True when bound, False when it cannot be, None when unknowable (``*a``, ``**k``)."""
        if argument.startswith("*"):
            return None
        keyword = _KEYWORD.match(argument)
        if keyword is None:
            if self.seen_keyword:
                return False
            if self.positional < len(self.parameters.positional):
                self.bound.add(self.parameters.positional[self.positional])
            elif not self.parameters.var_positional:
                return False
            self.positional += 1
            return True
        self.seen_keyword = True
        name = keyword.group(1)
        if name in self.bound or (name not in self.parameters.keyword
                                  and not self.parameters.var_keyword):
            return False
        self.bound.add(name)
        return True

    @property
    def complete(self) -> bool:
        """Every parameter is given and no more can be."""
        parameters = self.parameters
        return not (parameters.var_positional or parameters.var_keyword) and \
            self.bound >= parameters.keyword | set(parameters.positional)


def drop_surplus_arguments(text: str, context: FilterContext) -> str:
    """``text`` cut before the first argument the callee cannot take (see the module doc)."""
    parameters = context.callee
    call = call_at_cursor(context.line_before, context.language_id)
    if parameters is None or call is None or context.mode is not CompletionMode.SINGLE_LINE \
            or "\n" in text:
        return text
    typed = call.arguments
    if re.search(r"\blambda\b", typed + text):
        return text  # a lambda's parameters are separated by commas too
    spans, closing = _arguments(typed + text, context.language_id)
    binder = _Binder(parameters)
    kept_end = len(typed)  # the end of the last argument that stays
    for start, end in spans:
        argument = (typed + text)[start:end].strip()
        if not argument:
            continue
        bound = binder.bind(argument)
        if bound is None:
            return text
        if not bound:
            if start < len(typed):
                return text  # the user started it: not ours to judge
            cut = max(0, kept_end - len(typed))
            head = text[:cut].rstrip(", ") if cut else ""
            if closing is not None:
                return head + text[closing - len(typed):]
            return head + (")" if binder.complete else "")
        kept_end = end
    if closing is None and binder.complete and text.rstrip().endswith(","):
        return text.rstrip().rstrip(",") + ")"
    return text
