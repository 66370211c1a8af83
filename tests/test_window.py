"""The cursor window (prefix/suffix/line text, quantised start) and the completion mode."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llama_lsp.context.documents import Document, DocumentSnapshot
from llama_lsp.context.window import (
    WINDOW_START_QUANTUM,
    CursorWindow,
    cursor_window,
    window_first_line,
)
from llama_lsp.features.completion.mode import choose_mode
from llama_lsp.features.completion.postprocess import CompletionMode

CURSOR = "<|cursor|>"


def _snapshot(text: str, language_id: str = "python") -> DocumentSnapshot:
    return Document("file:///w/a.py", language_id, 1, text, 10_000_000).snapshot()


def _at_cursor(marked: str, prefix_lines: int = 128, suffix_lines: int = 32) -> CursorWindow:
    offset = marked.index(CURSOR)
    return cursor_window(_snapshot(marked.replace(CURSOR, "")), offset, prefix_lines, suffix_lines)


def _numbered(count: int) -> str:
    return "".join(f"line {n}\n" for n in range(count))


# --- cursor_window ------------------------------------------------------------------------------


def test_small_document_window_is_everything():
    window = _at_cursor("def f(x):\n    return x<|cursor|> + 1\n\nprint(f(2))\n")
    assert window.prefix == "def f(x):\n    return x"
    assert window.suffix == " + 1\n\nprint(f(2))\n"
    assert window.line_before == "    return x"
    assert window.line_after == " + 1"
    assert window.first_line == 0


def test_cursor_at_document_start_and_end():
    start = _at_cursor("<|cursor|>abc\ndef")
    assert (start.prefix, start.suffix, start.line_before, start.line_after) == (
        "", "abc\ndef", "", "abc")
    end = _at_cursor("abc\ndef<|cursor|>")
    assert (end.prefix, end.suffix, end.line_before, end.line_after) == ("abc\ndef", "", "def", "")
    assert end.first_line == 0


def test_empty_document():
    window = cursor_window(_snapshot(""), 0, 10, 10)
    assert window == CursorWindow("", "", "", "", 0)


def test_line_after_excludes_line_breaks():
    for line_break in ("\n", "\r\n", "\r"):
        window = _at_cursor(f"a = <|cursor|>1{line_break}b = 2{line_break}")
        assert window.line_after == "1"
        assert window.line_before == "a = "
        assert window.suffix == f"1{line_break}b = 2{line_break}"


def test_cursor_on_empty_line_between_crlf_lines():
    window = _at_cursor("if x:\r\n    <|cursor|>\r\nelse:\r\n")
    assert window.line_before == "    "
    assert window.line_after == ""
    assert window.prefix == "if x:\r\n    "
    assert window.suffix == "\r\nelse:\r\n"


def test_suffix_keeps_suffix_lines_below_the_cursor_line():
    text = _numbered(10)
    offset = text.index("line 2") + 2
    window = cursor_window(_snapshot(text), offset, 128, 3)
    # The rest of line 2, then lines 3, 4 and 5 with their line breaks.
    assert window.suffix == "ne 2\nline 3\nline 4\nline 5\n"
    assert window.line_after == "ne 2"


def test_suffix_at_the_end_of_the_document_is_the_rest():
    text = _numbered(4) + "tail"
    offset = text.index("line 2")
    window = cursor_window(_snapshot(text), offset, 128, 50)
    assert window.suffix == "line 2\nline 3\ntail"


def test_prefix_starts_at_a_line_start():
    text = _numbered(200)
    offset = text.index("line 150") + 5
    window = cursor_window(_snapshot(text), offset, 20, 5)
    # wanted = 130, rounded up to the next multiple of 16: 144.
    assert window.first_line == 144
    assert window.prefix.startswith("line 144\n")
    assert window.prefix.endswith("line ")
    assert window.line_before == "line "


@pytest.mark.parametrize(
    ("line", "prefix_lines", "first_line"),
    [
        (0, 128, 0),
        (5, 128, 0),
        (100, 10, 96),  # wanted 90 -> 96
        (20, 10, 16),  # wanted 10 -> 16
        (32, 16, 16),  # wanted 16 is already a multiple
        (33, 16, 32),  # wanted 17 -> 32
        (3, 1, 3),  # wanted 2 -> 16, but never below the cursor's line
        (40, 1, 40),  # wanted 39 -> 48, clamped to the cursor's line
    ],
)
def test_first_line_is_quantised(line: int, prefix_lines: int, first_line: int):
    text = _numbered(200)
    offset = text.index(f"line {line}\n")
    window = cursor_window(_snapshot(text), offset, prefix_lines, 4)
    assert window.first_line == first_line
    assert window.prefix == "".join(f"line {n}\n" for n in range(first_line, line))


def test_quantum_is_sixteen():
    assert WINDOW_START_QUANTUM == 16


def test_first_line_stays_put_while_typing_down_the_file():
    text = _numbered(300)
    snapshot = _snapshot(text)
    starts = [cursor_window(snapshot, text.index(f"line {line}\n"), 50, 4).first_line
              for line in range(60, 200)]
    assert starts == sorted(starts)
    runs = [len(list(group)) for _, group in itertools.groupby(starts)]
    # The start moves once every WINDOW_START_QUANTUM lines (the first and last runs are cut).
    assert all(run == WINDOW_START_QUANTUM for run in runs[1:-1])
    assert len(runs) == 10
    assert all(start % WINDOW_START_QUANTUM == 0 for start in starts)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(["x", "\u00e9", "\U0001F600", " ", "\n", "\r\n", "(", ")"]),
             max_size=200).map("".join),
    st.data(),
    st.integers(min_value=1, max_value=40),
    st.integers(min_value=1, max_value=40),
)
def test_window_invariants(text: str, data: st.DataObject, prefix_lines: int, suffix_lines: int):
    snapshot = _snapshot(text)
    offset = data.draw(st.sampled_from(
        [o for o in range(len(text) + 1)
         if not (0 < o < len(text) and text[o - 1] == "\r" and text[o] == "\n")]))
    window = cursor_window(snapshot, offset, prefix_lines, suffix_lines)
    line = snapshot.index.position_at(offset, "utf-32").line
    assert text[:offset].endswith(window.prefix)
    assert text[offset:].startswith(window.suffix)
    assert window.prefix.endswith(window.line_before)
    assert window.suffix.startswith(window.line_after)
    assert snapshot.index.line_text(line) == window.line_before + window.line_after
    assert "\n" not in window.line_before + window.line_after
    assert "\r" not in window.line_before + window.line_after
    assert window.first_line <= line
    assert line - window.first_line <= prefix_lines
    assert window.first_line % WINDOW_START_QUANTUM == 0 or window.first_line == line
    assert window.prefix == text[snapshot.index.starts[window.first_line]:offset]
    # The suffix ends at a line end (or the end of the text) and spans at most suffix_lines
    # more lines.
    assert window.suffix.count("\n") <= suffix_lines + 1
    end = offset + len(window.suffix)
    assert end == len(text) or end in snapshot.index.starts


# --- choose_mode --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marked", "mode"),
    [
        ("def f():\n    <|cursor|>\n", CompletionMode.MULTI_LINE),
        ("<|cursor|>", CompletionMode.MULTI_LINE),
        ("function f() {\n  <|cursor|>\n}\n", CompletionMode.MULTI_LINE),
        ("\t<|cursor|>", CompletionMode.MULTI_LINE),
        ("x = [\n    <|cursor|>]\n", CompletionMode.MULTI_LINE),
        ("f(\n    <|cursor|>);\n", CompletionMode.MULTI_LINE),
        ("s = (\n    <|cursor|>\"\"\n", CompletionMode.MULTI_LINE),
        ("  <|cursor|>  }, ", CompletionMode.MULTI_LINE),
        ("x = <|cursor|>\n", CompletionMode.SINGLE_LINE),
        ("foo(<|cursor|>)\n", CompletionMode.SINGLE_LINE),
        ("    retu<|cursor|>\n", CompletionMode.SINGLE_LINE),
        ("    <|cursor|>x = 1\n", CompletionMode.SINGLE_LINE),
        ("<|cursor|>return x\n", CompletionMode.SINGLE_LINE),
        ("    <|cursor|>) + 1\n", CompletionMode.SINGLE_LINE),
        ("    <|cursor|>}\n}\n", CompletionMode.MULTI_LINE),
    ],
)
def test_choose_mode(marked: str, mode: CompletionMode):
    assert choose_mode(_at_cursor(marked)) is mode


def test_choose_mode_ignores_other_lines():
    window = CursorWindow(prefix="x = foo(\n", suffix="\nbar()\n", line_before="", line_after="",
                          first_line=0)
    assert choose_mode(window) is CompletionMode.MULTI_LINE


@pytest.mark.parametrize(
    ("marked", "language_id", "mode"),
    [
        # A blank line inside an expression continues the expression: one line.
        ("result = compute(\n    <|cursor|>\n)\n", "python", CompletionMode.SINGLE_LINE),
        ("values = [\n    1,\n    <|cursor|>\n]\n", "python", CompletionMode.SINGLE_LINE),
        ("const o = {\n  a: 1,\n  <|cursor|>\n};\n", "javascript", CompletionMode.SINGLE_LINE),
        ("foo(\n\t<|cursor|>\n)\n", "go", CompletionMode.SINGLE_LINE),
        # A blank line in a block: several lines.
        ("def f():\n    x = 1\n    <|cursor|>\n", "python", CompletionMode.MULTI_LINE),
        ("function f() {\n  <|cursor|>\n}\n", "javascript", CompletionMode.MULTI_LINE),
        ("fn main() {\n    <|cursor|>\n}\n", "rust", CompletionMode.MULTI_LINE),
        # Text before the cursor wins whatever the tree says.
        ("def f():\n    x = <|cursor|>\n", "python", CompletionMode.SINGLE_LINE),
    ],
)
def test_choose_mode_with_the_syntax_tree(marked: str, language_id: str, mode: CompletionMode):
    offset = marked.index(CURSOR)
    snapshot = _snapshot(marked.replace(CURSOR, ""), language_id)
    window = cursor_window(snapshot, offset, 128, 32)
    assert choose_mode(window, snapshot, offset) is mode


def test_choose_mode_without_a_tree_uses_the_line_only():
    text = "values = [\n    \n]\n"
    snapshot = Document("file:///w/a.txt", "plaintext", 1, text, 10_000).snapshot()
    assert snapshot.tree is None
    offset = text.index("    \n") + 4
    window = cursor_window(snapshot, offset, 128, 32)
    assert choose_mode(window, snapshot, offset) is CompletionMode.MULTI_LINE


# --- statement boundaries -----------------------------------------------------------------------


def test_window_start_skips_the_inside_of_a_string_and_a_call():
    head = "x = 1\n" * 15 + 'HELP = """\nusage:\n  run it\n"""\nvalue = compute(\n    1,\n)\n'
    body = "def f(a):\n    return a<|cursor|>\n"
    text = head + body
    cursor_line = text[:text.index(CURSOR)].count("\n")
    # The quantised start is line 16 (`usage:`, inside the string).
    window = _at_cursor(text, prefix_lines=cursor_line - 16)
    assert window.first_line == 19
    assert window.prefix.startswith("value = compute(")


def test_window_start_skips_a_docstring_longer_than_the_search():
    docstring = "".join(f"    detail {n}\n" for n in range(40))
    head = "x = 1\n" * 16 + f'def g():\n    """Summary.\n\n{docstring}    """\n    return 2\n\n\n'
    text = head + "def f(a):\n    return a<|cursor|>\n"
    cursor_line = text[:text.index(CURSOR)].count("\n")
    # The quantised start is line 32, inside the docstring; it ends on line 59.
    window = _at_cursor(text, prefix_lines=cursor_line - 32)
    assert window.prefix.startswith("    return 2\n")
    assert window.first_line == 60


def test_window_start_stays_inside_a_string_that_holds_the_cursor():
    text = "x = 1\n" * 16 + 'HELP = """\n' + "".join(f"text {n}\n" for n in range(40)) + \
        "more<|cursor|>\n" + '"""\n'
    window = _at_cursor(text, prefix_lines=20)
    assert window.first_line == 48  # quantised start, kept: nothing to skip to


def test_window_end_does_not_stop_inside_a_call():
    text = "def f(a):\n    return a<|cursor|>\n\nresult = call(\n    1,\n    2,\n)\nprint(result)\n"
    window = _at_cursor(text, suffix_lines=4)  # the last line would be `    2,`
    assert window.suffix == "\n\n"


def test_window_edges_stay_without_a_syntax_tree():
    text = "".join(f"line {n}\n" for n in range(40))
    document = Document("file:///w/a.txt", "plaintext", 1, text, 10_000_000)
    window = cursor_window(document.snapshot(), text.index("line 38"), 10, 1)
    assert window.first_line == 32 and window.suffix == "line 38\nline 39\n"


def test_window_first_line_moves_in_quantum_steps_and_never_below_the_cursor() -> None:
    assert window_first_line(10, 128) == 0
    assert window_first_line(129, 128) == 16
    assert window_first_line(144, 128) == 16
    assert window_first_line(145, 128) == 32
    assert window_first_line(5, 1) == 5  # rounded up, but not past the cursor's line
