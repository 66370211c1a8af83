"""The frame decoder: good frames in any chunking, and recovery after every kind of bad frame."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llama_lsp.server.framing import (
    MAX_MESSAGE_BYTES,
    Frame,
    FrameDecoder,
    FramingError,
    JsonValueEnd,
    encode_frame,
)
from llama_lsp.server.protocol import ParseFailure, find_request_id, parse_body


def _message(msg_id: int, text: str = 'a "quoted" {brace} [bracket] \\ back') -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": "m",
                       "params": {"text": text}}).encode()


def _decode(stream: bytes, chunk: int | None = None) -> list[Frame | FramingError]:
    decoder = FrameDecoder()
    if chunk is None:
        return decoder.feed(stream)
    events: list[Frame | FramingError] = []
    for start in range(0, len(stream), chunk):
        events += decoder.feed(stream[start:start + chunk])
    return events


def _frames(events: list[Frame | FramingError]) -> list[bytes]:
    return [event.body for event in events if isinstance(event, Frame)]


GOOD = _message(99)
BODY = _message(1)
BAD_FRAMES = {
    "missing Content-Length": b"Content-Type: application/vscode-jsonrpc\r\n\r\n" + BODY,
    "no header at all": BODY,
    "short Content-Length": b"Content-Length: %d\r\n\r\n" % (len(BODY) - 7) + BODY,
    "long Content-Length": b"Content-Length: %d\r\n\r\n" % (len(BODY) + 40) + BODY,
    "duplicated, equal": b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n" % (
        len(BODY), len(BODY)) + BODY,
    "duplicated, different": b"Content-Length: %d\r\nContent-Length: 3\r\n\r\n" % len(
        BODY) + BODY,
    "LF-only line ends": b"Content-Length: %d\n\n" % len(BODY) + BODY,
    "header without colon": b"Content-Length %d\r\n\r\n" % len(BODY) + BODY,
    "header with spaces": b" Content-Length :  %d \r\n\r\n" % len(BODY) + BODY,
    "lower-case name": b"content-length: %d\r\n\r\n" % len(BODY) + BODY,
    "not a number": b"Content-Length: 12a\r\n\r\n" + BODY,
    "negative": b"Content-Length: -5\r\n\r\n" + BODY,
    "10^12": b"Content-Length: 1000000000000\r\n\r\n" + BODY,
    "no blank line": b"Content-Length: %d\r\n" % len(BODY) + BODY,
    "garbage line": b"hello there\r\n\r\n",
    "binary garbage": bytes(range(256)) * 4,
    "header without a body": b"Content-Length: 10\r\n\r\n",
    "zero length": b"Content-Length: 0\r\n\r\n",
    "body not JSON": b"Content-Length: 5\r\n\r\nhello",
    "huge header line": b"X-Junk: " + b"j" * 20000 + b"\r\n\r\n",
}


@pytest.mark.parametrize("kind", sorted(BAD_FRAMES))
@pytest.mark.parametrize("chunk", [None, 1, 7, 4096])
def test_the_frame_after_a_bad_frame_is_read(kind: str, chunk: int | None) -> None:
    events = _decode(BAD_FRAMES[kind] + encode_frame(GOOD), chunk)
    assert _frames(events)[-1] == GOOD


@pytest.mark.parametrize("kind", ["missing Content-Length", "no header at all",
                                  "duplicated, different", "header without colon",
                                  "not a number", "negative"])
def test_a_json_body_behind_a_bad_header_is_reported_with_its_bytes(kind: str) -> None:
    events = _decode(BAD_FRAMES[kind])
    assert [e.body for e in events if isinstance(e, FramingError)] == [BODY]


@pytest.mark.parametrize("kind", ["long Content-Length", "duplicated, equal",
                                  "LF-only line ends", "header with spaces", "lower-case name",
                                  "no blank line", "short Content-Length"])
def test_frames_that_can_only_mean_one_thing_are_read_whole(kind: str) -> None:
    assert _frames(_decode(BAD_FRAMES[kind])) == [BODY]


def test_a_huge_content_length_allocates_nothing() -> None:
    decoder = FrameDecoder()
    events = decoder.feed(b"Content-Length: 1000000000000\r\n\r\n" + b"x" * 100_000)
    assert isinstance(events[0], FramingError) and "over the limit" in events[0].reason
    assert decoder.buffered < 100


def test_an_endless_body_without_header_is_capped() -> None:
    decoder = FrameDecoder(max_message_bytes=10_000)
    events = decoder.feed(b'{"a": "' + b"x" * 20_000)
    assert isinstance(events[0], FramingError) and decoder.buffered < 100
    assert _frames(decoder.feed(b'"}' + encode_frame(GOOD))) == [GOOD]


def test_the_default_limit_fits_a_large_document() -> None:
    assert MAX_MESSAGE_BYTES >= 32 * 1024 * 1024


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(st.text(max_size=300), min_size=1, max_size=6),
       cuts=st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=30))
def test_good_frames_survive_any_chunking(texts: list[str], cuts: list[int]) -> None:
    bodies = [_message(i, text) for i, text in enumerate(texts)]
    stream = b"".join(encode_frame(body) for body in bodies)
    decoder = FrameDecoder()
    events: list[Frame | FramingError] = []
    position, index = 0, 0
    while position < len(stream):
        step = cuts[index % len(cuts)]
        events += decoder.feed(stream[position:position + step])
        position, index = position + step, index + 1
    assert events == [Frame(body) for body in bodies]


@settings(max_examples=200, deadline=None)
@given(junk=st.binary(max_size=400), text=st.text(max_size=100))
def test_after_any_junk_a_later_frame_is_read(junk: bytes, text: str) -> None:
    # A blank line and a header line after the junk, as a client sends between frames.
    body = _message(7, text)
    events = _decode(junk + b"\r\n\r\n" + encode_frame(body) + encode_frame(GOOD))
    assert _frames(events)[-1] == GOOD


def test_value_end_skips_brackets_inside_strings() -> None:
    data = b'{"a": "}]\\" {", "b": [1, {"c": "\\\\"}]} tail'
    assert JsonValueEnd(0).scan(data) == data.index(b" tail")


def test_request_ids_are_found_in_broken_json() -> None:
    assert find_request_id(b'{"jsonrpc": "2.0", "id": 12, "method": "x", "params": {') == 12
    assert find_request_id(b'{"params": {"id": 3}, "id": "abc", "x": NaN}') == "abc"
    assert find_request_id(b'{"params": {"id": 3}}') is None
    assert find_request_id(b"\xff\xfe garbage") is None


@pytest.mark.parametrize("body", [b"NaN", b'{"a": Infinity}', b"\xff{}", b"[" * 5000,
                                  b'{"a": 1', b""])
def test_bodies_that_are_not_strict_json_are_refused(body: bytes) -> None:
    with pytest.raises(ParseFailure):
        parse_body(body)
