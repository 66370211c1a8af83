"""Files read and written by a review run, never through a symbolic link out of a directory.

The tree under review is untrusted: a pull request can commit a symbolic link in place of a
source file, of a folder, of an output file or of the cache folder. Reads here open each path
component relative to the last with ``O_NOFOLLOW`` (no window between checking and opening), and
accept only regular files; writes never follow a link inside the checkout.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_BINARY = getattr(os, "O_BINARY", 0)


class UnsafePath(OSError):
    """A path that leaves its directory, or passes through a symbolic link."""


def relative_parts(path: str) -> tuple[str, ...]:
    """The components of a repo-relative ``path``; raises :class:`UnsafePath` for an absolute
    path, ``..``, an empty name or a NUL byte."""
    pure = PurePosixPath(path)
    if not path or "\x00" in path or pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise UnsafePath(f"{path!r} is not a path inside the repository")
    return pure.parts


def _open_inside(root: Path, path: str) -> int:
    """A read-only descriptor of regular file ``root/path``, opened without following links."""
    parts = relative_parts(path)
    if os.open not in os.supports_dir_fd:  # pragma: no cover - Windows
        return _open_checked(root, parts)
    directory = os.open(root, os.O_RDONLY | _DIRECTORY)
    try:
        for part in parts[:-1]:
            try:
                inner = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=directory)
            except OSError as error:
                raise UnsafePath(f"{path!r}: {part!r} is not a folder ({error.strerror})") \
                    from error
            os.close(directory)
            directory = inner
        try:
            handle = os.open(parts[-1], os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _BINARY,
                             dir_fd=directory)
        except OSError as error:
            raise UnsafePath(f"{path!r} cannot be opened ({error.strerror})") from error
    finally:
        os.close(directory)
    if not stat.S_ISREG(os.fstat(handle).st_mode):
        os.close(handle)
        raise UnsafePath(f"{path!r} is not a regular file")
    return handle


def _open_checked(root: Path, parts: tuple[str, ...]) -> int:  # pragma: no cover - Windows
    """The same without ``dir_fd``: every component is checked with ``lstat`` first."""
    current = root
    for part in parts:
        current = current / part
        if stat.S_ISLNK(os.lstat(current).st_mode):
            raise UnsafePath(f"{'/'.join(parts)!r} passes through a symbolic link")
    handle = os.open(current, os.O_RDONLY | _BINARY)
    if not stat.S_ISREG(os.fstat(handle).st_mode):
        os.close(handle)
        raise UnsafePath(f"{'/'.join(parts)!r} is not a regular file")
    return handle


def size_inside(root: Path, path: str) -> int | None:
    """Size of regular file ``root/path``; None when it is missing, not a regular file, or
    reached through a symbolic link."""
    try:
        handle = _open_inside(root, path)
    except OSError:
        return None
    try:
        return os.fstat(handle).st_size
    finally:
        os.close(handle)


def read_inside(root: Path, path: str, limit: int) -> bytes | None:
    """The bytes of regular file ``root/path`` (None as for :func:`size_inside`, or when it
    holds more than ``limit`` bytes)."""
    try:
        handle = _open_inside(root, path)
    except OSError:
        return None
    try:
        if os.fstat(handle).st_size > limit:
            return None
        chunks = []
        left = limit + 1
        while left > 0 and (chunk := os.read(handle, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        return None if len(data) > limit else data
    except OSError:
        return None
    finally:
        os.close(handle)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def links_on_the_way(path: Path, root: Path) -> Path | None:
    """The first symbolic link among ``path`` and its folders below ``root``, or None.

    Only the part inside ``root`` (the checkout, which a pull request controls) is checked; a
    folder the CI job names outside it is its own business.
    """
    path, root = Path(os.path.abspath(path)), Path(os.path.abspath(root))
    if not _inside(path, root):
        return None
    current = root
    for part in path.relative_to(root).parts:
        current = current / part
        try:
            if stat.S_ISLNK(os.lstat(current).st_mode):
                return current
        except OSError:
            return None  # it does not exist yet: nothing further down exists either
    return None


def write_text(path: Path, text: str, root: Path) -> None:
    """Write ``text`` to ``path`` (folders created). Inside ``root`` no symbolic link is
    followed: a link at ``path`` itself is replaced by the file, a linked folder raises
    :class:`UnsafePath`."""
    if (link := links_on_the_way(path.parent, root)) is not None:
        raise UnsafePath(f"{link} is a symbolic link")
    path.parent.mkdir(parents=True, exist_ok=True)
    if (link := links_on_the_way(path.parent, root)) is not None:
        raise UnsafePath(f"{link} is a symbolic link")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _BINARY
    if _inside(Path(os.path.abspath(path)), Path(os.path.abspath(root))):
        if path.is_symlink():
            path.unlink()
        flags |= _NOFOLLOW
    with os.fdopen(os.open(path, flags, 0o644), "w", encoding="utf-8") as out:
        out.write(text)
