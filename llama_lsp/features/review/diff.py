"""Parse unified diffs (``git diff`` output or plain ``diff -u``) into files and hunks.

Handles renames, copies, new and deleted files, binary files (``Binary files ... differ`` and
``GIT binary patch``), C-quoted non-ASCII paths (``"a/\\303\\244.py"``), CRLF line endings and
``\\ No newline at end of file``. Line numbers are 1-based, as in the diff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

FileStatus = Literal["added", "modified", "deleted", "renamed", "copied"]

_HUNK_HEADER = re.compile(r"^@@ -(\d{1,20})(?:,(\d{1,20}))? \+(\d{1,20})(?:,(\d{1,20}))? @@")
_MODE = re.compile(r"(?:^new mode |\s)(\d{6})$")
_OCTAL = re.compile(rb"\\([0-7]{3})")
_ESCAPES = {b"n": b"\n", b"t": b"\t", b'"': b'"', b"\\": b"\\", b"a": b"\a", b"b": b"\b",
            b"f": b"\f", b"r": b"\r", b"v": b"\v"}


MAX_LINE_NUMBER = 10_000_000
"""The largest line number a hunk header may name: larger files are refused before anything is
built from them (a 69-byte header could otherwise ask for a trillion-line file)."""


class DiffError(ValueError):
    """Text that is not a unified diff."""


@dataclass(frozen=True)
class DiffLine:
    """One line of a hunk: ``kind`` is '+', '-' or ' '; numbers are None on the other side."""

    kind: str
    old_line: int | None
    new_line: int | None
    text: str


@dataclass
class Hunk:
    """One ``@@`` block."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: list[DiffLine] = field(default_factory=list)

    @property
    def added_lines(self) -> list[int]:
        """New-side numbers of the added lines."""
        return [line.new_line for line in self.lines if line.kind == "+" and line.new_line]

    @property
    def new_end(self) -> int:
        """Last new-side line the hunk covers (``new_start - 1`` for a pure deletion)."""
        return self.new_start + max(self.new_count, 1) - 1


@dataclass
class FileDiff:
    """The changes to one file. Paths are repo-relative, without ``a/``/``b/`` prefixes."""

    old_path: str | None
    new_path: str | None
    status: FileStatus = "modified"
    binary: bool = False
    hunks: list[Hunk] = field(default_factory=list)
    mode: str | None = None
    """The new side's git file mode when the diff says it (``120000`` symlink, ``160000``
    submodule)."""

    @property
    def path(self) -> str:
        """The path to report: the new one, or the old one for a deleted file."""
        return self.new_path or self.old_path or ""

    @property
    def added_lines(self) -> set[int]:
        """New-side numbers of every added or changed line."""
        return {number for hunk in self.hunks for number in hunk.added_lines}


def _shown_new_lines(file: FileDiff) -> dict[int, str]:
    return {line.new_line: line.text for hunk in file.hunks for line in hunk.lines
            if line.new_line is not None}


def new_side_size(file: FileDiff) -> int:
    """Bytes :func:`new_side_text` would build, computed without building it."""
    shown = _shown_new_lines(file)
    return max(shown, default=0) + sum(len(text.encode("utf-8", "surrogatepass"))
                                       for text in shown.values())


def new_side_text(file: FileDiff) -> str:
    """The new side as far as the hunks show it; lines they do not show are left empty.

    Check :func:`new_side_size` first: the text is as long as the last line number shown.
    """
    shown = _shown_new_lines(file)
    last = max(shown, default=0)
    return "".join(shown.get(number, "") + "\n" for number in range(1, last + 1))


def matches_new_side(file: FileDiff, lines: list[str]) -> bool:
    """True when ``lines`` (a file's text) agree with every line the hunks show on the new side."""
    for hunk in file.hunks:
        for line in hunk.lines:
            if line.new_line is not None and (
                    line.new_line > len(lines) or lines[line.new_line - 1] != line.text):
                return False
    return True


