"""Review configuration: defaults, TOML files, precedence and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from llama_lsp.features.review.config import ConfigError, ReviewConfig, file_options, load_config


def test_defaults_without_files(tmp_path: Path) -> None:
    assert load_config(tmp_path, {}) == ReviewConfig()


def test_llama_lsp_toml_wins_over_pyproject_and_flags_win_over_both(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.llama-lsp.review]\nfail-on = "warning"\n')
    assert load_config(tmp_path, {}).fail_on == "warning"
    (tmp_path / ".llama-lsp.toml").write_text('[review]\nfail-on = "error"\nmax-units = 7\n')
    options, used = file_options(tmp_path)
    assert used == tmp_path / ".llama-lsp.toml" and options["max-units"] == 7
    config = load_config(tmp_path, {"fail_on": "info"})
    assert (config.fail_on, config.max_units) == ("info", 7)


def test_pyproject_without_review_section_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_config(tmp_path, {}) == ReviewConfig()


@pytest.mark.parametrize("text, message", [
    ('[review]\nsurprise = 1\n', "unknown review option 'surprise'"),
    ('[review]\nmax-units = 0\n', "positive integer"),
    ('[review]\nsuppress = ["("]\n', "bad pattern"),
    ('[review]\nignore-categories = ["typos"]\n', "unknown categories"),
    ('[review]\ninclude = "src"\n', "list of strings"),
    ('[review\n', "cannot read"),
    ('[review.model-settings]\nbackend = "openai"\nendpoint = "https://x.example"\n',
     "may not set backend, endpoint"),
    ('[review.model-settings]\napiKeyEnv = "CI_TOKEN"\n', "may not set apiKeyEnv"),
])
def test_invalid_options_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / ".llama-lsp.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path, {})


def test_model_settings_may_tune_the_local_model(tmp_path: Path) -> None:
    (tmp_path / ".llama-lsp.toml").write_text('[review.model-settings]\ncontextSize = 8192\n')
    assert load_config(tmp_path, {}).model_settings == {"contextSize": 8192}
