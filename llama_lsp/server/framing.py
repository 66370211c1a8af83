"""The LSP base protocol's framing (``Content-Length`` headers, then a JSON body), decoded
without trusting the client.

:class:`FrameDecoder` turns the bytes read from the client into messages and framing errors.
It never allocates more than :data:`MAX_MESSAGE_BYTES` for one message, whatever a header
says, and after a bad frame it recovers at the next ``Content-Length`` header:

- header lines may end in CRLF or LF; names are case-insensitive and spaces around names and
  values are ignored; lines that are not headers are skipped;
- a body whose JSON value ends before its ``Content-Length`` is taken as it is (the declared
  rest is read as the start of the next frame); one whose value ends a little after it, in
  bytes already received and before any other header, is taken whole; otherwise the declared
  length is passed on, and fails to parse;
- a JSON value without a usable header is reported with its bytes, so the request in it can
  still be answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""The largest message accepted; larger ones are skipped and reported."""
MAX_HEADER_LINE_BYTES = 8 * 1024

_HEADER_NAME = re.compile(rb"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
_CONTENT_LENGTH = re.compile(rb"content-length", re.IGNORECASE)
_OUTSIDE_STRING = re.compile(rb'["{}\[\]]|content-length', re.IGNORECASE)
_INSIDE_STRING = re.compile(rb'["\\\x00-\x1f]')  # a raw control byte ends a string: bad JSON
_WHITESPACE = b" \t\r\n"
_NAME = b"content-length"


@dataclass(frozen=True)
class Frame:
    """One message body, as sent (not yet parsed)."""

    body: bytes


@dataclass(frozen=True)
class FramingError:
    """A frame that could not be read. ``body`` is the JSON value found without a usable
    header, if any, so that the request in it can be answered."""

    reason: str
    body: bytes | None = None


Event = Frame | FramingError


class JsonValueEnd:
    """Finds, incrementally, where a JSON object or array that starts at ``start`` ends.

    Only brackets and strings are tracked, so the cost is one step per bracket or string
    boundary; a ``Content-Length`` outside strings, or a line break inside one, ends the search
    (a new frame began, or this is not JSON).
    """

    def __init__(self, start: int) -> None:
        self.start = start
        self._position = start
        self._depth = 0
        self._in_string = False

    def scan(self, data: bytes | bytearray) -> int | None:
        """The end offset of the value, ``-1`` if a header begins first, ``None`` if the value
        continues past ``data``."""
        position, depth, in_string = self._position, self._depth, self._in_string
        end = len(data)
        result: int | None = None
        while position < end:
            if in_string:
                match = _INSIDE_STRING.search(data, position)
                if match is None:
                    position = end
                    break
                if match.group() == b"\\":
                    position = match.end() + 1  # may pass ``end``: the escaped byte comes later
                    continue
                if match.group() != b'"':  # not JSON; perhaps a header line follows
                    result = -1
                    position = match.start()
                    break
                in_string = False
                position = match.end()
                continue
            match = _OUTSIDE_STRING.search(data, position)
            if match is None:
                position = end
                break
            token = match.group()
            position = match.end()
            if token == b'"':
                in_string = True
            elif token in (b"{", b"["):
                depth += 1
            elif token in (b"}", b"]"):
                depth -= 1
                if depth <= 0:
                    result = position
                    break
            else:  # a Content-Length header outside any string
                result = -1
                position = match.start()
                break
        self._position, self._depth, self._in_string = position, depth, in_string
        return result

    @property
    def scanned(self) -> int:
        """Bytes looked at so far (from ``start``)."""
        return self._position - self.start


class FrameDecoder:
    """Feed it bytes from the client; it returns complete frames and framing errors."""

    def __init__(self, max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self._buffer = bytearray()
        self._max = max_message_bytes
        self._length: int | None = None  # Content-Length of the header block being read
        self._problems: list[str] = []  # what was wrong in the header block being read
        self._block_started = False
        self._body_length: int | None = None  # reading a body of this many bytes
        self._body_scan: JsonValueEnd | None = None
        self._raw: JsonValueEnd | None = None  # reading a JSON value that had no usable header
        self._raw_reason = ""
        self._skipping = False  # looking for the next Content-Length header

    def feed(self, data: bytes) -> list[Event]:
        """Append ``data``; return what became complete."""
        self._buffer += data
        events: list[Event] = []
        while self._step(events):
            pass
        return events

    @property
    def buffered(self) -> int:
        """Bytes held, waiting for the rest of a frame."""
        return len(self._buffer)

    # -- states ----------------------------------------------------------------------------

    def _step(self, events: list[Event]) -> bool:
        if self._skipping:
            return self._skip_to_header(events)
        if self._raw is not None:
            return self._read_raw(events)
        if self._body_length is not None:
            return self._read_body(events)
        return self._read_header_line(events)

    def _read_header_line(self, events: list[Event]) -> bool:
        buffer = self._buffer
        if not self._block_started:
            stripped = len(buffer) - len(buffer.lstrip(_WHITESPACE))
            if stripped:
                del buffer[:stripped]  # blank lines between messages
            if not buffer:
                return False
            if buffer[:1] in (b"{", b"["):
                self._start_raw(0, "a message without a Content-Length header")
                return True
        elif buffer[:1] in (b"{", b"["):
            return self._end_of_headers(events)  # a body, without the blank line before it
        newline = buffer.find(b"\n")
        if newline < 0:
            if len(buffer) > MAX_HEADER_LINE_BYTES:
                if _CONTENT_LENGTH.match(buffer):
                    del buffer[:1]  # so that the search for the next header skips this one
                self._fail(events, f"a header line longer than {MAX_HEADER_LINE_BYTES} bytes")
                return True
            return False
        line = bytes(buffer[:newline])
        del buffer[:newline + 1]
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line.strip():
            return self._end_of_headers(events)
        self._block_started = True
        self._header(line)
        return True

    def _header(self, line: bytes) -> None:
        line = line.strip()
        found = _CONTENT_LENGTH.search(line, 1)
        if found is not None:  # the rest of a bad frame, then a header: resume there
            self._problems.append(f"not a header: {_show(line[:found.start()])}")
            line = line[found.start():]
        name, colon, value = line.partition(b":")
        name = name.strip()
        if not colon or not _HEADER_NAME.fullmatch(name):
            self._problems.append(f"not a header: {_show(line)}")
            return
        if name.lower() != b"content-length":
            return  # Content-Type and others: the body is UTF-8 JSON regardless
        value = value.strip()
        if not value.isdigit() or len(value) > 18:
            self._problems.append(f"Content-Length is not a number: {_show(value)}")
            return
        length = int(value)
        if self._length is not None and self._length != length:
            self._problems.append(f"two different Content-Length headers ({self._length} and "
                                  f"{length})")
            self._length = -1
            return
        if self._length != -1:
            self._length = length

    def _end_of_headers(self, events: list[Event]) -> bool:
        length, problems = self._length, self._problems
        self._length, self._problems, self._block_started = None, [], False
        if length is not None and length > self._max:
            self._fail(events, f"Content-Length {length} is over the limit of {self._max} bytes")
            return True
        if length is None or length < 0:
            reason = "; ".join(problems) or "no Content-Length header"
            start = len(self._buffer) - len(self._buffer.lstrip(_WHITESPACE))
            if self._buffer[start:start + 1] in (b"{", b"["):
                self._start_raw(start, reason)
            elif len(self._buffer) > start:
                self._fail(events, reason)
            else:  # the body has not arrived yet: see what it looks like when it does
                self._start_raw(start, reason)
            return True
        self._body_length = length
        self._body_scan = None
        return True

    def _read_body(self, events: list[Event]) -> bool:
        length = self._body_length
        assert length is not None
        buffer = self._buffer
        if self._body_scan is None:
            start = len(buffer) - len(buffer.lstrip(_WHITESPACE))
            if start >= len(buffer):
                if len(buffer) >= length:
                    self._take_body(events, length)
                    return True
                return False
            head = bytes(buffer[start:start + len(_NAME)]).lower()
            if len(head) < len(_NAME) and _NAME.startswith(head):
                return False  # too early to tell a body from another header
            if head == _NAME:  # another header, where a body should be
                events.append(FramingError("a header without a body"))
                del buffer[:start]
                self._body_length = None
                return True
            self._body_scan = JsonValueEnd(start) if buffer[start:start + 1] in b"{[" else None
        scan = self._body_scan
        end = scan.scan(buffer) if scan is not None else None
        if end is not None and 0 < end < length:
            # The value ended before its Content-Length: take it, and read what follows as
            # the next frame (the rest, if the header was right, is whitespace).
            self._take_body(events, end)
            return True
        if len(buffer) < length:
            return False
        if (end is not None and end > length and end - length <= MAX_HEADER_LINE_BYTES
                and not _CONTENT_LENGTH.search(buffer, length, end)):
            # A Content-Length a little short: the value ends in what already arrived,
            # before anything that looks like the next header.
            self._take_body(events, end)
            return True
        self._take_body(events, length)
        return True

    def _take_body(self, events: list[Event], length: int) -> None:
        events.append(Frame(bytes(self._buffer[:length])))
        del self._buffer[:length]
        self._body_length, self._body_scan = None, None

    def _start_raw(self, start: int, reason: str) -> None:
        del self._buffer[:start]
        self._raw = JsonValueEnd(0)
        self._raw_reason = reason

    def _read_raw(self, events: list[Event]) -> bool:
        scan = self._raw
        assert scan is not None
        if not self._buffer:
            return False
        if scan.scanned == 0:
            stripped = self._buffer.lstrip(_WHITESPACE)
            del self._buffer[:len(self._buffer) - len(stripped)]
            if not stripped:
                return False
            if stripped[:1] not in (b"{", b"["):
                self._raw = None
                self._fail(events, self._raw_reason)
                return True
        end = scan.scan(self._buffer)
        if end is None:
            if scan.scanned > self._max:
                self._raw = None
                self._fail(events, f"{self._raw_reason}, and over {self._max} bytes")
                return True
            return False
        self._raw = None
        if end < 0:
            self._fail(events, f"{self._raw_reason}, then an unfinished JSON value")
            return True
        events.append(FramingError(self._raw_reason, bytes(self._buffer[:end])))
        del self._buffer[:end]
        return True

    def _fail(self, events: list[Event], reason: str) -> None:
        """Report ``reason`` and drop bytes up to the next Content-Length header."""
        events.append(FramingError(reason))
        self._length, self._problems, self._block_started = None, [], False
        self._skipping = True

    def _skip_to_header(self, events: list[Event]) -> bool:
        found = _CONTENT_LENGTH.search(self._buffer)
        if found is None:
            keep = len(b"content-length") - 1
            if len(self._buffer) > keep:
                del self._buffer[:len(self._buffer) - keep]
            return False
        del self._buffer[:found.start()]
        self._skipping = False
        return True


def _show(text: bytes, limit: int = 60) -> str:
    shown = text[:limit].decode("utf-8", "replace")
    return repr(shown + ("..." if len(text) > limit else ""))


def encode_frame(body: bytes) -> bytes:
    """``body`` with its header, as the server sends it."""
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
