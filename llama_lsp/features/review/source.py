"""Where the diff and the new side of each file come from: git, or a diff file plus the tree."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Literal

from llama_lsp.features.review.diff import FileDiff
from llama_lsp.features.review.safe_io import read_inside, size_inside

DiffMode = Literal["base", "staged", "file"]


class SourceError(RuntimeError):
    """No diff could be had (not a git repo, unknown ref, unreadable file); one-line message."""


def _git(root: Path, *args: str, limit: int | None = None) -> bytes:
    """Run git in ``root``; raise :class:`SourceError` with git's own message on failure, or
    when its output passes ``limit`` bytes (git is stopped then, nothing more is read)."""
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(["git", "-c", "core.quotepath=on", *args], cwd=root,
                                       stdout=subprocess.PIPE, stderr=errors)
        except FileNotFoundError as error:
            raise SourceError("git is not installed or not on PATH") from error
        with process:
            assert process.stdout is not None
            out = read_limited(process.stdout, sys.maxsize if limit is None else limit)
            if limit is not None and len(out) > limit:
                process.kill()
                raise SourceError(too_large(f"git {args[0]}", limit))
        errors.seek(0)
        err = errors.read()
    if process.returncode != 0:
        message = err.decode("utf-8", "replace").strip().splitlines()
        raise SourceError(message[0] if message else f"git {args[0]} failed")
    return out


def read_limited(stream: BinaryIO, limit: int) -> bytes:
    """Up to ``limit + 1`` bytes of ``stream`` (one more than allowed tells it is too long)."""
    chunks = []
    left = limit + 1
    while left > 0 and (chunk := stream.read(min(left, 1 << 20))):
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def too_large(what: str, limit: int) -> str:
    """The message for a diff over ``--max-diff-bytes``."""
    return f"the diff from {what} is larger than {limit:,} bytes (--max-diff-bytes)"


def repo_root(start: Path) -> Path:
    """The top of the git work tree holding ``start``."""
    try:
        out = _git(start, "rev-parse", "--show-toplevel")
    except SourceError as error:
        raise SourceError(f"not a git repository ({error})") from error
    return Path(out.decode("utf-8").strip())


_DIFF_ARGS = ("diff", "--no-color", "--no-ext-diff", "--no-textconv", "--find-renames",
              "--src-prefix=a/", "--dst-prefix=b/", "--unified=3")


@dataclass(frozen=True)
class DiffSource:
    """A diff and a way to read the new side of the files it changes."""

    mode: DiffMode
    root: Path
    base: str | None = None
    max_diff_bytes: int = 64 * 1024 * 1024
    """A larger diff raises :class:`SourceError` before more of it is read."""
    max_file_bytes: int = 1_000_000
    """New content larger than this is never read (the runner skips it by its size)."""

    def diff_text(self, diff_file: str | None = None, stdin: BinaryIO | None = None) -> str:
        """The unified diff as text (bytes that are not UTF-8 become U+FFFD); a diff over
        ``max_diff_bytes`` raises :class:`SourceError` before more of it is read."""
        limit = self.max_diff_bytes
        if self.mode == "base":
            assert self.base is not None
            try:
                raw = _git(self.root, *_DIFF_ARGS, f"{self.base}...HEAD", "--", limit=limit)
            except SourceError as error:
                if "merge base" in str(error):
                    raise SourceError(f"{error}; a shallow clone? fetch the history of both "
                                      "sides (e.g. actions/checkout with fetch-depth: 0)") from error
                raise
        elif self.mode == "staged":
            raw = _git(self.root, *_DIFF_ARGS, "--cached", "--", limit=limit)
        elif stdin is not None:
            raw = read_limited(stdin, limit)
            if len(raw) > limit:
                raise SourceError(too_large("standard input", limit))
        else:
            assert diff_file is not None
            try:
                with open(diff_file, "rb") as handle:
                    raw = read_limited(handle, limit)
            except OSError as error:
                raise SourceError(f"cannot read diff {diff_file}: {error.strerror}") from error
            if len(raw) > limit:
                raise SourceError(too_large(diff_file, limit))
        return raw.decode("utf-8", "replace")

    def new_size(self, path: str) -> int | None:
        """Size in bytes of the new side of ``path``, or None when it cannot be read (in the
        working tree: also a symbolic link, a path through one, or not a regular file)."""
        if self.mode == "file":
            return size_inside(self.root, path)
        try:
            return int(_git(self.root, "cat-file", "-s", self._object(path)))
        except (SourceError, ValueError):
            return None

    def new_content(self, path: str) -> bytes | None:
        """The new side of ``path`` (HEAD, the index, or the working tree), or None (as for
        :meth:`new_size`, or over ``max_file_bytes``)."""
        if self.mode == "file":
            return read_inside(self.root, path, self.max_file_bytes)
        size = self.new_size(path)
        if size is None or size > self.max_file_bytes:
            return None
        try:
            return _git(self.root, "cat-file", "blob", self._object(path))
        except SourceError:
            return None

    def _object(self, path: str) -> str:
        return f":{path}" if self.mode == "staged" else f"HEAD:{path}"

    def verify(self) -> None:
        """Fail early with a clear message when the base ref does not exist."""
        if self.mode == "base":
            assert self.base is not None
            try:
                _git(self.root, "rev-parse", "--verify", "--quiet", f"{self.base}^{{commit}}")
            except SourceError as error:
                raise SourceError(f"unknown git ref {self.base!r}") from error


def make_relative(files: list[FileDiff], root: Path) -> list[FileDiff]:
    """Absolute paths under ``root`` (from ``diff -u /abs/old /abs/new``) made repo-relative."""
    resolved = root.resolve()

    def relative(path: str | None) -> str | None:
        if path is None or not PurePosixPath(path).is_absolute():
            return path
        try:
            return Path(path).resolve().relative_to(resolved).as_posix()
        except ValueError:
            return path

    for file in files:
        file.old_path, file.new_path = relative(file.old_path), relative(file.new_path)
    return files
