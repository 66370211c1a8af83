"""The README's review configuration example names every review option."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from llama_lsp.features.review.config import ReviewConfig

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_documents_every_review_option() -> None:
    section = README[README.index("## Review in CI"):README.index("## Architecture")]
    for field in dataclasses.fields(ReviewConfig):
        assert f"\n{field.name.replace('_', '-')} = " in section, field.name
