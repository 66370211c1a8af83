"""Conversions between lsprotocol types and the context engine's positions and encodings."""

from __future__ import annotations

from lsprotocol import types

from llama_lsp.context.positions import LineIndex, Position, PositionEncoding

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
