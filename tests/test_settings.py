"""User options: defaults, validation, camelCase wire keys, the llama-lsp section."""

from __future__ import annotations

import dataclasses

import pytest

from llama_lsp.config.settings import (
    CONFIG_SECTION,
    DEFAULT_SECRET_PATTERNS,
    OPTIONS,
    Bounded,
    Settings,
    resolve_settings,
)


def test_defaults():
    settings = Settings()
    assert settings.model is None
    assert settings.context_size == 4096
    assert settings.threads is None
    assert settings.gpu_layers == 0
    assert settings.max_tokens == 64
    assert settings.temperature == 0.0
    assert dict(settings.languages) == {}
    assert settings.enabled is True
    assert settings.prefix_lines == 128
    assert settings.suffix_lines == 32
    assert settings.max_file_bytes == 2_000_000
    assert settings.cross_file_context is True
    assert settings.context_tokens == 1024
    assert settings.secret_patterns == DEFAULT_SECRET_PATTERNS
    assert ".env" in settings.secret_patterns
    assert "*.pem" in settings.secret_patterns


def test_option_table_matches_settings_fields_and_defaults():
    fields = {f.name for f in dataclasses.fields(Settings)}
    assert {option.field_name for option in OPTIONS} == fields
    defaults = Settings()
    for option in OPTIONS:
        assert getattr(defaults, option.field_name) == option.default, option.key
        assert option.description
        # Wire keys are camelCase: no separators, lower-case first letter.
        assert "_" not in option.key and "-" not in option.key
        assert option.key[0].islower()
    assert len({option.key for option in OPTIONS}) == len(OPTIONS)


@pytest.mark.parametrize("raw", [None, {}])
def test_nothing_to_resolve_gives_defaults(raw):
    settings, problems = resolve_settings(raw)
    assert settings == Settings()
    assert problems == []


def test_camel_case_keys_are_resolved():
    raw = {
        "model": "/models/a.gguf",
        "contextSize": 8192,
        "threads": 4,
        "gpuLayers": -1,
        "maxTokens": 32,
        "temperature": 1,
        "languages": {"markdown": False, "python": True},
        "enabled": False,
        "prefixLines": 10,
        "suffixLines": 5,
        "maxFileBytes": 1000,
    }
    settings, problems = resolve_settings(raw)
    assert problems == []
    assert settings == Settings(
        model="/models/a.gguf", context_size=8192, threads=4, gpu_layers=-1, max_tokens=32,
        temperature=1.0, languages={"markdown": False, "python": True}, enabled=False,
        prefix_lines=10, suffix_lines=5, max_file_bytes=1000,
    )
    assert isinstance(settings.temperature, float)


def test_snake_case_keys_are_unknown():
    settings, problems = resolve_settings({"context_size": 10})
    assert settings.context_size == 4096
    assert problems == ["unknown llama-lsp setting 'context_size' (ignored)"]


@pytest.mark.parametrize("section", [CONFIG_SECTION, "llamaLsp", "llama_lsp"])
def test_nested_section_is_unwrapped(section: str):
    settings, problems = resolve_settings({section: {"maxTokens": 16, "gpuLayers": 3}})
    assert problems == []
    assert settings.max_tokens == 16
    assert settings.gpu_layers == 3


def test_config_section_name():
    assert CONFIG_SECTION == "llama-lsp"


def test_nested_section_wins_over_top_level_keys():
    settings, problems = resolve_settings({"llama-lsp": {"maxTokens": 16}, "maxTokens": 99})
    assert problems == []
    assert settings.max_tokens == 16


