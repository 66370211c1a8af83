"""A copy of a large-vocabulary model whose output layer has only the tokens code uses.

Gemma's 262,144-token output layer costs more per generated token than all its 18 layers
together (the demo model: about 15 of 27 ms on one core). Most of those tokens are words of
other languages and scripts that code and its comments do not use. For a model with a
SentencePiece vocabulary of at least :data:`MIN_VOCABULARY` tokens, this writes (once, into
the user's cache) a copy that keeps:

- every token that is not a plain text piece (control, user-defined, byte and unknown tokens);
- the plain pieces listed in ``data/code_vocabulary.txt.gz`` (tokens seen tokenizing 75 MB of
  code in 14 languages and 56 MB of English technical prose, plus Gemma's 20,000
  highest-priority ASCII merges; ``docs/code-vocabulary.md`` says how it was made);
- every printable ASCII character, tab, newline and the space piece (U+2581);
- every piece the tokenizer passes through to build a kept piece (its merge path).

The last rule keeps the tokenizer exact: SentencePiece merges the best-scoring adjacent pair
first, and a removed piece was never on the merge path of a kept one, so any text whose
tokens are all kept is tokenized exactly as before. Text with other pieces (a word in another
script, say) is spelt with smaller pieces or bytes, and the model can no longer produce the
removed pieces. BPE vocabularies (Qwen, DeepSeek, StarCoder) are loaded as they are.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

import numpy as np

from llama_lsp.model.gguf_vocabulary import (
    SCORES_KEY,
    TYPES_KEY,
    GgufFormatError,
    GgufHeader,
    read_header,
    write_with_vocabulary,
)

logger = logging.getLogger(__name__)

MIN_VOCABULARY = 100_000
"""Smaller vocabularies are left alone: their output layer costs little already."""
MAX_KEPT_SHARE = 0.75
"""A copy that would keep more than this share of the text pieces is not worth making."""
NORMAL_TOKEN = 1
"""``tokenizer.ggml.token_type`` of a plain text piece (llama.cpp's LLAMA_TOKEN_TYPE_NORMAL)."""
FORMAT = "1"
"""Bump when the rules change, so that older copies are made again."""
LIST_RESOURCE = "data/code_vocabulary.txt.gz"
MARK_KEY = "llama_lsp.code_vocabulary"


@dataclass(frozen=True)
class ModelFile:
    """The file to load, and what was done to its vocabulary (for ``doctor`` and the log)."""

    path: Path
    vocabulary: str


@cache
def code_pieces() -> frozenset[str]:
    """The listed pieces (SentencePiece text, spaces as U+2581)."""
    resource = files("llama_lsp.model").joinpath(LIST_RESOURCE)
    with gzip.open(resource.open("rb"), "rt", encoding="utf-8") as lines:
        return frozenset(json.loads(line) for line in lines if line.strip())


def with_code_vocabulary(path: Path, cache_dir: Path, listed: frozenset[str] | None = None,
                         min_vocabulary: int = MIN_VOCABULARY) -> ModelFile:
    """The copy of ``path`` with the code vocabulary (made now if missing), or ``path`` itself
    with the reason when the model does not qualify or the copy cannot be written.

    ``listed``: the pieces to keep (default: :func:`code_pieces`)."""
    try:
        target = _copy_path(path, cache_dir, listed)
    except OSError as error:
        return ModelFile(path, f"full (not read: {error})")
    try:
        made = read_header(target).scalar(MARK_KEY) if target.is_file() else None
    except (OSError, GgufFormatError):
        made = None  # made again below
    if isinstance(made, str):
        return ModelFile(target, made)
    try:
        header = read_header(path)
    except (OSError, GgufFormatError) as error:
        return ModelFile(path, f"full (not read: {error})")
    size = len(header.vocabulary)
    if header.scalar("tokenizer.ggml.model") != "llama":
        return ModelFile(path, f"full, {size:,} tokens (not a SentencePiece vocabulary)")
    if size < min_vocabulary:
        return ModelFile(path, f"full, {size:,} tokens")
    try:
        keep = kept_tokens(header, code_pieces() if listed is None else listed)
    except (GgufFormatError, KeyError, ValueError) as error:
        return ModelFile(path, f"full, {size:,} tokens (not trimmed: {error})")
    types = np.asarray(header.array(TYPES_KEY))
    pieces = int(np.count_nonzero(types == NORMAL_TOKEN))
    if np.count_nonzero(types[keep] == NORMAL_TOKEN) > MAX_KEPT_SHARE * pieces:
        return ModelFile(path, f"full, {size:,} tokens (code uses most of it)")
    described = f"code vocabulary, {len(keep):,} of {size:,} tokens"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        try:
            write_with_vocabulary(path, header, keep, partial, {MARK_KEY: described})
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    except (OSError, GgufFormatError) as error:
        logger.warning("could not write the code-vocabulary copy of %s (%s); loading the "
                       "full vocabulary", path, error)
        return ModelFile(path, f"full, {size:,} tokens (copy not written: {error})")
    _remove_older_copies(target)
    logger.info("wrote %s: %s", target, described)
    return ModelFile(target, described)


def _copy_path(path: Path, cache_dir: Path, listed: frozenset[str] | None) -> Path:
    """Where the copy of ``path``, as it is now, with ``listed`` (None: the packaged list)
    goes."""
    stat = path.stat()
    where = hashlib.sha256(str(path.resolve()).encode("utf-8", "surrogateescape")).hexdigest()
    identity = hashlib.sha256(f"{where}|{stat.st_size}|{stat.st_mtime_ns}|{FORMAT}\n".encode())
    if listed is None:
        identity.update(files("llama_lsp.model").joinpath(LIST_RESOURCE).read_bytes())
    else:
        identity.update("\n".join(sorted(listed)).encode("utf-8", "surrogateescape"))
    name = f"{path.stem}.{where[:8]}.{identity.hexdigest()[:16]}.gguf"
    return cache_dir / "code-vocabulary" / name


def _remove_older_copies(current: Path) -> None:
    """Copies of the same model file made from an older version of it or an older list (the
    same name and path digest, another digest of the contents)."""
    model = current.name.rsplit(".", 2)[0]  # "<stem>.<path digest>"
    for other in current.parent.glob("*.gguf"):
        if other != current and other.name.rsplit(".", 2)[0] == model:
            other.unlink(missing_ok=True)


def kept_tokens(header: GgufHeader, listed: frozenset[str]) -> list[int]:
    """The ids to keep, ascending (the rules are in the module docstring; ``listed`` is the
    list of pieces)."""
    vocabulary = header.vocabulary
    types = np.asarray(header.array(TYPES_KEY))
    scores = np.asarray(header.array(SCORES_KEY), dtype=np.float64)
    if types.shape != (len(vocabulary),) or scores.shape != (len(vocabulary),):
        raise GgufFormatError("the token types or scores do not match the vocabulary")
    keep = {i for i, text in enumerate(vocabulary)
            if types[i] != NORMAL_TOKEN or text in listed or _is_ascii_character(text)}
    keep |= _named_tokens(header)
    ids: dict[str, int] = {}
    for i, text in enumerate(vocabulary):
        ids.setdefault(text, i)
    for i in list(keep):
        if types[i] == NORMAL_TOKEN:
            keep.update(ids[piece] for piece in merge_path(vocabulary[i], ids, scores))
    return sorted(keep)


def _is_ascii_character(text: str) -> bool:
    return len(text) == 1 and (" " <= text <= "~" or text in "\t\n\u2581")


def _named_tokens(header: GgufHeader) -> set[int]:
    """Tokens the header names (BOS, EOS, FIM and the like)."""
    named = set()
    for key in header.fields:
        if key.startswith("tokenizer.ggml.") and key.endswith("_token_id"):
            value = header.scalar(key)
            if isinstance(value, int) and 0 <= value < len(header.vocabulary):
                named.add(value)
    return named


def merge_path(text: str, ids: dict[str, int], scores: np.ndarray) -> list[str]:
    """The pieces SentencePiece (llama.cpp's ``llm_tokenizer_spm``) makes on its way to
    ``text``, in order: from single characters, it merges the adjacent pair whose join is a
    token with the highest score (the leftmost on a tie) until none is left."""
    symbols = list(text)
    made: list[str] = []
    while len(symbols) > 1:
        best_score = -np.inf
        best = -1
        for at in range(len(symbols) - 1):
            joined = symbols[at] + symbols[at + 1]
            token = ids.get(joined)
            if token is not None and scores[token] > best_score:
                best_score = scores[token]
                best = at
        if best < 0:
            break
        symbols[best:best + 2] = [symbols[best] + symbols[best + 1]]
        made.append(symbols[best])
    return made
