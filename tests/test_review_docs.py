"""The review reference's configuration example names every review option, and is valid."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from llama_lsp.features.review.config import ReviewConfig, apply_options, config_file_options

ROOT = Path(__file__).parent.parent
REVIEW_DOC = (ROOT / "docs" / "review.md").read_text(encoding="utf-8")


def _example() -> str:
    """The ``[review]`` example of docs/review.md (its one TOML block)."""
    blocks = re.findall(r"```toml\n(.*?)```", REVIEW_DOC, re.DOTALL)
    assert len(blocks) == 1, "docs/review.md should have exactly one TOML example"
    return blocks[0]


def test_review_doc_documents_every_review_option() -> None:
    example = "\n" + _example()
    for field in dataclasses.fields(ReviewConfig):
        assert f"\n{field.name.replace('_', '-')} = " in example, field.name


def test_review_doc_example_is_a_valid_config_file(tmp_path: Path) -> None:
    path = tmp_path / "review.toml"
    path.write_text(_example(), encoding="utf-8")
    apply_options(ReviewConfig(), config_file_options(path))



def test_readme_links_the_review_reference() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/review.md" in readme