def test_section_that_is_not_an_object_is_treated_as_an_unknown_key():
    settings, problems = resolve_settings({"llama-lsp": 5, "maxTokens": 7})
    assert settings.max_tokens == 7
    assert problems == ["unknown llama-lsp setting 'llama-lsp' (ignored)"]


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("contextSize", 0, "integer between"),
        ("contextSize", -5, "integer between"),
        ("contextSize", "4096", "integer between"),
        ("contextSize", 1.5, "integer between"),
        ("contextSize", True, "integer between"),
        ("threads", 0, "integer between"),
        ("threads", False, "integer between"),
        ("gpuLayers", -2, "between -1 and"),
        ("gpuLayers", 1.0, "between -1 and"),
        ("gpuLayers", True, "between -1 and"),
        ("maxTokens", None, "integer between"),
        ("temperature", -0.1, "between 0 and 2"),
        ("temperature", 2.5, "between 0 and 2"),
        ("temperature", "hot", "between 0 and 2"),
        ("temperature", True, "between 0 and 2"),
        ("languages", ["python"], "language ids"),
        ("languages", {"python": "yes"}, "language ids"),
        ("languages", {"python": 1}, "language ids"),
        ("enabled", "true", "true or false"),
        ("enabled", 1, "true or false"),
        ("prefixLines", 0, "integer between"),
        ("suffixLines", -1, "integer between"),
        ("maxFileBytes", "2MB", "integer between"),
        ("model", 42, "must be a string"),
        ("crossFileContext", "yes", "true or false"),
        ("contextTokens", 0, "integer between"),
        ("secretPatterns", "*.pem", "glob patterns"),
        ("secretPatterns", ["*.pem", 3], "glob patterns"),
    ],
)
def test_invalid_value_gives_one_message_and_keeps_previous_value(key, value, fragment):
    field_name = next(option.field_name for option in OPTIONS if option.key == key)
    base = Settings(context_size=1234, threads=3, gpu_layers=5, max_tokens=11, temperature=0.5,
                    languages={"go": False}, enabled=False, prefix_lines=7, suffix_lines=6,
                    max_file_bytes=999, model="/m.gguf")
    settings, problems = resolve_settings({key: value}, base)
    assert settings == base
    assert len(problems) == 1
    message = problems[0]
    assert repr(key) in message
    assert fragment in message
    assert f"using {getattr(base, field_name)!r}" in message


def test_invalid_value_over_defaults_names_the_default():
    settings, problems = resolve_settings({"maxTokens": 0})
    assert settings.max_tokens == 64
    assert problems == [
        "llama-lsp setting 'maxTokens' must be an integer between 1 and 8192; using 64"]


def test_valid_and_invalid_and_unknown_together():
    settings, problems = resolve_settings(
        {"maxTokens": 20, "contextSize": -1, "colour": "blue", "temperature": 3}
    )
    assert settings.max_tokens == 20
    assert settings.context_size == 4096
    assert settings.temperature == 0.0
    assert len(problems) == 3
    assert problems[1] == "unknown llama-lsp setting 'colour' (ignored)"
    assert "'contextSize'" in problems[0]
    assert "'temperature'" in problems[2]


def test_resolving_over_a_base_keeps_unmentioned_fields():
    base, _ = resolve_settings({"maxTokens": 20, "model": "/a.gguf"})
    settings, problems = resolve_settings({"temperature": 0.2}, base)
    assert problems == []
    assert settings.max_tokens == 20
    assert settings.model == "/a.gguf"
    assert settings.temperature == 0.2
    assert base.temperature == 0.0  # the base is not modified


@pytest.mark.parametrize("raw", [["maxTokens", 3], "maxTokens=3", 7, True])
def test_non_object_input_is_reported(raw):
    base = Settings(max_tokens=5)
    settings, problems = resolve_settings(raw, base)
    assert settings is base
    assert len(problems) == 1
    assert "must be a JSON object" in problems[0]
    assert type(raw).__name__ in problems[0]


@pytest.mark.parametrize("value", [None, ""])
def test_empty_model_means_none(value):
    settings, problems = resolve_settings({"model": value}, Settings(model="/old.gguf"))
    assert problems == []
    assert settings.model is None


def test_threads_may_be_reset_to_none():
    settings, problems = resolve_settings({"threads": None}, Settings(threads=8))
    assert problems == []
    assert settings.threads is None


@pytest.mark.parametrize("value", [0, 2, 0.7])
def test_temperature_bounds_are_inclusive(value):
    settings, problems = resolve_settings({"temperature": value})
    assert problems == []
    assert settings.temperature == float(value)


def test_languages_are_copied():
    switches = {"markdown": False}
    settings, _ = resolve_settings({"languages": switches})
    switches["markdown"] = True
    assert settings.languages == {"markdown": False}


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().max_tokens = 3  # type: ignore[misc]


