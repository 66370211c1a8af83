"""LSP positions <-> code-point offsets, in the three position encodings."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from llama_lsp.context.positions import (
    LineIndex,
    Position,
    PositionEncoding,
    PositionError,
    line_starts,
    units_in,
)

UTF8 = PositionEncoding.UTF8
UTF16 = PositionEncoding.UTF16
UTF32 = PositionEncoding.UTF32
ALL_ENCODINGS = (UTF8, UTF16, UTF32)

EMOJI = "\U0001F600"  # 😀: 1 code point, 2 UTF-16 units (a surrogate pair), 4 UTF-8 bytes
CJK = "\u4e2d\u6587"  # 中文: 1 UTF-16 unit and 3 UTF-8 bytes each
ACCENTED = "caf\u00e9"  # café: é is 1 UTF-16 unit and 2 UTF-8 bytes


# --- code unit counting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "utf8", "utf16", "utf32"),
    [
        ("", 0, 0, 0),
        ("abc", 3, 3, 3),
        (EMOJI, 4, 2, 1),
        (CJK, 6, 2, 2),
        (ACCENTED, 5, 4, 4),
        (f"a{EMOJI}b{CJK}\u00e9", 1 + 4 + 1 + 6 + 2, 1 + 2 + 1 + 2 + 1, 1 + 1 + 1 + 2 + 1),
    ],
)
def test_units_in_counts_code_units_per_encoding(text: str, utf8: int, utf16: int, utf32: int):
    assert units_in(text, UTF8) == utf8
    assert units_in(text, UTF16) == utf16
    assert units_in(text, UTF32) == utf32


def test_units_in_utf8_accepts_lone_surrogates():
    # Editors can send a lone surrogate (a broken pair) through JSON; the document code encodes
    # with "surrogatepass", so counting must not raise either.
    assert units_in("a\ud800b", UTF8) == 1 + 3 + 1
    assert units_in("a\ud800b", UTF16) == 3


def test_encoding_values_are_lsp_names():
    assert [e.value for e in PositionEncoding] == ["utf-8", "utf-16", "utf-32"]
    assert PositionEncoding("utf-16") is UTF16


# --- line starts and line text ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "starts"),
    [
        ("", [0]),
        ("abc", [0]),
        ("a\nb", [0, 2]),
        ("a\r\nb", [0, 3]),
        ("a\rb", [0, 2]),
        ("a\n", [0, 2]),
        ("\n\n", [0, 1, 2]),
        ("a\r\n\r\nb", [0, 3, 5]),
        ("a\r\rb", [0, 2, 3]),  # two lone \r: two line breaks
        ("a\n\rb", [0, 2, 3]),  # \n then \r is two breaks, not one
        ("a\r\n\nb", [0, 3, 4]),
    ],
)
def test_line_starts_for_all_line_break_kinds(text: str, starts: list[int]):
    assert line_starts(text) == starts
    assert LineIndex(text).line_count == len(starts)


def test_line_text_drops_only_the_line_break():
    index = LineIndex("one\r\ntwo\rthree\nfour  \n")
    assert [index.line_text(n) for n in range(index.line_count)] == [
        "one", "two", "three", "four  ", ""
    ]


def test_empty_text_has_one_empty_line():
    index = LineIndex("")
    assert index.line_count == 1
    assert index.line_text(0) == ""
    for encoding in ALL_ENCODINGS:
        assert index.offset_at(Position(0, 0), encoding) == 0
        assert index.offset_at(Position(0, 5), encoding) == 0
        assert index.position_at(0, encoding) == Position(0, 0)


# --- offset_at ----------------------------------------------------------------------------------


def test_offset_at_after_emoji_per_encoding():
    text = f"x = '{EMOJI}' + y"
    index = LineIndex(text)
    after_emoji = text.index(EMOJI) + 1  # code-point offset of the closing quote
    assert index.offset_at(Position(0, 5 + 2), UTF16) == after_emoji
    assert index.offset_at(Position(0, 5 + 4), UTF8) == after_emoji
    assert index.offset_at(Position(0, 5 + 1), UTF32) == after_emoji
    assert text[after_emoji] == "'"


def test_offset_at_cjk_and_accented_text():
    text = f"{CJK} {ACCENTED}!"
    index = LineIndex(text)
    bang = text.index("!")
    assert index.offset_at(Position(0, 2 + 1 + 4), UTF16) == bang
    assert index.offset_at(Position(0, 6 + 1 + 5), UTF8) == bang
    assert index.offset_at(Position(0, 2 + 1 + 4), UTF32) == bang


def test_offset_at_on_later_lines_with_each_line_break_kind():
    text = f"{EMOJI}\r\n{CJK}\r{ACCENTED}\nend"
    index = LineIndex(text)
    assert index.offset_at(Position(1, 0), UTF16) == text.index(CJK)
    assert index.offset_at(Position(1, 1), UTF16) == text.index(CJK) + 1
    assert index.offset_at(Position(1, 3), UTF8) == text.index(CJK) + 1
    assert index.offset_at(Position(2, 3), UTF16) == text.index("\u00e9")
    assert index.offset_at(Position(3, 3), UTF8) == len(text)


@pytest.mark.parametrize("encoding", ALL_ENCODINGS)
@pytest.mark.parametrize("text", ["ab\r\ncd", "ab\rcd", "ab\ncd", f"a{EMOJI}\r\ncd"])
def test_character_past_line_end_clamps_to_line_end(text: str, encoding: PositionEncoding):
    index = LineIndex(text)
    line_end = len(index.line_text(0))  # before the line break, never inside \r\n
    assert index.offset_at(Position(0, 999), encoding) == line_end
    assert index.offset_at(Position(1, 999), encoding) == len(text)


@pytest.mark.parametrize("encoding", ALL_ENCODINGS)
def test_line_past_end_raises(encoding: PositionEncoding):
    index = LineIndex("a\nb\n")  # three lines: "a", "b", ""
    assert index.offset_at(Position(2, 0), encoding) == 4
    with pytest.raises(PositionError, match="past the end"):
        index.offset_at(Position(3, 0), encoding)
    with pytest.raises(PositionError):
        LineIndex("").offset_at(Position(1, 0), encoding)


def test_position_error_is_a_value_error():
    assert issubclass(PositionError, ValueError)


@pytest.mark.parametrize("encoding", ALL_ENCODINGS)
def test_negative_positions_raise(encoding: PositionEncoding):
    index = LineIndex("abc")
    with pytest.raises(PositionError, match="negative"):
        index.offset_at(Position(-1, 0), encoding)
    with pytest.raises(PositionError, match="negative"):
        index.offset_at(Position(0, -1), encoding)


def test_position_inside_surrogate_pair_rounds_down():
    index = LineIndex(f"a{EMOJI}b")
    # UTF-16: the emoji covers units 1 and 2; unit 2 is its low surrogate.
    assert index.offset_at(Position(0, 1), UTF16) == 1
    assert index.offset_at(Position(0, 2), UTF16) == 1
    assert index.offset_at(Position(0, 3), UTF16) == 2


def test_position_inside_multibyte_utf8_character_rounds_down():
    index = LineIndex(f"a{EMOJI}b{CJK}")
    # The emoji covers bytes 1..4, "b" byte 5, 中 bytes 6..8, 文 bytes 9..11.
    assert [index.offset_at(Position(0, n), UTF8) for n in range(13)] == [
        0, 1, 1, 1, 1, 2, 3, 3, 3, 4, 4, 4, 5
    ]


def test_position_inside_two_byte_character_rounds_down():
    index = LineIndex(ACCENTED + "!")
    assert index.offset_at(Position(0, 3), UTF8) == 3
    assert index.offset_at(Position(0, 4), UTF8) == 3  # middle of é
    assert index.offset_at(Position(0, 5), UTF8) == 4


def test_utf32_counts_code_points():
    index = LineIndex(f"{EMOJI}{EMOJI}{CJK}")
    assert [index.offset_at(Position(0, n), UTF32) for n in range(6)] == [0, 1, 2, 3, 4, 4]


# --- position_at --------------------------------------------------------------------------------


def test_position_at_per_encoding():
    text = f"x\n{EMOJI}{CJK}\u00e9z"
    index = LineIndex(text)
    z = text.index("z")
    assert index.position_at(z, UTF16) == Position(1, 2 + 2 + 1)
    assert index.position_at(z, UTF8) == Position(1, 4 + 6 + 2)
    assert index.position_at(z, UTF32) == Position(1, 1 + 2 + 1)


@pytest.mark.parametrize("encoding", ALL_ENCODINGS)
def test_position_at_line_boundaries(encoding: PositionEncoding):
    text = "ab\r\ncd\ref\ngh"
    index = LineIndex(text)
    assert index.position_at(0, encoding) == Position(0, 0)
    assert index.position_at(2, encoding) == Position(0, 2)  # before \r\n
    assert index.position_at(4, encoding) == Position(1, 0)  # after \r\n
    assert index.position_at(7, encoding) == Position(2, 0)  # after lone \r
    assert index.position_at(10, encoding) == Position(3, 0)  # after \n
    assert index.position_at(len(text), encoding) == Position(3, 2)


@pytest.mark.parametrize("encoding", ALL_ENCODINGS)
def test_position_at_clamps_offsets_to_the_text(encoding: PositionEncoding):
    index = LineIndex("ab\ncd")
    assert index.position_at(-5, encoding) == Position(0, 0)
    assert index.position_at(100, encoding) == Position(1, 2)


@pytest.mark.parametrize("encoding", ALL_ENCODINGS)
def test_offset_between_cr_and_lf_maps_to_line_end(encoding: PositionEncoding):
    # An offset between \r and \n is not a valid place for a cursor: it belongs to the line it
    # ends, and going back through a position lands at the end of that line (before the \r).
    text = f"a{EMOJI}\r\nb"
    index = LineIndex(text)
    between = text.index("\n")
    position = index.position_at(between, encoding)
    assert position.line == 0
    assert index.offset_at(position, encoding) == between - 1


def test_position_at_counts_lone_surrogates():
    index = LineIndex("a\ud800b")
    assert index.position_at(3, UTF8) == Position(0, 5)
    assert index.position_at(3, UTF16) == Position(0, 3)
    assert index.offset_at(Position(0, 4), UTF8) == 2


# --- round trip property ------------------------------------------------------------------------

# Weighted towards the interesting characters: every line break kind, multi-byte code points.
_INTERESTING = st.sampled_from(
    ["\n", "\r", "\r\n", EMOJI, "\U0001F9D1\u200d\U0001F4BB", "\u4e2d", "\u00e9", "e\u0301",
     "\u20ac", "\U00010348", "\t", " ", "a", "Z", "{", "}"]
)
_TEXT = st.lists(st.one_of(_INTERESTING, st.text(max_size=4)), max_size=25).map("".join)


def _between_cr_lf(text: str, offset: int) -> bool:
    return 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n"


@settings(max_examples=300, deadline=None)
@given(_TEXT)
@example(f"\r\n{EMOJI}\r\r\n\n")
@example("")
def test_round_trip_every_offset_every_encoding(text: str):
    index = LineIndex(text)
    for encoding in ALL_ENCODINGS:
        previous = Position(0, -1)
        for offset in range(len(text) + 1):
            position = index.position_at(offset, encoding)
            back = index.offset_at(position, encoding)
            if _between_cr_lf(text, offset):
                assert back == offset - 1
            else:
                assert back == offset
            # Positions are monotonic in the offset.
            assert (position.line, position.character) >= (previous.line, previous.character)
            previous = position
        assert index.position_at(len(text), encoding).line == index.line_count - 1


@settings(max_examples=200, deadline=None)
@given(_TEXT, st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=6))
def test_any_position_maps_to_a_code_point_offset_on_its_line(text: str, char: int, line: int):
    index = LineIndex(text)
    for encoding in ALL_ENCODINGS:
        if line >= index.line_count:
            with pytest.raises(PositionError):
                index.offset_at(Position(line, char), encoding)
            continue
        offset = index.offset_at(Position(line, char), encoding)
        start = index.starts[line]
        assert start <= offset <= start + len(index.line_text(line))
        # Rounding down: the units before the offset never exceed the requested character.
        assert units_in(text[start:offset], encoding) <= char
