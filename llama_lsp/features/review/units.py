"""Review units: the code around each change that the model is shown.

A changed line belongs to the outermost function/method/constant enclosing it (or, outside any,
to the innermost class-like container); changed lines outside every definition are grouped with a
few lines of context. A unit larger than the line budget is cut into windows around its changed
lines and marked truncated; neighbouring small units are joined while they fit the budget. Definitions from the same file that the unit calls are added, whole,
while the callee budget lasts. Line numbers are new-side and 1-based.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from tree_sitter import Parser

from llama_lsp.context.syntax.languages import LanguageSpec, load_language
from llama_lsp.context.syntax.outline import CONTAINER_KINDS, Definition, identifiers_in, outline

CONTEXT_LINES = 3
"""Lines shown before and after changes that lie outside every definition."""
MERGE_GAP = 3
"""Units this many lines apart or closer are joined (when they fit the budget together)."""


@dataclass(frozen=True)
class Callee:
    """A same-file definition the unit calls, shown for context."""

    name: str
    start_line: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class ReviewUnit:
    """One model call's worth of code: new-side lines ``start_line..end_line`` of ``path``."""

    path: str
    language: str
    title: str
    start_line: int
    lines: tuple[str, ...]
    changed: frozenset[int]
    callees: tuple[Callee, ...] = ()
    truncated: str | None = None

    @property
    def end_line(self) -> int:
        """Last line shown."""
        return self.start_line + len(self.lines) - 1

    def line_text(self, number: int) -> str | None:
        """The text of new-side line ``number`` if the unit shows it."""
        if self.start_line <= number <= self.end_line:
            return self.lines[number - self.start_line]
        return None


def split_lines(text: str) -> list[str]:
    """Lines as git counts them (``\\n`` only), without ``\\r``."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


@dataclass
class _Group:
    """Changed lines that share one owner (a definition, or a free region)."""

    title: str
    start: int
    end: int
    changed: list[int]
    definition: Definition | None = None


def _owners(definitions: list[Definition], changed: list[int]) -> dict[int, Definition]:
    """Each changed line's owning definition (see the module docstring)."""
    owner: dict[int, Definition] = {}
    for definition in sorted(definitions, key=lambda d: (d.start_line, -d.end_line)):
        low = bisect_left(changed, definition.start_line + 1)
        high = bisect_right(changed, definition.end_line + 1)
        for line in changed[low:high]:
            current = owner.get(line)
            if current is None or current.kind in CONTAINER_KINDS:
                owner[line] = definition
    return owner


def _groups(definitions: list[Definition], changed: list[int], total: int) -> list[_Group]:
    owners = _owners(definitions, changed)
    by_definition: dict[int, _Group] = {}
    free: list[_Group] = []
    for line in changed:
        definition = owners.get(line)
        if definition is not None:
            key = id(definition)
            group = by_definition.get(key)
            if group is None:
                group = by_definition[key] = _Group(
                    f"{definition.kind} {definition.name}", definition.start_line + 1,
                    definition.end_line + 1, [], definition)
            group.changed.append(line)
            continue
        if free and line - free[-1].changed[-1] <= 2 * CONTEXT_LINES + 1:
            free[-1].changed.append(line)
            free[-1].end = min(total, line + CONTEXT_LINES)
        else:
            free.append(_Group("", max(1, line - CONTEXT_LINES), min(total, line + CONTEXT_LINES),
                               [line]))
    for group in free:
        group.title = f"lines {group.changed[0]}-{group.changed[-1]}"
    return sorted([*by_definition.values(), *free], key=lambda g: g.start)


def _windows(group: _Group, budget: int) -> list[tuple[int, int, list[int]]]:
    """(start, end, changed) pieces of at most ``budget`` lines covering every changed line."""
    if group.end - group.start + 1 <= budget:
        return [(group.start, group.end, group.changed)]
    pieces: list[tuple[int, int, list[int]]] = []
    pending = list(group.changed)
    while pending:
        first = pending[0]
        start = max(group.start, first - CONTEXT_LINES)
        end = min(group.end, start + budget - 1)
        inside = [line for line in pending if line <= end]
        pending = pending[len(inside):]
        pieces.append((start, end, inside))
    return pieces


def _line_offsets(source: bytes) -> list[int]:
    """Byte offset of the start of each line (0-based rows)."""
    offsets = [0]
    index = source.find(b"\n")
    while index >= 0:
        offsets.append(index + 1)
        index = source.find(b"\n", index + 1)
    return offsets


