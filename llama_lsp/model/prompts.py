"""Token layouts of completion prompts. Stable parts come first so the KV cache is reused."""

from __future__ import annotations

from collections.abc import Sequence

from llama_lsp.model.fim import FimTokens


def fim_prompt(
    fim: FimTokens, prefix: Sequence[int], suffix: Sequence[int], bos: Sequence[int] = ()
) -> list[int]:
    """``[bos] <pre> prefix <suf> suffix <mid>`` (prefix-suffix-middle order)."""
    return [*bos, fim.prefix, *prefix, fim.suffix, *suffix, fim.middle]


def prefix_prompt(prefix: Sequence[int], bos: Sequence[int] = ()) -> list[int]:
    """``[bos] prefix``: for models without FIM tokens."""
    return [*bos, *prefix]
