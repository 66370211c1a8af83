"""Read a GGUF file's vocabulary, and write a copy of the file that keeps part of it.

The ``gguf`` package's reader decodes every array element into its own numpy view, which
takes 10-20 s for a 262k-token vocabulary (and ``gguf`` is only a test dependency); this reads
the header once, front to back, in a fraction of a second, and leaves the tensor data in the
file (``mmap``) until it is copied.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

MAGIC = b"GGUF"
STRING = 8
ARRAY = 9
UINT32 = 4
INT32 = 5
FLOAT32 = 6
_SCALAR_FORMATS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
                   10: "<Q", 11: "<q", 12: "<d"}
_NUMPY_TYPES = {0: "<u1", 1: "<i1", 2: "<u2", 3: "<i2", 4: "<u4", 5: "<i4", 6: "<f4", 7: "<u1",
                10: "<u8", 11: "<i8", 12: "<f8"}
DEFAULT_ALIGNMENT = 32
GGML_BLOCKS: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
    15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18),
    21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4),
    27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66),
    39: (32, 17),
}
"""(elements, bytes) per block of each ggml tensor type that model weights use, as in the
``gguf`` package's ``GGML_QUANT_SIZES`` (a test checks that they agree). ``gguf`` is only a test
dependency, and ggml's own size functions read past their table for a type they do not know."""
TOKENS_KEY = "tokenizer.ggml.tokens"
SCORES_KEY = "tokenizer.ggml.scores"
TYPES_KEY = "tokenizer.ggml.token_type"
VOCABULARY_TENSORS = ("token_embd.weight", "output.weight")
"""Tensors with one row per token: the input embedding and, when not tied, the output layer."""


class GgufFormatError(ValueError):
    """The file is not a GGUF file this module can rewrite."""


@dataclass
class Field:
    """One key-value pair of the header: its type, its bytes as stored, and its value."""

    type: int
    raw: bytes
    value: object
    """A scalar, a ``str``, or for arrays a list of ``str`` or a numpy array."""


@dataclass
class Tensor:
    """One tensor's header entry; ``dims[0]`` is the row length (ggml order)."""

    name: str
    dims: tuple[int, ...]
    type: int
    offset: int
    """From the start of the data section."""

    @property
    def nbytes(self) -> int:
        """Bytes of data: rows of ``dims[0]`` elements of the tensor's type."""
        rows = 1
        for dim in self.dims[1:]:
            rows *= dim
        return _row_bytes(self.type, self.dims[0] if self.dims else 1) * rows


def _row_bytes(kind: int, length: int) -> int:
    """Bytes of a row of ``length`` elements of ggml type ``kind``."""
    block = GGML_BLOCKS.get(kind)
    if block is None:
        raise GgufFormatError(f"unknown tensor type {kind}")
    elements, size = block
    if length % elements:
        raise GgufFormatError(f"tensor type {kind} cannot hold rows of {length} elements")
    return length // elements * size


@dataclass
class GgufHeader:
    """Everything before the tensor data, decoded."""

    version: int
    fields: dict[str, Field]
    tensors: list[Tensor]
    data_start: int
    alignment: int = DEFAULT_ALIGNMENT
    vocabulary: list[str] = field(default_factory=list)
    """The token texts (``tokenizer.ggml.tokens``), empty when the file has none."""

    def scalar(self, key: str) -> object:
        """The value of a scalar or string field, or None."""
        found = self.fields.get(key)
        return None if found is None or found.type == ARRAY else found.value

    def array(self, key: str) -> object:
        """The value of an array field, or None."""
        found = self.fields.get(key)
        return found.value if found is not None and found.type == ARRAY else None


