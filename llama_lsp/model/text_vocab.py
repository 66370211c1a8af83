"""A local, reversible stand-in for an engine's tokenizer, for engines that cannot tokenize.

Text is split into word-like pieces the way BPE pre-tokenizers do (words with their leading
space, digit runs, punctuation runs, whitespace runs), and long pieces into chunks of
``MAX_PIECE_CHARS`` (one character for non-ASCII text); each distinct piece gets an id. ``detokenize(tokenize(t)) == t`` always,
so prompts built from these ids turn back into exactly the intended text, and the count is
a slight over-estimate of a real code tokenizer's (about 3-4 characters a token), which keeps
prompts inside the engine's context.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

MAX_PIECE_CHARS = 4
_PIECES = re.compile(r" ?[^\W\d_]+| ?\d{1,3}| ?[^\s\w]+|_+|\s+(?!\S)|\s+")


class TextVocabulary:
    """Ids for text pieces, plus reserved ids for special texts (FIM markers). Thread-safe."""

    def __init__(self, specials: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._pieces: list[str] = []
        self._ids: dict[str, int] = {}
        self._special_ids: dict[str, int] = {}
        for text in specials:
            self.special(text)

    def special(self, text: str) -> int:
        """The id of a special text (it is never produced by :meth:`tokenize`)."""
        with self._lock:
            token = self._special_ids.get(text)
            if token is None:
                token = len(self._pieces)
                self._pieces.append(text)
                self._special_ids[text] = token
            return token

    def tokenize(self, text: str) -> list[int]:
        """Ids of the pieces of ``text``."""
        tokens: list[int] = []
        with self._lock:
            for match in _PIECES.finditer(text):
                word = match.group()
                # Non-ASCII text (CJK, emoji) costs a real tokenizer a token or more a character.
                size = MAX_PIECE_CHARS if word.isascii() else 1
                for start in range(0, len(word), size):
                    piece = word[start:start + size]
                    token = self._ids.get(piece)
                    if token is None:
                        token = len(self._pieces)
                        self._pieces.append(piece)
                        self._ids[piece] = token
                    tokens.append(token)
        return tokens

    def detokenize(self, tokens: Iterable[int]) -> str:
        """The text of ``tokens`` (special texts written out)."""
        pieces = self._pieces
        return "".join(pieces[token] for token in tokens if 0 <= token < len(pieces))