def unquote_path(text: str) -> str:
    """A path as git writes it: C-quoted (octal UTF-8 bytes, backslash escapes) or plain."""
    text = text.rstrip("\t")
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return text
    raw = text[1:-1].encode("utf-8", "surrogateescape")
    out = bytearray()
    index = 0
    while index < len(raw):
        char = raw[index:index + 1]
        if char == b"\\" and index + 1 < len(raw):
            if match := _OCTAL.match(raw, index):
                out.append(int(match.group(1), 8))
                index += 4
                continue
            out += _ESCAPES.get(raw[index + 1:index + 2], raw[index + 1:index + 2])
            index += 2
            continue
        out += char
        index += 1
    return out.decode("utf-8", "replace")


def _strip_prefix(path: str | None) -> str | None:
    """``a/x`` -> ``x``; ``/dev/null`` -> None."""
    if path is None or path == "/dev/null":
        return None
    if path.startswith(("a/", "b/")):
        return path[2:]
    return path


def _header_path(rest: str) -> str | None:
    """The path of a ``---``/``+++`` line (a trailing tab and timestamp dropped)."""
    if rest.startswith('"'):
        end = rest.find('"', 1)
        while end > 0 and rest[end - 1] == "\\" and rest[end - 2:end] != "\\\\":
            end = rest.find('"', end + 1)
        return _strip_prefix(unquote_path(rest[:end + 1] if end > 0 else rest))
    return _strip_prefix(rest.split("\t", 1)[0].rstrip())


def _git_header_paths(rest: str) -> tuple[str | None, str | None]:
    """Both paths of ``diff --git a/x b/y`` (quoted or not; ambiguous spaces split in half)."""
    if rest.startswith('"'):
        end = rest.find('" ', 1)
        first = rest[:end + 1]
        second = rest[end + 2:]
        return _strip_prefix(unquote_path(first)), _strip_prefix(unquote_path(second))
    if rest.endswith('"'):
        start = rest.rfind(' "')
        return _strip_prefix(rest[:start]), _strip_prefix(unquote_path(rest[start + 1:]))
    if rest.startswith("a/") and " b/" in rest:
        middle = len(rest) // 2
        if rest[middle] == " " and rest[:middle][2:] == rest[middle + 1:][2:]:
            return rest[2:middle], rest[middle + 3:]
        old, new = rest.split(" b/", 1)
        return old[2:], new
    parts = rest.split(" ", 1)
    return _strip_prefix(parts[0]), _strip_prefix(parts[-1])