class _Cursor:
    def __init__(self, buffer: mmap.mmap | bytes) -> None:
        self.buffer = buffer
        self.at = 0

    def unpack(self, fmt: str) -> object:
        value = struct.unpack_from(fmt, self.buffer, self.at)[0]
        self.at += struct.calcsize(fmt)
        return value

    def string(self) -> str:
        length = int(self.unpack("<Q"))  # type: ignore[call-overload]
        if length > len(self.buffer) - self.at:
            raise GgufFormatError("a string runs past the end of the file")
        text = bytes(self.buffer[self.at:self.at + length]).decode("utf-8", "surrogateescape")
        self.at += length
        return text

    def value(self, kind: int) -> object:
        if kind == STRING:
            return self.string()
        if kind == ARRAY:
            element = int(self.unpack("<I"))  # type: ignore[call-overload]
            count = int(self.unpack("<Q"))  # type: ignore[call-overload]
            if element == STRING:
                return [self.string() for _ in range(count)]
            if element not in _NUMPY_TYPES:
                raise GgufFormatError(f"unsupported array element type {element}")
            dtype = np.dtype(_NUMPY_TYPES[element])
            end = self.at + count * dtype.itemsize
            if end > len(self.buffer):
                raise GgufFormatError("an array runs past the end of the file")
            values = np.frombuffer(self.buffer, dtype, count, self.at).copy()
            self.at = end
            return values
        if kind not in _SCALAR_FORMATS:
            raise GgufFormatError(f"unsupported value type {kind}")
        return self.unpack(_SCALAR_FORMATS[kind])


def read_header(path: Path) -> GgufHeader:
    """Decode ``path``'s header; raise :class:`GgufFormatError` when it is not GGUF v2/v3."""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
        return _parse(view)


def _parse(view: mmap.mmap) -> GgufHeader:
    if view[:4] != MAGIC:
        raise GgufFormatError("not a GGUF file")
    cursor = _Cursor(view)
    cursor.at = 4
    version = int(cursor.unpack("<I"))  # type: ignore[call-overload]
    if version not in (2, 3):
        raise GgufFormatError(f"GGUF version {version} is not supported")
    tensor_count = int(cursor.unpack("<Q"))  # type: ignore[call-overload]
    field_count = int(cursor.unpack("<Q"))  # type: ignore[call-overload]
    fields: dict[str, Field] = {}
    try:
        for _ in range(field_count):
            key = cursor.string()
            kind = int(cursor.unpack("<I"))  # type: ignore[call-overload]
            start = cursor.at
            value = cursor.value(kind)
            fields[key] = Field(kind, bytes(view[start:cursor.at]), value)
        tensors = []
        for _ in range(tensor_count):
            name = cursor.string()
            n_dims = int(cursor.unpack("<I"))  # type: ignore[call-overload]
            dims = tuple(int(cursor.unpack("<Q")) for _ in range(n_dims))  # type: ignore[call-overload]
            kind = int(cursor.unpack("<I"))  # type: ignore[call-overload]
            offset = int(cursor.unpack("<Q"))  # type: ignore[call-overload]
            tensors.append(Tensor(name, dims, kind, offset))
    except struct.error as error:
        raise GgufFormatError(f"the header is truncated ({error})") from error
    alignment = fields["general.alignment"].value if "general.alignment" in fields else None
    align = int(alignment) if isinstance(alignment, int) and alignment > 0 else DEFAULT_ALIGNMENT
    tokens = fields.get(TOKENS_KEY)
    vocabulary = list(tokens.value) if tokens is not None and tokens.type == ARRAY else []
    return GgufHeader(version, fields, tensors, _aligned(cursor.at, align), align,
                      vocabulary)  # type: ignore[arg-type]


def _aligned(offset: int, alignment: int) -> int:
    return (offset + alignment - 1) // alignment * alignment


def _encode_string(text: str) -> bytes:
    data = text.encode("utf-8", "surrogateescape")
    return struct.pack("<Q", len(data)) + data


def _encode_strings(texts: Iterable[str]) -> bytes:
    items = list(texts)
    return struct.pack("<IQ", STRING, len(items)) + b"".join(_encode_string(t) for t in items)


def _encode_numbers(kind: int, values: np.ndarray) -> bytes:
    return struct.pack("<IQ", kind, len(values)) + values.astype(_NUMPY_TYPES[kind]).tobytes()


