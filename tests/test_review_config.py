"""Review configuration: defaults, the CI job's file and flags, what a repository may add, and
validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from llama_lsp.features.review.config import (
    REPOSITORY_KEYS,
    ConfigError,
    ReviewConfig,
    file_options,
    load_config,
)


def test_defaults_without_files(tmp_path: Path) -> None:
    assert load_config(tmp_path, {}) == ReviewConfig()


def test_llama_lsp_toml_is_read_before_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.llama-lsp.review]\nfail-on = "warning"\n')
    assert load_config(tmp_path, {}).fail_on == "warning"
    (tmp_path / ".llama-lsp.toml").write_text('[review]\nfail-on = "error"\nmax-units = 7\n')
    options, used = file_options(tmp_path)
    assert used == tmp_path / ".llama-lsp.toml" and options["max-units"] == 7


def test_a_repository_may_only_make_the_gate_stricter(tmp_path: Path) -> None:
    (tmp_path / ".llama-lsp.toml").write_text(
        '[review]\nfail-on = "warning"\nmin-confidence = "low"\ninstructions = "Use pathlib."\n')
    ci = {"fail_on": "error", "min_confidence": "medium", "instructions": "No eval."}
    config = load_config(tmp_path, ci)
    assert (config.fail_on, config.min_confidence) == ("warning", "low")
    assert config.instructions == "No eval.\nUse pathlib."
    (tmp_path / ".llama-lsp.toml").write_text(
        '[review]\nfail-on = "never"\nmin-confidence = "high"\n')
    assert load_config(tmp_path, {"fail_on": "error"}).fail_on == "error"
    assert load_config(tmp_path, {}).min_confidence == "medium"


def test_options_that_narrow_the_review_or_move_files_are_ignored_with_a_warning(
        tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.llama-lsp.review]\nexclude = ["**"]\ninclude = ["nothing/"]\nmax-units = 1\n'
        'cache-dir = "/tmp/elsewhere"\nmodel = "evil.gguf"\nsuppress = [".*"]\n'
        'ignore-categories = ["bug", "security"]\nmax-tokens = 1\nplain-text = false\n'
        'model-settings = { contextSize = 64 }\nfail-on = "info"\n')
    warnings: list[str] = []
    config = load_config(tmp_path, {}, warn=warnings.append)
    assert config == ReviewConfig(fail_on="info")
    (warning,) = warnings
    assert "ignoring exclude, include, max-units, cache-dir, model" in warning


def test_the_ci_config_file_sets_everything_and_flags_win(tmp_path: Path) -> None:
    ci_file = tmp_path / "ci" / "review.toml"
    ci_file.parent.mkdir()
    ci_file.write_text('[review]\nexclude = ["docs/**"]\nmax-units = 7\ncache-dir = "c"\n'
                       'model-settings = { contextSize = 8192 }\n')
    config = load_config(tmp_path, {"max_units": 9}, ci_file)
    assert (config.exclude, config.max_units, config.cache_dir) == (("docs/**",), 9, "c")
    assert config.model_settings == {"contextSize": 8192}
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path, {}, tmp_path / "absent.toml")
    (tmp_path / "empty.toml").write_text("x = 1\n")
    with pytest.raises(ConfigError, match="no \\[review\\]"):
        load_config(tmp_path, {}, tmp_path / "empty.toml")


def test_a_repository_file_named_by_the_ci_job_has_full_authority(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.llama-lsp.review]\nmax-units = 3\n')
    assert load_config(tmp_path, {}, tmp_path / "pyproject.toml").max_units == 3
    assert load_config(tmp_path, {}).max_units == ReviewConfig().max_units
    assert load_config(tmp_path, {}, read_repository=False) == ReviewConfig()


def test_a_symlinked_repository_config_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside.toml"
    outside.write_text('[review]\ninstructions = "secret text from outside"\n')
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".llama-lsp.toml").symlink_to(outside)
    warnings: list[str] = []
    assert load_config(repo, {}, warn=warnings.append) == ReviewConfig()
    assert "symbolic link" in warnings[0]


def test_pyproject_without_review_section_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_config(tmp_path, {}) == ReviewConfig()


@pytest.mark.parametrize("text, message", [
    ('[review]\nsurprise = 1\n', "unknown review option 'surprise'"),
    ('[review]\nfail-on = "sometimes"\n', "must be one of"),
    ('[review]\ninstructions = 3\n', "must be a string"),
    ('[review\n', "cannot read"),
])
def test_invalid_repository_options_name_the_problem(tmp_path: Path, text: str,
                                                     message: str) -> None:
    (tmp_path / ".llama-lsp.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path, {})


@pytest.mark.parametrize("text, message", [
    ('[review]\nmax-units = 0\n', "positive integer"),
    ('[review]\nsuppress = ["("]\n', "bad pattern"),
    ('[review]\nignore-categories = ["typos"]\n', "unknown categories"),
    ('[review]\ninclude = "src"\n', "list of strings"),
    ('[review.model-settings]\nbackend = "openai"\nendpoint = "https://x.example"\n',
     "may not set backend, endpoint"),
    ('[review.model-settings]\napiKeyEnv = "CI_TOKEN"\n', "may not set apiKeyEnv"),
])
def test_invalid_ci_options_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "review.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path, {}, tmp_path / "review.toml")


def test_repository_keys_are_real_options() -> None:
    fields = {name for name in ReviewConfig.__dataclass_fields__}
    assert REPOSITORY_KEYS <= fields