def test_language_enabled():
    assert Settings().language_enabled("python") is True
    switches = Settings(languages={"markdown": False, "python": True})
    assert switches.language_enabled("markdown") is False
    assert switches.language_enabled("python") is True
    assert switches.language_enabled("rust") is True
    off = Settings(enabled=False, languages={"python": True})
    assert off.language_enabled("python") is False
    assert off.language_enabled("rust") is False


def test_model_identity_changes_only_for_model_fields():
    base = Settings()
    assert base.model_identity() == Settings(max_tokens=5, temperature=1.0).model_identity()
    for change in ({"model": "/b.gguf"}, {"context_size": 2048}, {"threads": 2},
                   {"gpu_layers": -1}):
        assert dataclasses.replace(base, **change).model_identity() != base.model_identity()


def test_context_options():
    settings, problems = resolve_settings(
        {"crossFileContext": False, "contextTokens": 256, "secretPatterns": ["*.key", "vault*"]}
    )
    assert problems == []
    assert settings.cross_file_context is False
    assert settings.context_tokens == 256
    # The list replaces the defaults, and is stored as an immutable tuple.
    assert settings.secret_patterns == ("*.key", "vault*")


def test_empty_secret_patterns_list_is_allowed():
    settings, problems = resolve_settings({"secretPatterns": []})
    assert problems == []
    assert settings.secret_patterns == ()


def test_invoked_request_compares_at_least_the_invoked_candidates():
    default = Settings().for_invoked_request()
    assert (default.rerank_candidates, default.rerank_samples) == (3, 8)
    raised, problems = resolve_settings({"rerankCandidates": 5, "invokedRerankSamples": 2})
    assert problems == []
    assert (raised.rerank_candidates, raised.rerank_samples) == (5, 0)  # automatic: as set
    invoked = raised.for_invoked_request()
    assert (invoked.rerank_candidates, invoked.rerank_samples) == (5, 2)
    off, _ = resolve_settings({"invokedRerankCandidates": 1, "invokedRerankSamples": 0})
    assert (off.for_invoked_request().rerank_candidates,
            off.for_invoked_request().rerank_samples) == (1, 0)


def test_invoked_request_compares_at_least_the_invoked_fim_candidates():
    assert (Settings().fim_candidates, Settings().for_invoked_request().fim_candidates) == (3, 5)
    raised, problems = resolve_settings({"fimCandidates": 7})
    assert problems == [] and raised.for_invoked_request().fim_candidates == 7
    off, _ = resolve_settings({"fimCandidates": 1, "invokedFimCandidates": 1})
    assert off.for_invoked_request().fim_candidates == 1


NUMERIC = [option for option in OPTIONS
           if isinstance(option.default, (int, float)) and not isinstance(option.default, bool)
           or option.key == "threads"]


def test_every_numeric_setting_has_bounds() -> None:
    assert {option.key for option in NUMERIC} >= {"debounceMinMs", "contextSize", "temperature"}
    for option in NUMERIC:
        assert isinstance(option.parse, Bounded), option.key
        assert option.default is None or \
            option.parse.minimum <= option.default <= option.parse.maximum


@pytest.mark.parametrize("option", NUMERIC, ids=lambda option: option.key)
def test_values_outside_the_bounds_are_reported_and_the_previous_value_kept(option) -> None:
    bounds = option.parse
    previous = Settings()
    step = 1 if bounds.integer else 0.01
    for value in (bounds.maximum + step, bounds.minimum - step, 1e9 * max(1, bounds.maximum),
                  float("nan"), float("inf")):
        settings, problems = resolve_settings({option.key: value}, previous)
        assert settings == previous, value
        assert len(problems) == 1 and "between" in problems[0]
    for value in (bounds.minimum, bounds.maximum):
        settings, problems = resolve_settings({option.key: value}, previous)
        assert problems == [] and getattr(settings, option.field_name) == value


def test_a_huge_debounce_is_refused() -> None:
    settings, problems = resolve_settings({"debounceMinMs": 1e9})
    assert settings.debounce_min_ms == 10
    assert problems == ["llama-lsp setting 'debounceMinMs' must be an integer between 0 and "
                        "2000; using 10"]