def write_with_vocabulary(source: Path, header: GgufHeader, keep: Sequence[int],
                          target: Path, extra: dict[str, str] | None = None) -> None:
    """Write ``source`` to ``target`` with only the tokens ``keep`` (ascending ids), in that
    order: the token texts, scores and types, the rows of the embedding and output tensors, and
    every ``*_token_id`` field (renumbered; each must be kept). ``extra`` adds string fields.

    Raise :class:`GgufFormatError` when the file holds per-token data this cannot follow (an
    array field or a tensor sized to the vocabulary that is not one of the above)."""
    size = len(header.vocabulary)
    keep_ids = np.asarray(keep, dtype=np.int64)
    if size == 0 or len(keep_ids) == 0 or np.any(np.diff(keep_ids) <= 0) or keep_ids[-1] >= size:
        raise GgufFormatError("the tokens to keep must be ascending ids of the vocabulary")
    renumbered = {int(old): new for new, old in enumerate(keep_ids)}
    fields = _fields_with_vocabulary(header, keep_ids, renumbered, extra or {})
    tensors, rows = _tensors_with_vocabulary(header, size, len(keep_ids))
    head = bytearray(MAGIC)
    head += struct.pack("<IQQ", header.version, len(tensors), len(fields))
    for key, (kind, raw) in fields.items():
        head += _encode_string(key) + struct.pack("<I", kind) + raw
    for tensor in tensors:
        head += _encode_string(tensor.name) + struct.pack("<I", len(tensor.dims))
        head += struct.pack(f"<{len(tensor.dims)}Q", *tensor.dims)
        head += struct.pack("<IQ", tensor.type, tensor.offset)
    head += bytes(_aligned(len(head), header.alignment) - len(head))
    with source.open("rb") as handle, \
            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view, \
            target.open("wb") as out:
        out.write(head)
        for original, tensor in zip(header.tensors, tensors):
            _pad_to(out, len(head) + tensor.offset)
            start = header.data_start + original.offset
            if original.nbytes > len(view) - start:
                raise GgufFormatError(f"tensor {original.name} runs past the end of the file")
            row_bytes = rows.get(original.name)
            if row_bytes is None:
                out.write(view[start:start + original.nbytes])
                continue
            table = np.frombuffer(view, np.uint8, size * row_bytes, start)
            out.write(table.reshape(size, row_bytes)[keep_ids].tobytes())
            del table  # the mmap cannot close while an array looks into it
        out.flush()
        os.fsync(out.fileno())


def _pad_to(out: BinaryIO, offset: int) -> None:
    gap = offset - out.tell()
    if gap < 0:
        raise GgufFormatError("tensors overlap")
    out.write(bytes(gap))


def _fields_with_vocabulary(header: GgufHeader, keep: np.ndarray, renumbered: dict[int, int],
                            extra: dict[str, str]) -> dict[str, tuple[int, bytes]]:
    size = len(header.vocabulary)
    fields: dict[str, tuple[int, bytes]] = {}
    for key, found in header.fields.items():
        raw = found.raw
        if key == TOKENS_KEY:
            raw = _encode_strings(header.vocabulary[i] for i in keep)
        elif key in (SCORES_KEY, TYPES_KEY) and isinstance(found.value, np.ndarray):
            element = struct.unpack_from("<I", found.raw)[0]
            raw = _encode_numbers(element, found.value[keep])
        elif found.type == ARRAY and len(found.value) == size:  # type: ignore[arg-type]
            raise GgufFormatError(f"{key} holds per-token data this cannot renumber")
        elif key.startswith("tokenizer.ggml.") and key.endswith("_token_id") \
                and found.type in (UINT32, INT32):
            old = int(found.value)  # type: ignore[call-overload]
            if 0 <= old < size:
                if old not in renumbered:
                    raise GgufFormatError(f"{key} names token {old}, which is not kept")
                raw = struct.pack("<I" if found.type == UINT32 else "<i", renumbered[old])
        elif key.endswith(".vocab_size") and found.type in (UINT32, INT32):
            raw = struct.pack("<I" if found.type == UINT32 else "<i", len(keep))
        fields[key] = (found.type, raw)
    for key, text in extra.items():
        fields[key] = (STRING, _encode_string(text))
    return fields


def _tensors_with_vocabulary(header: GgufHeader, size: int,
                             kept: int) -> tuple[list[Tensor], dict[str, int]]:
    """The new tensor entries (offsets recomputed) and, per vocabulary tensor, its row bytes."""
    tensors: list[Tensor] = []
    rows: dict[str, int] = {}
    offset = 0
    for tensor in header.tensors:
        dims = tensor.dims
        nbytes = tensor.nbytes
        if size in dims[1:]:
            if tensor.name not in VOCABULARY_TENSORS or len(dims) != 2 or dims[1] != size:
                raise GgufFormatError(f"tensor {tensor.name} is sized to the vocabulary")
            rows[tensor.name] = nbytes // size
            dims = (dims[0], kept)
            nbytes = rows[tensor.name] * kept
        tensors.append(Tensor(tensor.name, dims, tensor.type, offset))
        offset = _aligned(offset + nbytes, header.alignment)
    return tensors, rows
