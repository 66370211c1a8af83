"""Properties of the post-processing filters."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llama_lsp.features.completion.postprocess import (
    FILTERS,
    CompletionMode,
    FilterContext,
    postprocess,
)
from llama_lsp.features.completion.postprocess.whitespace import normalise_whitespace

LANGUAGES = ["python", "javascript", "typescript", "go", "rust", "java", "c", "cpp"]


# --- filter properties --------------------------------------------------------------------------

_PIECES = st.sampled_from([
    "x", "foo", " ", "    ", "\t", "\n", "\r\n", "(", ")", "[", "]", "{", "}", '"', "'", "`",
    "\\", ";", ":", ",", "//", "#", "'a", "return ", "\u00e9", "\U0001F600",
])
_TEXT = st.lists(_PIECES, max_size=30).map("".join)
_LINE = st.lists(_PIECES.filter(lambda p: "\n" not in p), max_size=8).map("".join)


@st.composite
def _contexts(draw: st.DrawFn) -> FilterContext:
    line_after = draw(_LINE)
    return FilterContext(
        mode=draw(st.sampled_from(list(CompletionMode))),
        language_id=draw(st.sampled_from(LANGUAGES)),
        line_before=draw(_LINE),
        line_after=line_after,
        suffix=line_after + draw(st.sampled_from(["", "\n"])) + draw(_TEXT),
        max_lines=draw(st.integers(min_value=1, max_value=10)),
    )


@settings(max_examples=400, deadline=None)
@given(_TEXT, _contexts())
def test_filters_only_cut_the_end(text: str, context: FilterContext):
    for apply in FILTERS:
        result = apply(text, context)
        assert isinstance(result, str)
        if apply is not normalise_whitespace:
            assert text.startswith(result), apply.__name__


@settings(max_examples=400, deadline=None)
@given(_TEXT, _contexts())
def test_postprocess_output_is_normalised(text: str, context: FilterContext):
    result = postprocess(text, context)
    assert normalise_whitespace(result, context) == result
    assert result == "" or result.strip()
    assert "\r\n" not in result
    assert len(result.split("\n")) <= context.max_lines
    if context.mode is CompletionMode.SINGLE_LINE:
        assert "\n" not in result
