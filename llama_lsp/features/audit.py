"""The audit trail: one JSON line per model call, appended to a file the user names.

Each line says when, which feature, which files and lines went into the prompt, how many
secret values of each kind were redacted, the token counts, the model (name, engine, file
name, size and SHA-256) and the SHA-256 of the prompt text as the model received it. The
prompt text itself is written only when asked (``auditLogPrompts``).

Hashing a multi-gigabyte model file takes seconds, so the hash is computed once per (path,
size, modification time) and kept for the process. The language server hashes in the
background: lines written before the hash is known carry ``"sha256": null`` and
``"sha256_pending": true``; ``review`` and ``complete`` wait for it.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from llama_lsp.context.redaction import redact
from llama_lsp.model.backend import ModelInfo

HASH_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class Source:
    """Lines of one file that went into a prompt (1-based, inclusive)."""

    path: str
    first_line: int
    last_line: int
    part: str
    """What it is in the prompt: window, definition, similar, code, diff..."""

    def as_json(self) -> dict[str, Any]:
        """The source as the audit line shows it."""
        return {"path": self.path, "lines": [self.first_line, self.last_line],
                "part": self.part}


def lines_of(path: str, first_line: int, text: str, part: str) -> Source:
    """The source of ``text`` taken from ``path`` at 0-based ``first_line``."""
    return Source(path, first_line + 1, first_line + 1 + text.count("\n"), part)


@dataclass(frozen=True)
class AuditTarget:
    """Where audit lines go and whether they include prompt texts; no path: no audit."""

    path: str | None = None
    prompts: bool = False
    wait_for_model_hash: bool = False
    """Hash the model file before writing the first line (batch commands)."""


@dataclass(frozen=True)
class ModelCall:
    """One model call as the audit line records it."""

    feature: str
    sources: tuple[Source, ...]
    redactions: Mapping[str, int]
    prompt_tokens: int
    generated_tokens: int
    prompt_text: str
    extra: Mapping[str, Any] | None = None


_HASHES: dict[tuple[str, int, int], str | None] = {}
_HASH_LOCK = threading.Lock()
_WRITE_LOCK = threading.Lock()


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def model_file_sha256(path: str, wait: bool) -> str | None:
    """The SHA-256 of a model file, cached by path, size and modification time.

    ``wait=False`` never blocks: the first call starts hashing in a background thread and
    returns None until it is done.
    """
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)
    with _HASH_LOCK:
        if key in _HASHES:
            known = _HASHES[key]
            if known is not None or not wait:
                return known
        elif not wait:
            _HASHES[key] = None

            def work() -> None:
                try:
                    value: str | None = _file_sha256(path)
                except OSError:
                    value = None
                with _HASH_LOCK:
                    _HASHES[key] = value
            threading.Thread(target=work, name="llama-lsp-model-hash", daemon=True).start()
            return None
    try:
        value = _file_sha256(path)
    except OSError:
        return None
    with _HASH_LOCK:
        _HASHES[key] = value
    return value


def model_identity(info: ModelInfo, wait: bool) -> dict[str, Any]:
    """Name, engine, and for a local file its name, size and SHA-256."""
    identity: dict[str, Any] = {"name": info.name, "engine": info.engine}
    if info.engine != "embedded" or not os.path.isfile(info.path):
        identity["location"] = redact(info.path, code=False).text  # endpoint, served model
        return identity
    identity["file"] = Path(info.path).name
    identity["size"] = os.path.getsize(info.path)
    identity["sha256"] = model_file_sha256(info.path, wait)
    if identity["sha256"] is None:
        identity["sha256_pending"] = True
    return identity


def prompt_sha256(text: str) -> str:
    """The SHA-256 of a prompt's UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def audit_line(call: ModelCall, info: ModelInfo, target: AuditTarget,
               now: datetime | None = None) -> dict[str, Any]:
    """The JSON object written for ``call``."""
    line: dict[str, Any] = {
        "time": (now or datetime.now(timezone.utc)).isoformat(timespec="milliseconds"),
        "feature": call.feature,
        "sources": [source.as_json() for source in call.sources],
        "redactions": dict(sorted(call.redactions.items())),
        "tokens": {"prompt": call.prompt_tokens, "generated": call.generated_tokens},
        "model": model_identity(info, target.wait_for_model_hash),
        "prompt_sha256": prompt_sha256(call.prompt_text),
    }
    if call.extra:
        line.update(call.extra)
    if target.prompts:
        line["prompt"] = call.prompt_text
    return line


def record(target: AuditTarget, info: ModelInfo, call: ModelCall) -> None:
    """Append ``call`` to the target's file (nothing without a path). Raises OSError."""
    if target.path is None:
        return
    text = json.dumps(audit_line(call, info, target), ensure_ascii=False) + "\n"
    path = Path(target.path).expanduser()
    with _WRITE_LOCK:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)


def check_writable(path: str) -> None:
    """Raise OSError now when ``path`` cannot be appended to (before any model call)."""
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a", encoding="utf-8"):
        pass
