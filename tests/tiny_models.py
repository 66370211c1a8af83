"""Tiny random-weight GGUF models for tests.

The models written here are real ``llama`` architecture GGUF files (one layer,
32-dim embeddings) with a GPT-2 style byte-level BPE tokenizer, so
llama-cpp-python loads, tokenizes, detokenizes and generates with them in
milliseconds.  Their output is random, but deterministic for a given seed.

Only ``gguf``, ``numpy`` and the standard library are used; nothing is
downloaded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import gguf
import numpy as np

__all__ = ["TinyModelInfo", "write_tiny_model", "write_corrupt_model"]

N_EMBD = 32
N_HEAD = 2
N_HEAD_KV = 2
N_FF = 64
N_LAYER = 1
RMS_EPS = 1e-5
ROPE_BASE = 10000.0
WEIGHT_SCALE = 0.02

BOS_TEXT = "<s>"
EOS_TEXT = "</s>"
FIM_PRE_TEXT = "<fim_prefix>"
FIM_SUF_TEXT = "<fim_suffix>"
FIM_MID_TEXT = "<fim_middle>"
FIM_PAD_TEXT = "<fim_pad>"
FIM_SEP_TEXT = "<|file_sep|>"

# BPE merges in priority order, written in the byte-level alphabet
# ("\u0120" is the GPT-2 stand-in for a space).  Each merge's result is
# added to the vocabulary right after the 256 byte tokens; llama.cpp refuses
# a gpt2 vocabulary without merges.
_MERGES: tuple[tuple[str, str], ...] = (
    ("\u0120", "\u0120"),
    ("\u0120\u0120", "\u0120\u0120"),
    ("\u0120", "t"),
    ("e", "r"),
    ("i", "n"),
    ("d", "e"),
    ("de", "f"),
    ("r", "e"),
    ("o", "n"),
    ("s", "e"),
    ("l", "f"),
    ("se", "lf"),
    ("\u0120", "self"),
    ("(", ")"),
    (")", ":"),
)


@dataclass(frozen=True)
class TinyModelInfo:
    """Where a tiny model was written and the ids of its special tokens."""

    path: Path
    bos_id: int
    eos_id: int
    fim_pre_id: int | None
    fim_suf_id: int | None
    fim_mid_id: int | None
    n_vocab: int
    fim_pad_id: int | None = None
    fim_sep_id: int | None = None


@lru_cache(maxsize=1)
def bytes_to_unicode() -> tuple[str, ...]:
    """Return GPT-2's byte-to-unicode table: entry ``b`` is the char for byte ``b``."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("\u00a1"), ord("\u00ac") + 1))
        + list(range(ord("\u00ae"), ord("\u00ff") + 1))
    )
    table: dict[int, int] = {b: b for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = 256 + extra
            extra += 1
    return tuple(chr(table[b]) for b in range(256))


def _build_vocab(fim: bool) -> tuple[list[str], list[int], list[str], dict[str, int]]:
    """Return (tokens, token types, merges, control-token ids by text)."""
    tokens = list(bytes_to_unicode())
    types = [int(gguf.TokenType.NORMAL)] * len(tokens)
    known = set(tokens)
    merges: list[str] = []
    for left, right in _MERGES:
        if left not in known or right not in known:
            raise AssertionError(f"merge parts must already be tokens: {left!r} {right!r}")
        merges.append(f"{left} {right}")
        merged = left + right
        if merged not in known:
            known.add(merged)
            tokens.append(merged)
            types.append(int(gguf.TokenType.NORMAL))

    control = [BOS_TEXT, EOS_TEXT]
    if fim:
        control += [FIM_PRE_TEXT, FIM_SUF_TEXT, FIM_MID_TEXT, FIM_PAD_TEXT, FIM_SEP_TEXT]
    ids: dict[str, int] = {}
    for text in control:
        ids[text] = len(tokens)
        tokens.append(text)
        types.append(int(gguf.TokenType.CONTROL))
    return tokens, types, merges, ids


UNKNOWN_TEXT = "<unk>"


def _build_sentencepiece_vocab(
        pieces: tuple[str, ...], fim: bool) -> tuple[list[str], list[int], list[float], dict[str, int]]:
    """Return (tokens, token types, scores, control-token ids by text) of a SentencePiece
    vocabulary: unknown, BOS, EOS, the 256 byte tokens, then ``pieces`` (earlier pieces merge
    first), then the FIM tokens."""
    control = [BOS_TEXT, EOS_TEXT]
    if fim:
        control += [FIM_PRE_TEXT, FIM_SUF_TEXT, FIM_MID_TEXT, FIM_PAD_TEXT, FIM_SEP_TEXT]
    tokens = [UNKNOWN_TEXT, *control[:2]]
    types = [int(gguf.TokenType.UNKNOWN), int(gguf.TokenType.CONTROL), int(gguf.TokenType.CONTROL)]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [int(gguf.TokenType.BYTE)] * 256
    tokens += pieces
    types += [int(gguf.TokenType.NORMAL)] * len(pieces)
    scores = [0.0] * (3 + 256) + [-float(i) for i in range(len(pieces))]
    for text in control[2:]:
        tokens.append(text)
        types.append(int(gguf.TokenType.CONTROL))
        scores.append(0.0)
    return tokens, types, scores, {text: tokens.index(text) for text in control}


def write_tiny_model(
    path: Path,
    *,
    fim: bool = True,
    seed: int = 0,
    context_length: int = 2048,
    constant_output: str | None = None,
    end_of_middle: bool = False,
    sentencepiece: tuple[str, ...] | None = None,
) -> TinyModelInfo:
    """Write a tiny random ``llama`` GGUF model to ``path`` and describe it.

    With ``fim=False`` the vocabulary has no FIM tokens at all, so llama.cpp
    reports -1 for every FIM token id. With ``constant_output`` (one ASCII character)
    the weights are not random: greedy decoding yields that character forever,
    which gives end-to-end tests a known, non-empty completion. With ``end_of_middle`` the
    metadata names EOS as the end-of-text token (``eot_token_id``), which FIM candidate
    scoring needs. With ``sentencepiece`` the vocabulary is a SentencePiece one (llama.cpp's
    ``llama`` tokenizer) made of these pieces (see :func:`_build_sentencepiece_vocab`), and
    ``constant_output`` is not supported.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if sentencepiece is not None:
        if constant_output is not None:
            raise AssertionError("constant_output needs the byte-level vocabulary")
        tokens, types, scores, ids = _build_sentencepiece_vocab(sentencepiece, fim)
    else:
        tokens, types, merges, ids = _build_vocab(fim)
    n_vocab = len(tokens)
    head_dim = N_EMBD // N_HEAD

    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("tiny-random-llama")
    writer.add_file_type(int(gguf.LlamaFileType.ALL_F32))
    writer.add_context_length(context_length)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD_KV)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(ROPE_BASE)
    writer.add_layer_norm_rms_eps(RMS_EPS)
    writer.add_vocab_size(n_vocab)

    if sentencepiece is not None:
        writer.add_tokenizer_model("llama")
        writer.add_tokenizer_pre("default")
        writer.add_token_list(tokens)
        writer.add_token_types(types)
        writer.add_token_scores(scores)
        writer.add_unk_token_id(0)
        writer.add_add_space_prefix(False)
    else:
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre("default")
        writer.add_token_list(tokens)
        writer.add_token_types(types)
        writer.add_token_merges(merges)
    writer.add_bos_token_id(ids[BOS_TEXT])
    writer.add_eos_token_id(ids[EOS_TEXT])
    writer.add_add_bos_token(False)
    writer.add_add_eos_token(False)
    if fim:
        key = gguf.Keys.Tokenizer
        writer.add_uint32(key.FIM_PRE_ID, ids[FIM_PRE_TEXT])
        writer.add_uint32(key.FIM_SUF_ID, ids[FIM_SUF_TEXT])
        writer.add_uint32(key.FIM_MID_ID, ids[FIM_MID_TEXT])
        writer.add_uint32(key.FIM_PAD_ID, ids[FIM_PAD_TEXT])
        writer.add_uint32(key.FIM_SEP_ID, ids[FIM_SEP_TEXT])
        if end_of_middle:
            writer.add_eot_token_id(ids[EOS_TEXT])

    rng = np.random.default_rng(seed)

    def rand(*shape: int) -> np.ndarray:
        # numpy shape is the reverse of ggml's ne: (rows=out, cols=in)
        return (rng.standard_normal(shape) * WEIGHT_SCALE).astype(np.float32)

    def ones(n: int) -> np.ndarray:
        return np.ones(n, dtype=np.float32)

    n_kv = N_HEAD_KV * head_dim
    if constant_output is not None:
        # Every token embeds to ones, the layers add nothing, and only the target
        # token's output row is non-zero, so it always has the highest logit.
        target = ord(constant_output)  # byte tokens: id i is byte i
        output = np.zeros((n_vocab, N_EMBD), dtype=np.float32)
        output[target] = 1.0

        def rand(*shape: int) -> np.ndarray:  # noqa: F811 - the constant model's weights
            return np.zeros(shape, dtype=np.float32)

        writer.add_tensor("token_embd.weight", np.ones((n_vocab, N_EMBD), dtype=np.float32))
    else:
        output = rand(n_vocab, N_EMBD)
        writer.add_tensor("token_embd.weight", rand(n_vocab, N_EMBD))
    for i in range(N_LAYER):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", ones(N_EMBD))
        writer.add_tensor(f"blk.{i}.attn_q.weight", rand(N_EMBD, N_EMBD))
        writer.add_tensor(f"blk.{i}.attn_k.weight", rand(n_kv, N_EMBD))
        writer.add_tensor(f"blk.{i}.attn_v.weight", rand(n_kv, N_EMBD))
        writer.add_tensor(f"blk.{i}.attn_output.weight", rand(N_EMBD, N_EMBD))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", ones(N_EMBD))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", rand(N_FF, N_EMBD))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", rand(N_FF, N_EMBD))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", rand(N_EMBD, N_FF))
    writer.add_tensor("output_norm.weight", ones(N_EMBD))
    writer.add_tensor("output.weight", output)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    return TinyModelInfo(
        path=path,
        bos_id=ids[BOS_TEXT],
        eos_id=ids[EOS_TEXT],
        fim_pre_id=ids.get(FIM_PRE_TEXT),
        fim_suf_id=ids.get(FIM_SUF_TEXT),
        fim_mid_id=ids.get(FIM_MID_TEXT),
        n_vocab=n_vocab,
        fim_pad_id=ids.get(FIM_PAD_TEXT),
        fim_sep_id=ids.get(FIM_SEP_TEXT),
    )


def write_corrupt_model(path: Path) -> Path:
    """Write a file with a GGUF header that is truncated, so loading it fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = b"GGUF" + struct.pack("<IQQ", 3, 1, 1)  # version 3, 1 tensor, 1 kv
    key = b"general.architecture"
    # The key claims far more bytes than the file holds.
    body = struct.pack("<Q", 1 << 20) + key + b"\x00\xff" * 8
    path.write_bytes(header + body)
    return path
