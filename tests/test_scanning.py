"""The one quote- and bracket-aware scanner (context.scanning): examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llama_lsp.context.scanning import (
    CLOSERS,
    COMMENT,
    OPENERS,
    brackets,
    closing,
    state_at_end,
    walk,
)

LANGUAGES = ["python", "javascript", "typescript", "go", "rust", "java", "c", "cpp"]
# Code-like text: the pieces that matter to a scanner (the filters' properties use it too).
PIECES = st.sampled_from([
    "x", "foo", " ", "    ", "\t", "\n", "\r\n", "(", ")", "[", "]", "{", "}", '"', "'", "`",
    "\\", ";", ":", ",", "//", "#", "'a", "'a'", "return ", "\u00e9", "\U0001F600",
])
TEXT = st.lists(PIECES, max_size=30).map("".join)


def _code(text: str, language_id: str) -> str:
    return "".join(char for _, char, is_code, _ in walk(text, language_id) if is_code)


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


def test_brackets_in_code_with_their_depth():
    assert list(brackets('f(a, ["]", b])', "python")) == [
        (1, "(", 1), (5, "[", 2), (12, "]", 1), (13, ")", 0)]
    assert list(brackets("}) // (", "go")) == [(0, "}", -1), (1, ")", -2)]


@pytest.mark.parametrize(("language_id", "text", "closers"), [
    ("python", "x = f(a, [b, ", "])"),
    ("python", 'x = f(a, "b', '")'),
    ("python", "x = f(a, # note", "\n)"),
    ("python", 'x = f("a\\', ' ")'),  # the backslash would escape a closing quote
    ("javascript", "g(a).h({k: [1, ", "]})"),
    ("python", "f(a)]", ""),  # a stray closer closes nothing
    ("rust", "f(&'a x, ", ")"),
])
def test_closing(language_id: str, text: str, closers: str):
    assert closing(text, language_id) == closers


@settings(max_examples=200, deadline=None)
@given(TEXT, st.sampled_from(LANGUAGES))
def test_walk_visits_every_character_once(text: str, language_id: str):
    visited = list(walk(text, language_id))
    assert [position for position, *_ in visited] == list(range(len(text)))
    assert "".join(char for _, char, _, _ in visited) == text
    # A line break always returns to code.
    assert all(state is None for _, char, _, state in visited if char == "\n")


@settings(max_examples=300, deadline=None)
@given(TEXT, st.sampled_from(LANGUAGES))
def test_brackets_are_the_code_brackets(text: str, language_id: str):
    code = [(position, char) for position, char, is_code, _ in walk(text, language_id)
            if is_code and char in OPENERS + CLOSERS]
    found = list(brackets(text, language_id))
    assert [(position, char) for position, char, _ in found] == code
    depth = 0
    for _, char, after in found:
        depth += 1 if char in OPENERS else -1
        assert after == depth


@settings(max_examples=300, deadline=None)
@given(TEXT, st.sampled_from(LANGUAGES))
def test_closing_leaves_nothing_open(text: str, language_id: str):
    closed = text + closing(text, language_id)
    assert closing(closed, language_id) == ""
    assert state_at_end(closed, language_id) in (None, COMMENT) or closed.endswith("\n")
