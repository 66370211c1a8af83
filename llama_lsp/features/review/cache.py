"""On-disk cache of model answers, keyed by the unit's prompt, the model and the settings.

Entries are signed: an HMAC-SHA256 with a secret key that only the CI job holds (an environment
variable it names). A file a contributor commits or a cache restored from elsewhere cannot
forge one, so an unsigned or altered entry is a miss, never a trusted answer. File names are
HMACs too, so a name says nothing about the code it belongs to.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import tempfile
from pathlib import Path

from llama_lsp.features.review.safe_io import links_on_the_way, read_inside
from llama_lsp.model.backend import ModelInfo

MIN_KEY_BYTES = 16
MAX_ENTRY_BYTES = 1_000_000
_MAGIC = b"llama-lsp review cache 1\n"


class CacheError(ValueError):
    """A cache the CI job asked for that cannot be used safely; one-line message."""


def model_identity(info: ModelInfo) -> str:
    """The model's name, file name and size: the same file anywhere gives the same identity."""
    try:
        size = os.path.getsize(info.path)
    except OSError:
        size = -1
    return f"{info.name}|{Path(info.path).name}|{size}"


def answer_key(prompt: str, model: str, settings: str) -> str:
    """The cache key of one unit's answer (a digest of its inputs)."""
    digest = hashlib.sha256()
    for part in (prompt, model, settings):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\x00")
    return digest.hexdigest()


class AnswerCache:
    """Signed answers as small files under ``root/<2 hex>/<name>``; an entry that is missing,
    unsigned, altered, oversized or reached through a symbolic link is a miss."""

    def __init__(self, root: Path, secret: bytes) -> None:
        if len(secret) < MIN_KEY_BYTES:
            raise CacheError(f"the cache key must be at least {MIN_KEY_BYTES} bytes long")
        self.root = root
        self._secret = secret

    def _mac(self, *parts: bytes) -> str:
        return hmac.new(self._secret, b"\x00".join(parts), hashlib.sha256).hexdigest()

    def _name(self, key: str) -> str:
        return self._mac(b"name", key.encode("ascii", "replace"))

    def get(self, key: str) -> str | None:
        """The cached answer text, or None."""
        name = self._name(key)
        data = read_inside(self.root, f"{name[:2]}/{name}", MAX_ENTRY_BYTES)
        if data is None or not data.startswith(_MAGIC):
            return None
        tag, _, answer = data[len(_MAGIC):].partition(b"\n")
        expected = self._mac(b"entry", name.encode("ascii"), answer).encode("ascii")
        if not hmac.compare_digest(tag, expected):
            return None
        try:
            return answer.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def put(self, key: str, answer: str) -> None:
        """Store a signed answer (atomically; a failure to write only costs a re-review)."""
        name = self._name(key)
        body = answer.encode("utf-8", "surrogatepass")
        tag = self._mac(b"entry", name.encode("ascii"), body).encode("ascii")
        folder = self.root / name[:2]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if not stat.S_ISDIR(os.lstat(folder).st_mode):  # a symbolic link: never written
                return
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            with os.fdopen(handle, "wb") as out:
                out.write(_MAGIC + tag + b"\n" + body)
            os.replace(temporary, folder / name)  # replaces a link itself, never its target
        except OSError:
            return


def open_cache(root: Path, secret: str | None, checkout: Path) -> AnswerCache:
    """The cache in the folder the CI job named. Raises :class:`CacheError` when the folder, or
    a folder above it inside the ``checkout``, is a symbolic link, or the key is too short."""
    if (link := links_on_the_way(root, checkout)) is not None:
        raise CacheError(f"{link} is a symbolic link")
    return AnswerCache(root, (secret or "").encode("utf-8"))