def parse_diff(text: str) -> list[FileDiff]:
    """Every file in the unified diff ``text``; raises :class:`DiffError` on malformed hunks."""
    files: list[FileDiff] = []
    headed: dict[int, list[bool]] = {}  # id(file) -> [saw '---', saw '+++']
    current: FileDiff | None = None
    hunk: Hunk | None = None
    old_line = new_line = 0
    old_left = new_left = 0
    rows = text.split("\n")
    if rows[-1] == "":
        rows.pop()  # the text after the last newline is no line
    for raw in rows:
        line = raw[:-1] if raw.endswith("\r") else raw
        if hunk is not None and (old_left > 0 or new_left > 0):
            marker = line[:1]
            if marker == "\\":
                continue
            if marker in ("+", "-", " ") or line == "":
                kind = marker or " "
                body = raw[1:]
                body = body[:-1] if body.endswith("\r") else body
                if kind == "+":
                    hunk.lines.append(DiffLine("+", None, new_line, body))
                    new_line += 1
                    new_left -= 1
                elif kind == "-":
                    hunk.lines.append(DiffLine("-", old_line, None, body))
                    old_line += 1
                    old_left -= 1
                else:
                    hunk.lines.append(DiffLine(" ", old_line, new_line, body))
                    old_line += 1
                    new_line += 1
                    old_left -= 1
                    new_left -= 1
                if old_left < 0 or new_left < 0:
                    raise DiffError(f"hunk in {current.path if current else '?'} is longer "
                                    "than its @@ header says")
                continue
            raise DiffError(f"hunk in {current.path if current else '?'} ends early "
                            f"(unexpected line {line[:40]!r})")
        if line.startswith("\\"):
            continue
        if line.startswith("diff --git "):
            old, new = _git_header_paths(line[len("diff --git "):])
            current = FileDiff(old, new)
            files.append(current)
            hunk = None
        elif line.startswith("--- "):
            if current is None or current.hunks:  # a plain ``diff -u`` file starts here
                current = FileDiff(None, None)
                files.append(current)
                hunk = None
            current.old_path = _header_path(line[4:])
            headed.setdefault(id(current), [False, False])[0] = True
        elif line.startswith("+++ ") and current is not None:
            current.new_path = _header_path(line[4:])
            headed.setdefault(id(current), [False, False])[1] = True
            if current.old_path is None:
                current.status = "added"
            elif current.new_path is None:
                current.status = "deleted"
        elif current is not None and line.startswith(("index ", "new mode ")):
            if match := _MODE.search(line):
                current.mode = match.group(1)
        elif current is not None and line.startswith(("new file mode", "deleted file mode")):
            if line.startswith("new"):
                current.mode = line.rsplit(" ", 1)[-1]
            current.status = "added" if line.startswith("new") else "deleted"
            if current.status == "added":
                current.old_path = None
            else:
                current.new_path = None
        elif current is not None and line.startswith(("rename from ", "copy from ")):
            current.old_path = unquote_path(line.split(" from ", 1)[1])
            current.status = "renamed" if line.startswith("rename") else "copied"
        elif current is not None and line.startswith(("rename to ", "copy to ")):
            current.new_path = unquote_path(line.split(" to ", 1)[1])
        elif current is not None and (line.startswith("Binary files ")
                                      or line == "GIT binary patch"):
            current.binary = True
        elif line.startswith("@@"):
            match = _HUNK_HEADER.match(line)
            if match is None or current is None:
                raise DiffError(f"malformed hunk header {line[:60]!r}")
            old_start, old_count, new_start, new_count = (
                int(match.group(1)), int(match.group(2) or 1),
                int(match.group(3)), int(match.group(4) or 1))
            _check_range(current, old_start, old_count, line)
            _check_range(current, new_start, new_count, line)
            hunk = Hunk(old_start, old_count, new_start, new_count)
            current.hunks.append(hunk)
            old_line, new_line = old_start, new_start
            old_left, new_left = old_count, new_count
    if hunk is not None and (old_left > 0 or new_left > 0) and not _only_blank_missing(
            hunk, old_left, new_left, text):
        raise DiffError(f"the diff ends inside a hunk of {current.path if current else '?'}")
    _check_complete(files, headed, text)
    return files


def _check_range(file: FileDiff, start: int, count: int, header: str) -> None:
    """A hunk header's range: within :data:`MAX_LINE_NUMBER`, and not at line 0 unless empty."""
    if start + count - 1 > MAX_LINE_NUMBER:
        raise DiffError(f"hunk header {header[:60]!r} in {file.path or '?'} reaches past line "
                        f"{MAX_LINE_NUMBER:,}; files that long are not reviewed")
    if count > 0 and start == 0:
        raise DiffError(f"malformed hunk header {header[:60]!r}: line numbers start at 1")


def _check_complete(files: list[FileDiff], headed: dict[int, list[bool]], text: str) -> None:
    """Input that is not empty must hold a diff, and every ``---``/``+++`` header its hunks."""
    if not files and text.strip():
        raise DiffError("the input is not a unified diff (no 'diff --git' or '---'/'+++' "
                        "file header)")
    for file in files:
        minus, plus = headed.get(id(file), (False, False))
        if minus and not plus:
            raise DiffError(f"'---' header of {file.path or '?'} without its '+++' line")
        if plus and not file.hunks and not file.binary:
            raise DiffError(f"file header of {file.path or '?'} without any hunk (a truncated "
                            "diff?)")


def _only_blank_missing(hunk: Hunk, old_left: int, new_left: int, text: str) -> bool:
    """A final context line that was an empty line may be lost by a stripped trailing newline
    (but a hunk with no line at all is truncated)."""
    return bool(hunk.lines) and old_left == new_left == 1 and text.endswith("\n")
