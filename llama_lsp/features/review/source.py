"""Where the diff and the new side of each file come from: git, or a diff file plus the tree."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from llama_lsp.features.review.diff import FileDiff

DiffMode = Literal["base", "staged", "file"]


class SourceError(RuntimeError):
    """No diff could be had (not a git repo, unknown ref, unreadable file); one-line message."""


def _git(root: Path, *args: str) -> bytes:
    """Run git in ``root``; raise :class:`SourceError` with git's own message on failure."""
    try:
        done = subprocess.run(["git", "-c", "core.quotepath=on", *args], cwd=root,
                              capture_output=True, check=False)
    except FileNotFoundError as error:
        raise SourceError("git is not installed or not on PATH") from error
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SourceError(message[0] if message else f"git {args[0]} failed")
    return done.stdout


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

    def diff_text(self, diff_file: str | None = None, stdin_text: str | None = None) -> str:
        """The unified diff as text (bytes that are not UTF-8 become U+FFFD)."""
        if self.mode == "base":
            assert self.base is not None
            try:
                raw = _git(self.root, *_DIFF_ARGS, f"{self.base}...HEAD", "--")
            except SourceError as error:
                if "merge base" in str(error):
                    raise SourceError(f"{error}; a shallow clone? fetch the history of both "
                                      "sides (e.g. actions/checkout with fetch-depth: 0)") from error
                raise
        elif self.mode == "staged":
            raw = _git(self.root, *_DIFF_ARGS, "--cached", "--")
        elif stdin_text is not None:
            return stdin_text
        else:
            assert diff_file is not None
            try:
                raw = Path(diff_file).read_bytes()
            except OSError as error:
                raise SourceError(f"cannot read diff {diff_file}: {error.strerror}") from error
        return raw.decode("utf-8", "replace")

    def new_size(self, path: str) -> int | None:
        """Size in bytes of the new side of ``path``, or None when it cannot be read."""
        if self.mode == "file":
            try:
                return (self.root / path).stat().st_size
            except OSError:
                return None
        try:
            return int(_git(self.root, "cat-file", "-s", self._object(path)))
        except (SourceError, ValueError):
            return None

    def new_content(self, path: str) -> bytes | None:
        """The new side of ``path`` (HEAD, the index, or the working tree), or None."""
        if self.mode == "file":
            try:
                return (self.root / path).read_bytes()
            except OSError:
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
