"""Fill-in-the-middle special tokens: from GGUF metadata first, known family templates second."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

# GGUF metadata keys, current names first, then the older ones some converters still write.
_METADATA_KEYS: dict[str, tuple[str, ...]] = {
    "prefix": ("tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.prefix_token_id"),
    "suffix": ("tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.suffix_token_id"),
    "middle": ("tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.middle_token_id"),
    "file_separator": ("tokenizer.ggml.fim_sep_token_id",),
    "repo_name": ("tokenizer.ggml.fim_rep_token_id",),
    "end": ("tokenizer.ggml.eot_token_id",),
}


@dataclass(frozen=True)
class FimTemplate:
    """The FIM token texts of one model family."""

    family: str
    prefix: str
    suffix: str
    middle: str
    file_separator: str | None = None
    repo_name: str | None = None
    end: str | None = None
    """The token that ends the middle (the model's end of text)."""


KNOWN_TEMPLATES: tuple[FimTemplate, ...] = (
    FimTemplate("qwen2.5-coder / codegemma", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>",
                "<|file_sep|>", "<|repo_name|>", "<|endoftext|>"),
    FimTemplate("starcoder", "<fim_prefix>", "<fim_suffix>", "<fim_middle>",
                "<file_sep>", "<repo_name>", "<|endoftext|>"),
    FimTemplate("deepseek-coder", "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>",
                end="<｜end▁of▁sentence｜>"),
    FimTemplate("codellama", "<PRE>", "<SUF>", "<MID>", end="<EOT>"),
    FimTemplate("codellama (sentencepiece)", "▁<PRE>", "▁<SUF>", "▁<MID>", end="▁<EOT>"),
)


@dataclass(frozen=True)
class FimTokens:
    """Token ids for a prefix-suffix-middle prompt, plus optional repo-level tokens."""

    prefix: int
    suffix: int
    middle: int
    file_separator: int | None = None
    repo_name: int | None = None
    source: str = "metadata"
    end: int | None = None
    """The token that ends the middle, when known (scoring candidates needs it)."""


def _metadata_id(metadata: Mapping[str, str], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = metadata.get(key)
        if value is None:
            continue
        try:
            token_id = int(value)
        except (TypeError, ValueError):
            continue
        if token_id >= 0:
            return token_id
    return None


def detect_fim_tokens(
    metadata: Mapping[str, str], token_id_of: Callable[[str], int | None]
) -> FimTokens | None:
    """FIM tokens of a model, or None when it has none.

    ``metadata`` is the GGUF key/value metadata (values as strings, as llama.cpp returns them);
    ``token_id_of`` maps a special token's text to its id when the vocabulary has it as one token.
    """
    ids = {name: _metadata_id(metadata, keys) for name, keys in _METADATA_KEYS.items()}
    if ids["prefix"] is not None and ids["suffix"] is not None and ids["middle"] is not None:
        end = ids["end"]
        if end is None:
            # No end-of-text id in the metadata: the end token of the template whose prefix
            # token this is (Qwen2.5-Coder's metadata names <|fim_prefix|>, not <|endoftext|>).
            end = next((token_id_of(template.end) for template in KNOWN_TEMPLATES
                        if template.end and token_id_of(template.prefix) == ids["prefix"]), None)
        return FimTokens(ids["prefix"], ids["suffix"], ids["middle"],
                         ids["file_separator"], ids["repo_name"], "metadata", end)
    for template in KNOWN_TEMPLATES:
        prefix, suffix, middle = (token_id_of(t) for t in
                                  (template.prefix, template.suffix, template.middle))
        if prefix is None or suffix is None or middle is None:
            continue
        return FimTokens(
            prefix, suffix, middle,
            token_id_of(template.file_separator) if template.file_separator else None,
            token_id_of(template.repo_name) if template.repo_name else None,
            f"template: {template.family}",
            token_id_of(template.end) if template.end else None,
        )
    return None


# Short names for ``fimTemplate`` (remote engines that take text prompts).
TEMPLATE_NAMES: dict[str, FimTemplate] = {
    "qwen": KNOWN_TEMPLATES[0],
    "starcoder": KNOWN_TEMPLATES[1],
    "deepseek": KNOWN_TEMPLATES[2],
    "codellama": KNOWN_TEMPLATES[3],
}


def parse_fim_template(spec: str) -> FimTemplate:
    """A template from a short name (``qwen``, ``starcoder``, ...) or from text with the
    placeholders in prefix-suffix-middle order, e.g. ``<PRE> {prefix} <SUF>{suffix} <MID>``."""
    named = TEMPLATE_NAMES.get(spec.strip().lower())
    if named is not None:
        return named
    before, found_prefix, rest = spec.partition("{prefix}")
    between, found_suffix, after = rest.partition("{suffix}")
    if not (found_prefix and found_suffix and before and between and after):
        names = ", ".join(TEMPLATE_NAMES)
        raise ValueError(f"must be auto, none, one of {names}, or marker text around "
                         "{prefix} and {suffix}, e.g. '<PRE> {prefix} <SUF>{suffix} <MID>'")
    return FimTemplate("custom", before, between, after)
