"""The README stays true to the code."""

from pathlib import Path

from llama_lsp.config.settings import OPTIONS

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_readme_documents_every_option() -> None:
    for option in OPTIONS:
        assert f"| `{option.key}` |" in README, option.key


def test_readme_quick_start_has_the_ci_test_command() -> None:
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text()
    command = 'python3 -m pip install -e ".[test]" && python3 -m pytest'
    assert command in README and command in ci
