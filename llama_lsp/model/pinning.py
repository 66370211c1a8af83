"""Model pinning: refuse a model file whose SHA-256 is not the approved one (``modelSha256``).

Hashing a multi-GB file takes seconds, so a file's hash is computed once and kept in a small
cache file, keyed by the file's path, size, modification time, change time and inode. Any
rewrite, copy or ``touch`` of the file changes one of these and the hash is computed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import threading
from pathlib import Path

from llama_lsp.model.backend import ModelError

CACHE_FILE_NAME = "model-sha256.json"
_CHUNK = 4 * 1024 * 1024
_lock = threading.Lock()


def cache_dir() -> Path:
    """Where llama-lsp keeps small caches for this user (XDG_CACHE_HOME, LOCALAPPDATA, ~/.cache)."""
    if base := os.environ.get("XDG_CACHE_HOME"):
        return Path(base) / "llama-lsp"
    if sys.platform == "win32" and (local := os.environ.get("LOCALAPPDATA")):
        return Path(local) / "llama-lsp" / "cache"
    return Path.home() / ".cache" / "llama-lsp"


def file_sha256(path: Path) -> str:
    """The SHA-256 of ``path``'s bytes, as 64 lowercase hex digits (reads the whole file)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _stamp(path: Path) -> list[int]:
    info = path.stat()
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def _read_cache(file: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(file: Path, data: dict[str, dict[str, object]]) -> None:
    """Replace the cache file atomically; a cache that cannot be written is only slower."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=file.parent, prefix=".model-sha256-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1, sort_keys=True)
        os.replace(temporary, file)
    except OSError:
        pass


def cached_sha256(path: Path, fresh: bool = False) -> tuple[str, bool]:
    """The file's SHA-256 and whether it came from the cache (``fresh`` always reads the file).

    Raises :class:`ModelError` when the file cannot be read.
    """
    key = str(path.resolve())
    cache_file = cache_dir() / CACHE_FILE_NAME
    with _lock:
        try:
            stamp = _stamp(path)
            entries = _read_cache(cache_file)
            entry = entries.get(key)
            if not fresh and isinstance(entry, dict) and entry.get("stamp") == stamp:
                digest = entry.get("sha256")
                if isinstance(digest, str) and len(digest) == 64:
                    return digest, True
            digest = file_sha256(path)
            if _stamp(path) != stamp:  # changed while being read: do not cache a torn hash
                return digest, False
        except OSError as error:
            raise ModelError(f"cannot read model file {path} to check its SHA-256: "
                             f"{error.strerror or error}") from error
        entries = {path: entry for path, entry in entries.items() if os.path.exists(path)}
        entries[key] = {"stamp": stamp, "sha256": digest}
        _write_cache(cache_file, entries)
        return digest, False


def pin_mismatch_message(path: Path, actual: str, expected: str) -> str:
    """The error for a model file that is not the pinned one: the file and both hashes."""
    return (f"model file {path} has SHA-256 {actual}, but modelSha256 pins {expected}: refusing "
            "to load it (use the approved file, or correct modelSha256)")


def verify_model_sha256(path: Path, expected: str | None) -> str | None:
    """Raise :class:`ModelError` unless ``path`` hashes to ``expected``; return its hash.

    Without a pin (``expected`` None) nothing is read and None is returned.
    """
    if not expected:
        return None
    actual, _ = cached_sha256(path)
    if actual != expected.lower():
        raise ModelError(pin_mismatch_message(path, actual, expected.lower()))
    return actual