def build_units(
    path: str,
    text: str,
    changed_lines: set[int],
    spec: LanguageSpec | None,
    max_unit_lines: int,
) -> list[ReviewUnit]:
    """The review units of one file's new ``text`` for its non-blank ``changed_lines``."""
    lines = split_lines(text)
    changed = sorted(line for line in changed_lines
                     if 1 <= line <= len(lines) and lines[line - 1].strip())
    if not changed:
        return []
    source = text.encode("utf-8", "surrogatepass")
    definitions: list[Definition] = []
    tree = None
    if spec is not None:
        tree = Parser(load_language(spec)).parse(source)
        definitions = outline(tree, source, spec)
    language = spec.language_id if spec else "plaintext"
    callee_budget = max(0, max_unit_lines // 3)
    offsets = _line_offsets(source)
    units: list[ReviewUnit] = []
    for piece in _merged(_pieces(_groups(definitions, changed, len(lines)), max_unit_lines),
                         max_unit_lines):
        callees: tuple[Callee, ...] = ()
        if tree is not None and spec is not None:
            callees = _callees(tree, source, spec, definitions, offsets, lines,
                               (piece.start, piece.end), callee_budget)
        units.append(ReviewUnit(
            path=path, language=language, title=piece.title, start_line=piece.start,
            lines=tuple(lines[piece.start - 1:piece.end]), changed=frozenset(piece.changed),
            callees=callees, truncated=piece.truncated))
    return units


@dataclass
class _Piece:
    """The span one unit will show."""

    titles: list[str]
    start: int
    end: int
    changed: list[int]
    truncated: str | None = None

    @property
    def title(self) -> str:
        """The owners' names, shortened when many share the unit."""
        if len(self.titles) <= 3:
            return ", ".join(self.titles)
        return f"{', '.join(self.titles[:2])} and {len(self.titles) - 2} more"


def _pieces(groups: list[_Group], budget: int) -> list[_Piece]:
    pieces: list[_Piece] = []
    for group in groups:
        windows = _windows(group, budget)
        for start, end, inside in windows:
            truncated = None
            if len(windows) > 1:
                truncated = (f"{group.title} spans lines {group.start}-{group.end}; "
                             f"shown as lines {start}-{end}")
            pieces.append(_Piece([group.title], start, end, inside, truncated))
    return pieces


def _merged(pieces: list[_Piece], budget: int) -> list[_Piece]:
    """Neighbouring whole pieces (at most ``MERGE_GAP`` lines apart) joined while the joined
    span fits ``budget`` lines.

    Fewer, larger units cost far less model time than many small ones (the instructions and
    the answer's JSON frame are paid once per unit).
    """
    merged: list[_Piece] = []
    for piece in pieces:
        last = merged[-1] if merged else None
        if (last is not None and last.truncated is None and piece.truncated is None
                and piece.start - last.end - 1 <= MERGE_GAP
                and max(piece.end, last.end) - last.start + 1 <= budget):
            last.titles += piece.titles
            last.end = max(last.end, piece.end)
            last.changed += [line for line in piece.changed if line not in last.changed]
            continue
        merged.append(_Piece(list(piece.titles), piece.start, piece.end, list(piece.changed),
                             piece.truncated))
    return merged


def _callees(
    tree: object,
    source: bytes,
    spec: LanguageSpec,
    definitions: list[Definition],
    offsets: list[int],
    lines: list[str],
    span: tuple[int, int],
    budget: int,
) -> tuple[Callee, ...]:
    """Same-file functions named inside ``span``, whole, in source order, within ``budget``."""
    start, end = span
    end_byte = offsets[end] if end < len(offsets) else len(source)
    names = identifiers_in(tree, source, spec, offsets[start - 1], end_byte)  # type: ignore[arg-type]
    found: list[Callee] = []
    used = 0
    for definition in definitions:
        if definition.name not in names or definition.kind in CONTAINER_KINDS:
            continue
        first, last = definition.start_line + 1, definition.end_line + 1
        if first <= end and last >= start:  # overlaps the unit itself
            continue
        size = last - first + 1
        if used + size > budget:
            continue
        used += size
        found.append(Callee(definition.name, first, tuple(lines[first - 1:last])))
    return tuple(found)
