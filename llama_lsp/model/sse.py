"""Server-sent events (the ``text/event-stream`` format) read line by line from a response."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerEvent:
    """One event: its type (``message`` unless the server names one) and its data lines."""

    event: str
    data: str


def parse_events(lines: Iterable[bytes]) -> Iterator[ServerEvent]:
    """Events from raw lines (with or without line endings), per the WHATWG rules.

    Comments (``:``) and ``id``/``retry`` fields are skipped; llama.cpp's non-standard
    ``error: {...}`` line is returned as an event named ``error``.
    """
    event = ""
    data: list[str] = []
    for raw in lines:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if data:
                yield ServerEvent(event or "message", "\n".join(data))
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "error":
            data.append(value)
            event = "error"
    if data:
        yield ServerEvent(event or "message", "\n".join(data))
