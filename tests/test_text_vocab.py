"""The local token estimate for engines that cannot tokenize: never an undercount for CJK."""

from __future__ import annotations

from llama_lsp.model.text_vocab import TextVocabulary


def test_non_ascii_text_counts_a_token_a_character() -> None:
    vocabulary = TextVocabulary()
    text = "# 计算总数量并返回结果\n"
    tokens = vocabulary.tokenize(text)
    assert len(tokens) >= len("计算总数量并返回结果")
    assert vocabulary.detokenize(tokens) == text
