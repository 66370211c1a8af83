"""Which files may never reach a prompt: ignored, secret-bearing, binary or too large."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from llama_lsp.config.settings import DEFAULT_SECRET_PATTERNS

BINARY_SNIFF_BYTES = 8192


@dataclass
class _IgnoreFile:
    mtime_ns: int
    spec: pathspec.GitIgnoreSpec


def secret_reason(path: str, patterns: Iterable[str]) -> str | None:
    """Why the file at ``path`` (a name, or a path relative to its project, ``/``-separated)
    looks like it holds secrets, or None: a pattern matches its name or a folder's
    (``secrets/vault.py`` matches ``*secret*``)."""
    parts = [part for part in path.replace("\\", "/").split("/") if part]
    for pattern in patterns:
        for part in reversed(parts):
            if fnmatch.fnmatch(part, pattern) or fnmatch.fnmatch(part.lower(), pattern):
                what = "file" if part == parts[-1] else f"folder {part!r}"
                return f"secret-bearing {what} (matches {pattern!r})"
    return None


@dataclass
class ExclusionPolicy:
    """Decides, with a reason, whether a file's text may be used as prompt context."""

    roots: list[Path]
    secret_patterns: tuple[str, ...] = DEFAULT_SECRET_PATTERNS
    max_bytes: int = 2_000_000
    _ignore_files: dict[Path, _IgnoreFile | None] = field(default_factory=dict)
    _roots: list[Path] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        # Roots as the editor names them and resolved (resolvers may return resolved paths).
        self._roots = sorted({*self.roots, *(root.resolve() for root in self.roots)},
                             key=lambda root: len(root.parts), reverse=True)

    def secret_reason(self, path: Path) -> str | None:
        """Why ``path`` looks like it holds secrets (its name, or a folder's between its root
        and itself), or None."""
        root = self._root_of(path)
        relative = path.relative_to(root).as_posix() if root is not None else path.name
        return secret_reason(relative, self.secret_patterns)

    def ignored_reason(self, path: Path) -> str | None:
        """Why ``path`` is ignored by a .gitignore between its root and itself, or None.

        As in git: a path is ignored when it or a directory above it is (nothing inside an
        ignored directory can be re-included), and for each the deepest .gitignore with a
        matching pattern decides (a nested ``!pattern`` overrides a parent's pattern).
        """
        root = self._root_of(path)
        if root is None:
            return None
        parts = path.relative_to(root).parts
        if ".git" in parts:
            return "inside .git"
        directories = [root.joinpath(*parts[:level]) for level in range(len(parts))]
        specs = [self._ignore_spec(directory) for directory in directories]
        for depth in range(1, len(parts) + 1):
            suffix = "/" if depth < len(parts) else ""
            for level in range(depth - 1, -1, -1):  # the deepest .gitignore first
                spec = specs[level]
                if spec is None:
                    continue
                ignored = spec.check_file("/".join(parts[level:depth]) + suffix).include
                if ignored is not None:
                    if ignored:
                        return f"ignored by {directories[level] / '.gitignore'}"
                    break
        return None

    def content_reason(self, path: Path) -> str | None:
        """Why the file's content is unusable (missing, too large, binary), or None."""
        try:
            size = path.stat().st_size
        except OSError as error:
            return f"unreadable ({error.strerror})"
        if size > self.max_bytes:
            return f"larger than {self.max_bytes} bytes"
        try:
            with path.open("rb") as handle:
                head = handle.read(BINARY_SNIFF_BYTES)
        except OSError as error:
            return f"unreadable ({error.strerror})"
        if b"\x00" in head:
            return "binary"
        return None

    def excluded_reason(self, path: Path) -> str | None:
        """The first reason ``path`` must stay out of prompts, or None when it may be used."""
        return self.secret_reason(path) or self.ignored_reason(path) or self.content_reason(path)

    def _root_of(self, path: Path) -> Path | None:
        for root in self._roots:
            if path.is_relative_to(root):
                return root
        return None

    def _ignore_spec(self, directory: Path) -> pathspec.GitIgnoreSpec | None:
        ignore_path = directory / ".gitignore"
        try:
            mtime = ignore_path.stat().st_mtime_ns
        except OSError:
            self._ignore_files[directory] = None
            return None
        cached = self._ignore_files.get(directory)
        if cached is None or cached.mtime_ns != mtime:
            lines = ignore_path.read_text(encoding="utf-8", errors="replace").splitlines()
            cached = _IgnoreFile(mtime, pathspec.GitIgnoreSpec.from_lines(lines))
            self._ignore_files[directory] = cached
        return cached.spec


def read_context_file(path: Path, policy: ExclusionPolicy) -> str | None:
    """The text of ``path`` if the policy allows it in a prompt, else None."""
    if policy.excluded_reason(path) is not None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
