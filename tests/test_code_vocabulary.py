"""The code-vocabulary copy: which tokens it keeps, that llama.cpp loads it and tokenizes kept
text exactly as before, and that every failure loads the model as it is."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from llama_lsp.model.code_vocabulary import (
    MARK_KEY,
    code_pieces,
    kept_tokens,
    merge_path,
    with_code_vocabulary,
)
from llama_lsp.model.gguf_vocabulary import GgufFormatError, read_header, write_with_vocabulary

sys.path.insert(0, str(Path(__file__).parent))
from tiny_models import write_corrupt_model, write_tiny_model  # noqa: E402

SPACE = "\u2581"
# Earlier pieces merge first: "de" beats "▁d", so "▁def" is built as de -> ▁de -> ▁def.
PIECES = ("de", f"{SPACE}d", "ef", f"{SPACE}de", f"{SPACE}def", "re", "ret", f"{SPACE}ret",
          "ur", "urn", f"{SPACE}return", f"{SPACE}retu", "rn", "\u00fcb", "\u00fcber",
          f"{SPACE}\u00fcber", SPACE, "d", "e", "f", "r", "t", "u", "n", "b", "\u00fc")
LISTED = frozenset({f"{SPACE}def", f"{SPACE}ret"})


def spm_model(tmp_path: Path, name: str = "spm.gguf") -> Path:
    return write_tiny_model(tmp_path / name, sentencepiece=PIECES).path


def texts_of(path: Path, ids: list[int]) -> list[str]:
    vocabulary = read_header(path).vocabulary
    return [vocabulary[i] for i in ids]


def test_merge_path_follows_the_best_score_first() -> None:
    ids = {text: i for i, text in enumerate(PIECES)}
    scores = -np.arange(len(PIECES), dtype=np.float64)
    assert merge_path(f"{SPACE}def", ids, scores) == ["de", f"{SPACE}de", f"{SPACE}def"]
    assert merge_path("xyz", ids, scores) == []


def test_kept_tokens_are_special_listed_characters_and_merge_paths(tmp_path: Path) -> None:
    path = spm_model(tmp_path)
    header = read_header(path)
    kept = set(texts_of(path, kept_tokens(header, LISTED)))
    assert {"<unk>", "<s>", "</s>", "<fim_prefix>", "<0x00>", "<0xFF>"} <= kept
    assert {f"{SPACE}def", f"{SPACE}ret"} <= kept  # listed
    assert {"de", f"{SPACE}de", "re", "ret"} <= kept  # on their merge paths
    assert {SPACE, "d", "e", "f", "r", "t"} <= kept  # ASCII characters and the space piece
    # Neither listed nor on a kept piece's path: a word in another script, unused merges.
    assert kept.isdisjoint({"\u00fcb", "\u00fcber", f"{SPACE}\u00fcber", "ef", f"{SPACE}d",
                            f"{SPACE}return", "\u00fc"})


def test_the_copy_loads_and_tokenizes_kept_text_as_the_original(tmp_path: Path) -> None:
    from llama_cpp import Llama

    path = spm_model(tmp_path)
    loaded = with_code_vocabulary(path, tmp_path / "cache", LISTED, min_vocabulary=1)
    assert loaded.path != path and loaded.path.is_file()
    header = read_header(loaded.path)
    assert header.scalar(MARK_KEY) == loaded.vocabulary
    assert loaded.vocabulary.startswith("code vocabulary, ")
    original = Llama(str(path), verbose=False, n_ctx=64)
    copy = Llama(str(loaded.path), verbose=False, n_ctx=64)
    assert copy.n_vocab() == len(header.vocabulary) < original.n_vocab()
    for text in (" def", " ret de", "def\n\tret"):
        before = [original.detokenize([t]) for t in original.tokenize(text.encode(), add_bos=False)]
        after = [copy.detokenize([t]) for t in copy.tokenize(text.encode(), add_bos=False)]
        assert before == after, text
    # A removed piece is spelt with smaller ones and still round-trips.
    tokens = copy.tokenize(" \u00fcber".encode(), add_bos=False)
    assert copy.detokenize(tokens).decode() == " \u00fcber"
    assert len(tokens) > len(original.tokenize(" \u00fcber".encode(), add_bos=False))
    # Special tokens are renumbered with the vocabulary.
    assert copy.detokenize([copy.token_eos()], special=True) == b"</s>"
    assert copy.token_bos() == header.vocabulary.index("<s>")


def test_the_copy_keeps_the_rows_of_kept_tokens(tmp_path: Path) -> None:
    path = spm_model(tmp_path)
    header = read_header(path)
    keep = kept_tokens(header, LISTED)
    target = tmp_path / "copy.gguf"
    write_with_vocabulary(path, header, keep, target)
    copied = read_header(target)
    assert copied.vocabulary == [header.vocabulary[i] for i in keep]

    def rows(file: Path, name: str) -> np.ndarray:
        found = read_header(file)
        tensor = next(t for t in found.tensors if t.name == name)
        data = np.fromfile(file, np.float32, tensor.nbytes // 4, offset=found.data_start + tensor.offset)
        return data.reshape(tensor.dims[1], tensor.dims[0])

    for name in ("token_embd.weight", "output.weight"):
        assert np.array_equal(rows(target, name), rows(path, name)[keep])
    assert np.array_equal(rows(target, "blk.0.ffn_up.weight"), rows(path, "blk.0.ffn_up.weight"))


def test_the_copy_is_made_once_and_replaced_when_the_model_changes(tmp_path: Path) -> None:
    path = spm_model(tmp_path)
    cache = tmp_path / "cache"
    first = with_code_vocabulary(path, cache, LISTED, min_vocabulary=1)
    made = first.path.stat().st_mtime_ns
    again = with_code_vocabulary(path, cache, LISTED, min_vocabulary=1)
    assert again == first and again.path.stat().st_mtime_ns == made
    spm_model(tmp_path)  # the same name, a new file
    os.utime(path, ns=(made + 10**9, made + 10**9))
    changed = with_code_vocabulary(path, cache, LISTED, min_vocabulary=1)
    assert changed.path != first.path
    assert sorted(p.name for p in changed.path.parent.iterdir()) == [changed.path.name]


def test_models_that_do_not_qualify_load_as_they_are(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    bpe = write_tiny_model(tmp_path / "bpe.gguf").path
    assert with_code_vocabulary(bpe, cache, LISTED, min_vocabulary=1).path == bpe
    assert "not a SentencePiece" in with_code_vocabulary(bpe, cache, LISTED, 1).vocabulary
    spm = spm_model(tmp_path)
    small = with_code_vocabulary(spm, cache, LISTED)  # far below 100k tokens
    assert small.path == spm and small.vocabulary.startswith("full, ")
    everything = frozenset(PIECES)
    assert with_code_vocabulary(spm, cache, everything, 1).path == spm  # would keep nearly all
    corrupt = write_corrupt_model(tmp_path / "corrupt.gguf")
    assert with_code_vocabulary(corrupt, cache, LISTED, 1).path == corrupt
    assert not cache.exists()


def test_an_unwritable_cache_loads_the_model_as_it_is(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    spm = spm_model(tmp_path)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    loaded = with_code_vocabulary(spm, blocked, LISTED, min_vocabulary=1)
    assert loaded.path == spm and "copy not written" in loaded.vocabulary
    assert "could not write the code-vocabulary copy" in caplog.text


def test_per_token_data_it_cannot_follow_is_refused(tmp_path: Path) -> None:
    spm = spm_model(tmp_path)
    header = read_header(spm)
    with pytest.raises(GgufFormatError):
        write_with_vocabulary(spm, header, [5, 3], tmp_path / "out.gguf")  # not ascending
    header.tensors[0].type = 99  # a type this does not know: no size to copy by
    with pytest.raises(GgufFormatError, match="unknown tensor type"):
        write_with_vocabulary(spm, header, kept_tokens(header, LISTED), tmp_path / "out.gguf")
    header = read_header(spm)
    header.tensors[1].dims = (4, len(header.vocabulary))  # a tensor sized to the vocabulary
    header.tensors[1].name = "blk.0.unknown.weight"
    with pytest.raises(GgufFormatError, match="sized to the vocabulary"):
        write_with_vocabulary(spm, header, kept_tokens(header, LISTED), tmp_path / "out.gguf")


def test_the_packaged_list_is_code_and_english() -> None:
    pieces = code_pieces()
    assert 40_000 < len(pieces) < 120_000
    assert {f"{SPACE}def", f"{SPACE}return", "self", f"{SPACE}function", f"{SPACE}the"} <= pieces


CODE_PROMPTS = (
    "import json\n\n\ndef load_config(path):\n    with open(path) as f:\n        return ",
    "function add(a, b) {\n  return ",
    "for (int i = 0; i < n; i++) {\n    sum += ",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n",
)


@pytest.mark.demo_model
def test_the_demo_models_copy_reads_and_writes_code_as_the_full_model(tmp_path: Path) -> None:
    from llama_cpp import Llama

    from llama_lsp.model.resolve import demo_model_path

    path = demo_model_path()
    loaded = with_code_vocabulary(path, tmp_path)
    assert loaded.path != path, loaded.vocabulary
    full = Llama(str(path), n_ctx=512, n_threads=1, verbose=False)
    copy = Llama(str(loaded.path), n_ctx=512, n_threads=1, verbose=False)
    kept = set(read_header(loaded.path).vocabulary)
    tokens = same = 0
    for source in sorted(Path(__file__).parent.parent.joinpath("llama_lsp").rglob("*.py")):
        data = source.read_bytes()
        before = [full.detokenize([t]) for t in full.tokenize(data, add_bos=False)]
        texts = [full._model.token_get_text(t) for t in full.tokenize(data, add_bos=False)]
        tokens += len(texts)
        if all(text in kept for text in texts):
            same += 1
            assert [copy.detokenize([t]) for t in copy.tokenize(data, add_bos=False)] == before
    assert same >= 10 and tokens > 100_000
    for prompt in CODE_PROMPTS:
        expected = full.create_completion(prompt, max_tokens=16, temperature=0)["choices"][0]
        got = copy.create_completion(prompt, max_tokens=16, temperature=0)["choices"][0]
        assert got["text"] == expected["text"], prompt


def test_the_block_sizes_agree_with_the_gguf_package() -> None:
    from gguf.constants import GGML_QUANT_SIZES

    from llama_lsp.model.gguf_vocabulary import GGML_BLOCKS

    known = {int(kind): sizes for kind, sizes in GGML_QUANT_SIZES.items()}
    assert all(known[kind] == sizes for kind, sizes in GGML_BLOCKS.items())
    assert {0, 1, 8, 12, 14, 30} <= GGML_BLOCKS.keys()  # F32, F16, Q8_0, Q4_K, Q6_K, BF16


def test_a_copy_llama_cpp_cannot_load_falls_back_to_the_model_as_it_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    from llama_lsp.config.settings import Settings
    from llama_lsp.model import embedded
    from llama_lsp.model.backend import GenerationRequest
    from llama_lsp.model.code_vocabulary import ModelFile
    from llama_lsp.model.embedded import EmbeddedBackend

    spm = spm_model(tmp_path)
    broken = tmp_path / "broken-copy.gguf"
    broken.write_bytes(spm.read_bytes()[:4096])  # a truncated copy
    monkeypatch.setattr(embedded, "with_code_vocabulary",
                        lambda path, cache: ModelFile(broken, "code vocabulary, 1 of 2 tokens"))
    backend = EmbeddedBackend.load(spm, Settings(context_size=256))
    assert backend.info.vocabulary.startswith("full (the copy did not load")
    result = backend.generate(GenerationRequest(backend.tokenize(" def"), max_tokens=3),
                              lambda: False)
    assert result.stop_reason in ("length", "eos") and result.n_prompt == 1  # it serves
    assert "could not load the code-vocabulary copy" in caplog.text
    backend.close()


def test_two_models_with_the_same_name_keep_a_copy_each(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = spm_model(tmp_path / "a")
    second = spm_model(tmp_path / "b")
    one = with_code_vocabulary(first, cache, LISTED, min_vocabulary=1).path
    two = with_code_vocabulary(second, cache, LISTED, min_vocabulary=1).path
    assert one != two and one.is_file() and two.is_file()
