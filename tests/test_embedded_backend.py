"""The embedded llama.cpp engine and the prompt layouts, on tiny real GGUF models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tiny_models import TinyModelInfo

from llama_lsp.config.settings import Settings
from llama_lsp.context.documents import Document
from llama_lsp.features.completion.pipeline import CompletionPipeline
from llama_lsp.model.backend import GenerationRequest, ModelError
from llama_lsp.model.embedded import EmbeddedBackend

SETTINGS = Settings(context_size=512, max_tokens=16)


def _load(model: TinyModelInfo | Path, settings: Settings = SETTINGS) -> EmbeddedBackend:
    path = model.path if isinstance(model, TinyModelInfo) else model
    return EmbeddedBackend.load(path, settings)


def _snapshot(text: str, cursor: str = "<|cursor|>", language: str = "python"):
    offset = text.index(cursor)
    document = Document("file:///t/example.py", language, 1, text.replace(cursor, ""), 10**6)
    return document.snapshot(), offset


def test_fim_tokens_come_from_metadata(tiny_fim_model: TinyModelInfo) -> None:
    info = _load(tiny_fim_model).info
    assert info.fim is not None
    assert (info.fim.prefix, info.fim.suffix, info.fim.middle) == (
        tiny_fim_model.fim_pre_id, tiny_fim_model.fim_suf_id, tiny_fim_model.fim_mid_id)
    assert info.fim.source == "metadata"


def test_fim_prompt_is_exactly_pre_prefix_suf_suffix_mid(tiny_fim_model: TinyModelInfo) -> None:
    backend = _load(tiny_fim_model)
    snapshot, offset = _snapshot("def add(a, b):\n    return <|cursor|>\n\nprint(add(1, 2))\n")
    prompt = CompletionPipeline(backend).build_prompt(snapshot, offset, SETTINGS)
    prefix = "def add(a, b):\n    return"  # the trailing blank is held back
    suffix = "\n\nprint(add(1, 2))\n"
    assert prompt.held_back == " "
    assert prompt.tokens == [
        tiny_fim_model.fim_pre_id, *backend.tokenize(prefix),
        tiny_fim_model.fim_suf_id, *backend.tokenize(suffix),
        tiny_fim_model.fim_mid_id,
    ]
    assert 0 not in prompt.tokens[:1]  # never the token id 0 that the broken infill path inserts


def test_indentation_as_deep_as_the_line_above_stays_in_the_prompt(tiny_fim_model: TinyModelInfo) -> None:
    # Without it the model cannot tell which block the line belongs to.
    backend = _load(tiny_fim_model)
    snapshot, offset = _snapshot("def add(a, b):\n    total = a + b\n    <|cursor|>\n")
    prompt = CompletionPipeline(backend).build_prompt(snapshot, offset, SETTINGS)
    assert prompt.held_back == ""
    assert prompt.tokens[1:1 + len(backend.tokenize("def add(a, b):\n    total = a + b\n    "))] \
        == backend.tokenize("def add(a, b):\n    total = a + b\n    ")
    # As deep as the line below (the line above ends a deeper block).
    snapshot, offset = _snapshot("def f(x):\n    if x:\n        return 1\n\n    <|cursor|>\n"
                                 "    return 2\n")
    prompt = CompletionPipeline(backend).build_prompt(snapshot, offset, SETTINGS)
    assert prompt.held_back == "" and prompt.fim_parts is not None
    assert prompt.fim_parts.prefix.endswith("return 1\n\n    ")


def test_indentation_still_being_typed_is_held_back(tiny_fim_model: TinyModelInfo) -> None:
    # Two of four blanks: the model writes the whole indentation, the two typed are cut off.
    backend = _load(tiny_fim_model)
    snapshot, offset = _snapshot("def add(a, b):\n    total = a + b\n  <|cursor|>\n")
    prompt = CompletionPipeline(backend).build_prompt(snapshot, offset, SETTINGS)
    assert prompt.held_back == "  "
    assert prompt.fim_parts is not None
    assert prompt.fim_parts.prefix == "def add(a, b):\n    total = a + b\n"


def test_model_without_fim_gets_prefix_only_prompt(tiny_plain_model: TinyModelInfo) -> None:
    backend = _load(tiny_plain_model)
    assert backend.info.fim is None
    snapshot, offset = _snapshot("x = 1\ny = <|cursor|>\nz = 3\n")
    prompt = CompletionPipeline(backend).build_prompt(snapshot, offset, SETTINGS)
    assert prompt.tokens == backend.tokenize("x = 1\ny =")
    assert "suffix" not in prompt.parts and not prompt.fim


def test_suffix_still_trims_prefix_only_completions(
        constant_plain_model: TinyModelInfo) -> None:
    backend = _load(constant_plain_model)
    assert backend.info.fim is None
    followed, offset = _snapshot("y = f(<|cursor|>xxx)\n")
    prompt = CompletionPipeline(backend).build_prompt(followed, offset, SETTINGS)
    assert not prompt.fim and "xxx)" not in backend.detokenize(prompt.tokens)
    bare, bare_offset = _snapshot("y = f(<|cursor|>)\n")
    untrimmed = CompletionPipeline(backend).complete(bare, bare_offset, SETTINGS)
    trimmed = CompletionPipeline(backend).complete(followed, offset, SETTINGS)
    # The model never saw "xxx" after the cursor; the completion still stops short of it.
    generated = untrimmed.suggestions[0].text
    assert set(generated) == {"x"} and len(generated) > 3
    assert trimmed.suggestions[0].text == generated[:-3]


def test_cancellation_stops_generation_within_one_token(constant_model: TinyModelInfo) -> None:
    backend = _load(constant_model)
    checks = 0

    def cancelled_after_three_tokens() -> bool:
        nonlocal checks
        checks += 1
        return checks > 3

    prompt = backend.tokenize("def f():\n    return ")
    result = backend.generate(GenerationRequest(prompt, max_tokens=200),
                              cancelled_after_three_tokens)
    assert result.stop_reason == "cancelled"
    assert result.n_generated == 3
    assert result.text == "xxx"


def test_cancelled_before_start_evaluates_nothing(constant_model: TinyModelInfo) -> None:
    backend = _load(constant_model)
    result = backend.generate(GenerationRequest(backend.tokenize("abc"), 10), lambda: True)
    assert result.stop_reason == "cancelled" and result.n_generated == 0


def test_kv_cache_reuse_evaluates_only_new_tokens(tiny_fim_model: TinyModelInfo) -> None:
    backend = _load(tiny_fim_model)
    evaluated: list[int] = []
    real_eval = backend._llm.eval

    def counting_eval(tokens):  # type: ignore[no-untyped-def]
        evaluated.append(len(tokens))
        return real_eval(tokens)

    backend._llm.eval = counting_eval
    first = backend.tokenize("def load(path):\n    with open(path) as f:\n        return")
    backend.generate(GenerationRequest(first, max_tokens=1), lambda: False)
    evaluated.clear()
    second = [*first, *backend.tokenize("j")]
    result = backend.generate(GenerationRequest(second, max_tokens=1), lambda: False)
    assert result.n_reused == len(first)
    assert result.n_evaluated == len(second) - len(first) == 1
    assert evaluated == [1]  # llama.cpp was given the one new token only


def test_stop_rule_ends_generation(constant_model: TinyModelInfo) -> None:
    backend = _load(constant_model)
    request = GenerationRequest(backend.tokenize("a"), max_tokens=50,
                                should_stop=lambda text: len(text) >= 5)
    result = backend.generate(request, lambda: False)
    assert result.stop_reason == "stop" and result.text == "xxxxx"


def test_json_schema_constrains_output_to_valid_json(tiny_fim_model: TinyModelInfo) -> None:
    backend = _load(tiny_fim_model)
    schema = json.dumps({
        "type": "object",
        "properties": {"level": {"enum": ["low", "high"]}, "ok": {"type": "boolean"}},
        "required": ["level", "ok"],
    })
    request = GenerationRequest(backend.tokenize("def f(): pass"), max_tokens=40,
                                json_schema=schema)
    result = backend.generate(request, lambda: False)
    assert result.stop_reason == "eos"
    answer = json.loads(result.text)
    assert answer["level"] in ("low", "high") and isinstance(answer["ok"], bool)


def test_shortlist_grammar_sampling_equals_full_vocabulary_greedy(
        tiny_fim_model: TinyModelInfo) -> None:
    backend = _load(tiny_fim_model)
    schema = json.dumps({"type": "object", "properties": {
        "summary": {"type": "string", "maxLength": 30},
        "kind": {"enum": ["bug", "style", "performance"]}}, "required": ["summary", "kind"]})
    prompt = backend.tokenize("def add(a, b):\n    return a + b\n")
    fast = backend.generate(GenerationRequest(prompt, max_tokens=60, json_schema=schema),
                            lambda: False)
    # llama-cpp-python's own path: the grammar applied to the whole vocabulary at every step.
    llm = backend._llm
    llm.reset()
    tokens = []
    for token in llm.generate(prompt, temp=0.0, grammar=backend._grammar_for(schema)):
        if token == llm.token_eos() or len(tokens) >= 60:
            break
        tokens.append(token)
    assert fast.text == llm.detokenize(tokens).decode("utf-8", "ignore")
    json.loads(fast.text, strict=False)  # random weights may write raw control characters


def test_invalid_json_schema_is_a_model_error(tiny_fim_model: TinyModelInfo) -> None:
    backend = _load(tiny_fim_model)
    request = GenerationRequest(backend.tokenize("a"), max_tokens=4, json_schema="{not json")
    with pytest.raises(ModelError, match="JSON schema"):
        backend.generate(request, lambda: False)


def test_prompt_longer_than_context_is_trimmed_to_budget(tiny_fim_model: TinyModelInfo) -> None:
    settings = Settings(context_size=256, max_tokens=16, prefix_lines=10_000)
    backend = _load(tiny_fim_model, settings)
    body = "".join(f"value_{i} = compute({i}, {i + 1})\n" for i in range(400))
    snapshot, offset = _snapshot(body + "result = <|cursor|>\n")
    prompt = CompletionPipeline(backend).build_prompt(snapshot, offset, settings)
    assert len(prompt.tokens) + 16 <= 256
    assert "result =<fim_suffix>" in backend.detokenize(prompt.tokens)
    assert "value_0 =" not in backend.detokenize(prompt.tokens)  # the start was dropped
    outcome = CompletionPipeline(backend).complete(snapshot, offset, settings)
    assert outcome.generation is not None


def test_missing_model_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist; set 'model'"):
        _load(tmp_path / "nope.gguf")


def test_corrupt_model_says_what_to_do(corrupt_model: Path) -> None:
    with pytest.raises(ModelError, match="corrupt"):
        _load(corrupt_model)


def test_non_gguf_file_is_refused_before_llama_cpp(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(ModelError, match="not a GGUF model file"):
        _load(path)
