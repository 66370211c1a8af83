"""Properties of the post-processing filters, and the small lexer some of them share."""

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
from llama_lsp.features.completion.postprocess.lexing import COMMENT, state_at_end, walk
from llama_lsp.features.completion.postprocess.whitespace import normalise_whitespace

LANGUAGES = ["python", "javascript", "typescript", "go", "rust", "java", "c", "cpp"]


def _code(text: str, language_id: str) -> str:
    return "".join(char for _, char, is_code, _ in walk(text, language_id) if is_code)


# --- lexing -------------------------------------------------------------------------------------


def test_strings_are_not_code():
    assert _code('f("a(b", \'c]\', `d{`) + 1', "javascript") == "f(, , ) + 1"


def test_escaped_quotes_and_backslashes():
    assert _code(r'x = "a\"(" + "\\" + (y)', "c") == "x =  +  + (y)"


def test_literals_end_at_the_end_of_the_line():
    assert _code("s = 'unclosed (\nf(x)", "go") == "s = \nf(x)"


@pytest.mark.parametrize(("language_id", "text", "code"), [
    ("javascript", "a(); // don't (\nb[0]", "a(); \nb[0]"),
    ("c", "x / 2; // see (1\n}", "x / 2; \n}"),
    ("python", "a = b // 2  # it's (\n)", "a = b // 2  \n)"),
    ("rust", "let x = 1; // y's {\n}", "let x = 1; \n}"),
])
def test_line_comments_are_not_code(language_id: str, text: str, code: str):
    assert _code(text, language_id) == code


def test_python_hash_is_a_comment_but_c_hash_is_code():
    assert _code("#include <a.h>", "c") == "#include <a.h>"
    assert _code("x  # (", "python") == "x  "


def test_rust_lifetimes_are_code_and_char_literals_are_not():
    assert _code("fn f<'a>(x: &'a str) {", "rust") == "fn f<'a>(x: &'a str) {"
    assert _code("if c == '{' || c == '\\'' { x }", "rust") == "if c ==  || c ==  { x }"
    assert _code("let s = '\\u{7B}';", "rust") == "let s = ;"
    # In other languages an apostrophe always starts a literal.
    assert _code("f<'a>(x) {", "java") == "f<"


def test_walk_can_start_inside_a_string():
    states = [state for _, _, _, state in walk('lo" + x', "python", '"')]
    assert states == ['"', '"', None, None, None, None, None]
    assert _code("ab'cd", "python") == "ab"


def test_state_at_end():
    assert state_at_end('print("hello', "python") == '"'
    assert state_at_end('print("hello")', "python") is None
    assert state_at_end("x = 1  # note", "python") == COMMENT
    assert state_at_end("x = 1; // note", "javascript") == COMMENT
    assert state_at_end("s = 'a\\'", "javascript") == "'"
    assert state_at_end("fn f<'a>(x: &'a str) -> &'a str { f(", "rust") is None
    assert state_at_end("", "go") is None


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


@settings(max_examples=200, deadline=None)
@given(_TEXT, st.sampled_from(LANGUAGES))
def test_walk_visits_every_character_once(text: str, language_id: str):
    visited = list(walk(text, language_id))
    assert [position for position, *_ in visited] == list(range(len(text)))
    assert "".join(char for _, char, _, _ in visited) == text
    # A line break always returns to code.
    assert all(state is None for _, char, _, state in visited if char == "\n")
