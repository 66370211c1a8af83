"""On-disk cache of model answers, keyed by the unit's prompt, the model and the settings."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from llama_lsp.model.backend import ModelInfo


def model_identity(info: ModelInfo) -> str:
    """The model's name, file name and size: the same file anywhere gives the same identity."""
    try:
        size = os.path.getsize(info.path)
    except OSError:
        size = -1
    return f"{info.name}|{Path(info.path).name}|{size}"


def answer_key(prompt: str, model: str, settings: str) -> str:
    """The cache key of one unit's answer."""
    digest = hashlib.sha256()
    for part in (prompt, model, settings):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\x00")
    return digest.hexdigest()


class AnswerCache:
    """Answers as small files under ``root/<2 hex>/<key>``; unreadable entries are misses."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def get(self, key: str) -> str | None:
        """The cached answer text, or None."""
        try:
            return self._path(key).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def put(self, key: str, answer: str) -> None:
        """Store an answer (atomically; a failure to write only costs a future re-review)."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(answer)
            os.replace(temporary, path)
        except OSError:
            return
