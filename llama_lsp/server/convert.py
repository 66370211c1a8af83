"""Conversions between lsprotocol types and the context engine's positions and encodings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from llama_lsp.context.positions import LineIndex, Position, PositionEncoding

MAX_UINTEGER = 2**31 - 1
"""LSP's ``uinteger``."""
_ENCODINGS = {encoding.value: encoding for encoding in PositionEncoding}


def encoding_of(negotiated: str | None) -> PositionEncoding:
    """The context engine's encoding for the negotiated LSP ``positionEncoding``."""
    return _ENCODINGS.get(str(negotiated or "utf-16"), PositionEncoding.UTF16)


def from_lsp_position(position: types.Position) -> Position:
    """lsprotocol -> context engine."""
    return Position(position.line, position.character)


def to_lsp_position(index: LineIndex, offset: int, encoding: PositionEncoding) -> types.Position:
    """Code-point offset -> lsprotocol position in ``encoding``."""
    position = index.position_at(offset, encoding)
    return types.Position(line=position.line, character=position.character)


def to_lsp_range(
    index: LineIndex, start: int, end: int, encoding: PositionEncoding
) -> types.Range:
    """Code-point offsets -> lsprotocol range."""
    return types.Range(
        start=to_lsp_position(index, start, encoding), end=to_lsp_position(index, end, encoding)
    )


def uri_and_position(arguments: Sequence[Any], command: str) -> tuple[str, types.Position]:
    """Validate a command's ``[uri, {line, character}, ...]`` arguments."""
    if len(arguments) < 2 or not isinstance(arguments[0], str):
        raise JsonRpcInvalidParams(f"{command}: expected arguments [uri, {{line, character}}]")
    raw = arguments[1]
    if isinstance(raw, types.Position):
        return arguments[0], raw
    line = raw.get("line") if isinstance(raw, dict) else None
    character = raw.get("character") if isinstance(raw, dict) else None
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_UINTEGER
               for v in (line, character)):
        raise JsonRpcInvalidParams(f"{command}: the position must be {{line, character}} with "
                                   f"integers from 0 to {MAX_UINTEGER}, got {raw!r:.200}")
    return arguments[0], types.Position(line=line, character=character)  # type: ignore[arg-type]
