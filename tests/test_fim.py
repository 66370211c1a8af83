"""FIM token detection (GGUF metadata, then known templates) and prompt layouts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from llama_lsp.model.fim import KNOWN_TEMPLATES, FimTemplate, FimTokens, detect_fim_tokens
from llama_lsp.model.prompts import fim_prompt, prefix_prompt

NEW_KEYS = {
    "tokenizer.ggml.fim_pre_token_id": "10",
    "tokenizer.ggml.fim_suf_token_id": "11",
    "tokenizer.ggml.fim_mid_token_id": "12",
}
OLD_KEYS = {
    "tokenizer.ggml.prefix_token_id": "20",
    "tokenizer.ggml.suffix_token_id": "21",
    "tokenizer.ggml.middle_token_id": "22",
}


def _vocabulary(*texts: str, start: int = 100) -> Callable[[str], int | None]:
    """A fake ``token_id_of`` that knows ``texts`` as single tokens, and records its calls."""
    ids = {text: start + number for number, text in enumerate(texts)}

    def token_id_of(text: str) -> int | None:
        token_id_of.calls.append(text)  # type: ignore[attr-defined]
        return ids.get(text)

    token_id_of.calls = []  # type: ignore[attr-defined]
    return token_id_of


def _no_vocabulary(text: str) -> int | None:
    return None


def _template(family: str) -> FimTemplate:
    return next(t for t in KNOWN_TEMPLATES if t.family == family)


# --- metadata -----------------------------------------------------------------------------------


def test_metadata_ids():
    vocab = _vocabulary("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>")
    tokens = detect_fim_tokens(
        {**NEW_KEYS, "tokenizer.ggml.fim_sep_token_id": "13",
         "tokenizer.ggml.fim_rep_token_id": "14"},
        vocab,
    )
    assert tokens == FimTokens(10, 11, 12, 13, 14, "metadata")
    # metadata wins: the vocabulary is asked only for an end token to go with the prefix
    assert not {"<|fim_suffix|>", "<|fim_middle|>"} & set(vocab.calls)


def test_metadata_without_repo_tokens():
    assert detect_fim_tokens(NEW_KEYS, _no_vocabulary) == FimTokens(10, 11, 12, None, None)


def test_old_key_names():
    assert detect_fim_tokens(OLD_KEYS, _no_vocabulary) == FimTokens(20, 21, 22, source="metadata")


def test_new_key_names_win_over_old_ones():
    tokens = detect_fim_tokens({**OLD_KEYS, **NEW_KEYS}, _no_vocabulary)
    assert (tokens.prefix, tokens.suffix, tokens.middle) == (10, 11, 12)


def test_mixed_old_and_new_key_names():
    metadata = {"tokenizer.ggml.fim_pre_token_id": "1", "tokenizer.ggml.suffix_token_id": "2",
                "tokenizer.ggml.middle_token_id": "3"}
    assert detect_fim_tokens(metadata, _no_vocabulary) == FimTokens(1, 2, 3)


@pytest.mark.parametrize("bad", ["-1", "abc", "", "1.5"])
def test_invalid_new_key_falls_back_to_old_key(bad: str):
    metadata = {**OLD_KEYS, "tokenizer.ggml.fim_pre_token_id": bad}
    assert detect_fim_tokens(metadata, _no_vocabulary).prefix == 20


def test_token_id_zero_is_valid():
    metadata = {**NEW_KEYS, "tokenizer.ggml.fim_mid_token_id": "0"}
    assert detect_fim_tokens(metadata, _no_vocabulary).middle == 0


def test_integer_metadata_values_are_accepted():
    metadata = {"tokenizer.ggml.fim_pre_token_id": 5, "tokenizer.ggml.fim_suf_token_id": 6,
                "tokenizer.ggml.fim_mid_token_id": 7}
    assert detect_fim_tokens(metadata, _no_vocabulary) == FimTokens(5, 6, 7)


def test_incomplete_metadata_falls_back_to_templates():
    vocab = _vocabulary("<fim_prefix>", "<fim_suffix>", "<fim_middle>")
    tokens = detect_fim_tokens({"tokenizer.ggml.fim_pre_token_id": "10",
                                "tokenizer.ggml.fim_mid_token_id": "12"}, vocab)
    assert tokens is not None
    assert tokens.source == "template: starcoder"
    assert (tokens.prefix, tokens.suffix, tokens.middle) == (100, 101, 102)


def test_repo_tokens_from_metadata_are_ignored_without_the_main_three():
    metadata = {"tokenizer.ggml.fim_sep_token_id": "13"}
    assert detect_fim_tokens(metadata, _no_vocabulary) is None


# --- templates ----------------------------------------------------------------------------------


@pytest.mark.parametrize("template", KNOWN_TEMPLATES, ids=lambda t: t.family)
def test_each_known_template_is_found_by_token_text(template: FimTemplate):
    extra = [t for t in (template.file_separator, template.repo_name) if t]
    vocab = _vocabulary(template.prefix, template.suffix, template.middle, *extra)
    tokens = detect_fim_tokens({}, vocab)
    assert tokens is not None
    assert tokens.source == f"template: {template.family}"
    assert (tokens.prefix, tokens.suffix, tokens.middle) == (100, 101, 102)
    if template.file_separator:
        assert tokens.file_separator == 103
        assert tokens.repo_name == 104
    else:
        assert tokens.file_separator is None
        assert tokens.repo_name is None


@pytest.mark.parametrize("template", KNOWN_TEMPLATES, ids=lambda t: t.family)
def test_each_known_template_knows_its_end_of_middle_token(template: FimTemplate):
    assert template.end
    vocab = _vocabulary(template.prefix, template.suffix, template.middle, template.end)
    tokens = detect_fim_tokens({}, vocab)
    assert tokens is not None and tokens.end == 103


def test_end_of_middle_token_from_metadata():
    tokens = detect_fim_tokens({**NEW_KEYS, "tokenizer.ggml.eot_token_id": "15"},
                               _no_vocabulary)
    assert tokens == FimTokens(10, 11, 12, source="metadata", end=15)


def test_end_of_middle_token_of_the_metadata_prefix_tokens_template():
    qwen = _template("qwen2.5-coder / codegemma")
    vocab = _vocabulary(qwen.prefix, qwen.suffix, qwen.middle, qwen.end, start=10)
    tokens = detect_fim_tokens(NEW_KEYS, vocab)
    assert tokens is not None and tokens.end == 13
    other = _vocabulary("<fim_prefix>", "<|endoftext|>", start=40)  # prefix id 40, not 10
    assert detect_fim_tokens(NEW_KEYS, other).end is None


def test_template_without_optional_tokens_in_the_vocabulary():
    template = _template("starcoder")
    vocab = _vocabulary(template.prefix, template.suffix, template.middle)
    tokens = detect_fim_tokens({}, vocab)
    assert tokens == FimTokens(100, 101, 102, None, None, "template: starcoder")


def test_template_needs_all_three_tokens():
    qwen = _template("qwen2.5-coder / codegemma")
    codellama = _template("codellama")
    # qwen's middle token is missing: the next complete template (codellama) is used.
    vocab = _vocabulary(qwen.prefix, qwen.suffix, codellama.prefix, codellama.suffix,
                        codellama.middle)
    tokens = detect_fim_tokens({}, vocab)
    assert tokens.source == "template: codellama"
    assert (tokens.prefix, tokens.suffix, tokens.middle) == (102, 103, 104)


def test_templates_are_tried_in_order():
    qwen = _template("qwen2.5-coder / codegemma")
    starcoder = _template("starcoder")
    vocab = _vocabulary(starcoder.prefix, starcoder.suffix, starcoder.middle,
                        qwen.prefix, qwen.suffix, qwen.middle)
    assert detect_fim_tokens({}, vocab).source == "template: qwen2.5-coder / codegemma"


def test_known_templates_cover_the_documented_families():
    families = [t.family for t in KNOWN_TEMPLATES]
    assert families[0] == "qwen2.5-coder / codegemma"
    assert {"starcoder", "deepseek-coder", "codellama"} <= set(families)
    assert _template("deepseek-coder").prefix == "<\uff5cfim\u2581begin\uff5c>"
    assert _template("codellama").middle == "<MID>"


def test_no_metadata_and_no_template_gives_none():
    vocab = _vocabulary("<|im_start|>", "<|im_end|>")
    assert detect_fim_tokens({"general.architecture": "llama"}, vocab) is None
    # Every template's prefix token was looked up.
    for template in KNOWN_TEMPLATES:
        assert template.prefix in vocab.calls


# --- prompts ------------------------------------------------------------------------------------

FIM = FimTokens(prefix=1, suffix=2, middle=3)


def test_fim_prompt_layout():
    assert fim_prompt(FIM, [10, 11], [20, 21, 22], bos=[0]) == [0, 1, 10, 11, 2, 20, 21, 22, 3]


def test_fim_prompt_without_bos_and_with_empty_parts():
    assert fim_prompt(FIM, [], []) == [1, 2, 3]
    assert fim_prompt(FIM, (7,), ()) == [1, 7, 2, 3]


def test_fim_prompt_with_several_bos_tokens_and_tuple_inputs():
    assert fim_prompt(FIM, (5,), (6,), bos=(8, 9)) == [8, 9, 1, 5, 2, 6, 3]


def test_prefix_prompt():
    assert prefix_prompt([4, 5, 6]) == [4, 5, 6]
    assert prefix_prompt([4, 5], bos=[0]) == [0, 4, 5]
    assert prefix_prompt([], bos=[0]) == [0]


def test_prompts_return_new_lists():
    prefix = [10]
    prompt = prefix_prompt(prefix)
    prompt.append(99)
    assert prefix == [10]
    assert isinstance(fim_prompt(FIM, prefix, ()), list)
