"""Open documents: incremental text sync, incremental tree-sitter parsing, snapshots, problems."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tree_sitter import Node, Parser, Point, Tree

from llama_lsp.context.documents import Document, DocumentStore, looks_binary, uri_to_path
from llama_lsp.context.positions import LineIndex, Position, PositionEncoding
from llama_lsp.context.syntax.languages import (
    LANGUAGES,
    available_languages,
    language_id_for_path,
    load_language,
    spec_for,
)
from llama_lsp.context.syntax.parsing import IncrementalParser, TextEdit

UTF8 = PositionEncoding.UTF8
UTF16 = PositionEncoding.UTF16
UTF32 = PositionEncoding.UTF32
EMOJI = "\U0001F600"

PYTHON_SOURCE = '''import os


def greet(name: str) -> str:
    """Say h\u00e9llo \u4e2d\u6587."""
    if not name:
        return "nobody \U0001F600"
    return f"hello {name}"


class Thing:
    def __init__(self, x):
        self.x = [x, (x + 1), {"k": x}]
'''

JAVASCRIPT_SOURCE = '''function greet(name) {
  if (!name) {
    return "nobody \U0001F600";
  }
  const parts = [name, "h\u00e9llo", { k: 1 }];
  return parts.map((p) => `${p}!`).join(" ");
}

class Thing {
  constructor(x) { this.x = x; }
}
'''

RUST_SOURCE = '''fn greet(name: &str) -> String {
    if name.is_empty() {
        return String::from("nobody \U0001F600");
    }
    let parts = vec![name, "h\u00e9llo"];
    parts.join(" ")
}

struct Thing { x: i32 }
'''


def _open(text: str, language_id: str = "python", uri: str = "file:///w/a.py",
          max_bytes: int = 1_000_000) -> Document:
    return Document(uri, language_id, 1, text, max_bytes)


def _fresh_tree(document: Document, text: str) -> Tree:
    snapshot = document.snapshot()
    assert snapshot.language is not None
    return Parser(load_language(snapshot.language)).parse(text.encode("utf-8", "surrogatepass"))


def _dump(node: Node) -> list[tuple[object, ...]]:
    """Every node with its byte range and points: stricter than the S-expression."""
    out: list[tuple[object, ...]] = []
    cursor = node.walk()
    visited_children = False
    while True:
        if not visited_children:
            current = cursor.node
            assert current is not None
            out.append((current.type, cursor.field_name, current.start_byte, current.end_byte,
                        tuple(current.start_point), tuple(current.end_point),
                        current.is_missing))
            if cursor.goto_first_child():
                continue
        if cursor.goto_next_sibling():
            visited_children = False
        elif cursor.goto_parent():
            visited_children = True
        else:
            return out


def _valid_offsets(text: str) -> list[int]:
    """Offsets an editor could address (never between the \\r and \\n of a \\r\\n)."""
    return [o for o in range(len(text) + 1)
            if not (0 < o < len(text) and text[o - 1] == "\r" and text[o] == "\n")]


# --- uri and language lookup --------------------------------------------------------------------


def test_uri_to_path():
    assert uri_to_path("file:///home/u/a%20b/x.py") == "/home/u/a b/x.py"
    assert uri_to_path("untitled:Untitled-1") is None
    assert uri_to_path("https://example.com/x.py") is None


@pytest.mark.parametrize(
    ("language_id", "path", "expected"),
    [
        ("python", None, "python"),
        ("Python", None, "python"),
        ("javascriptreact", None, "javascript"),
        ("tsx", None, "typescriptreact"),
        ("c++", None, "cpp"),
        ("weird", "/x/a.rs", "rust"),
        (None, "/x/A.GO", "go"),
        ("", "/x/a.h", "c"),
        ("plaintext", "/x/a.hpp", "cpp"),
        ("python", "/x/a.rs", "python"),  # the language id wins over the extension
    ],
)
def test_spec_for(language_id: str | None, path: str | None, expected: str):
    spec = spec_for(language_id, path)
    assert spec is not None
    assert spec.language_id == expected


@pytest.mark.parametrize(("language_id", "path"),
                         [("markdown", None), ("markdown", "/x/README.md"), (None, None),
                          ("plaintext", "/x/Makefile")])
def test_spec_for_unknown(language_id: str | None, path: str | None):
    assert spec_for(language_id, path) is None


def test_language_id_for_path():
    assert language_id_for_path("/x/y/main.tsx") == "typescriptreact"
    assert language_id_for_path("lib.PYI") == "python"
    assert language_id_for_path("notes.txt") == "plaintext"


# --- every grammar ------------------------------------------------------------------------------

SNIPPETS = {
    "python": "def f(x):\n    return [x, {'a': 1}]\n",
    "javascript": "function f(x) { return [x, { a: 1 }]; }\nconst g = (y) => `${y}`;\n",
    "typescript": "function f(x: number): number[] { return [x]; }\ninterface I { a: string }\n",
    "typescriptreact": "const C = (p: { n: string }) => <div className=\"c\">{p.n}</div>;\n",
    "go": "package main\n\nfunc f(x int) []int {\n\treturn []int{x}\n}\n",
    "rust": "fn f(x: i32) -> Vec<i32> {\n    vec![x]\n}\nstruct S<'a> { s: &'a str }\n",
    "java": "class A {\n    int f(int x) { return x + 1; }\n}\n",
    "c": "#include <stdio.h>\nint f(int x) {\n    return x + 1;\n}\n",
    "cpp": "#include <vector>\ntemplate <typename T>\nstd::vector<T> f(T x) {\n    return {x};\n}\n",
}


def test_every_registered_language_has_a_snippet():
    assert {spec.language_id for spec in LANGUAGES} == set(SNIPPETS)


@pytest.mark.parametrize("language_id", sorted(SNIPPETS))
def test_every_grammar_loads_and_parses_without_errors(language_id: str):
    document = _open(SNIPPETS[language_id], language_id, uri=f"untitled:{language_id}")
    snapshot = document.snapshot()
    assert snapshot.problem is None
    assert snapshot.language is not None
    assert snapshot.language.language_id == language_id
    assert snapshot.tree is not None
    root = snapshot.tree.root_node
    assert not root.has_error, str(root)
    assert "ERROR" not in str(root)
    assert root.end_byte == len(SNIPPETS[language_id].encode("utf-8"))
    assert root.child_count > 0


def test_available_languages_reports_all_ok():
    assert available_languages() == {spec.language_id: "ok" for spec in LANGUAGES}


# --- documents: text sync ------------------------------------------------------------------------


def test_open_snapshot_fields():
    document = _open(PYTHON_SOURCE, uri="file:///w/a%20b.py")
    snapshot = document.snapshot()
    assert snapshot.uri == "file:///w/a%20b.py"
    assert snapshot.path == "/w/a b.py"
    assert snapshot.language_id == "python"
    assert snapshot.version == 1
    assert snapshot.text == PYTHON_SOURCE
    assert snapshot.index.text == PYTHON_SOURCE
    assert snapshot.problem is None
    assert snapshot.tree is not None
    assert not snapshot.tree.root_node.has_error


def test_incremental_change_utf16_positions_after_emoji():
    text = f'x = "{EMOJI}"\ny = 1\n'
    document = _open(text)
    # Replace the `"` after the emoji (UTF-16 column 7: x = " is 5, the emoji 2) with `"!`.
    document.apply_change(Position(0, 7), Position(0, 8), '"!', UTF16, 2)
    assert document.text == f'x = "{EMOJI}"!\ny = 1\n'
    assert document.version == 2


def test_incremental_change_utf8_positions():
    document = _open("caf\u00e9 = 1\n")
    document.apply_change(Position(0, 5), Position(0, 5), "_x", UTF8, 2)
    assert document.text == "caf\u00e9_x = 1\n"


def test_incremental_change_utf32_positions():
    document = _open(f"{EMOJI}{EMOJI}ab")
    document.apply_change(Position(0, 1), Position(0, 3), "-", UTF32, 2)
    assert document.text == f"{EMOJI}-b"


def test_change_across_crlf_lines():
    document = _open("a = 1\r\nb = 2\r\nc = 3\r\n")
    document.apply_change(Position(0, 4), Position(2, 1), "10\r\nd", UTF16, 2)
    assert document.text == "a = 10\r\nd = 3\r\n"


def test_change_with_lone_cr_line_breaks():
    document = _open("a\rb\rc")
    document.apply_change(Position(1, 0), Position(1, 1), "B", UTF16, 2)
    assert document.text == "a\rB\rc"


def test_change_positions_past_the_end_are_clamped():
    document = _open("ab\ncd")
    document.apply_change(Position(1, 99), Position(7, 0), "!", UTF16, 2)
    assert document.text == "ab\ncd!"
    document.apply_change(Position(0, 99), Position(0, 100), "?", UTF16, 3)
    assert document.text == "ab?\ncd!"


def test_change_with_end_before_start_inserts_at_start():
    document = _open("abcdef")
    document.apply_change(Position(0, 4), Position(0, 1), "X", UTF16, 2)
    assert document.text == "abcdXef"


def test_replace_all():
    document = _open("x = 1\n")
    document.replace_all("def f():\n    pass\n", 5)
    snapshot = document.snapshot()
    assert snapshot.text == "def f():\n    pass\n"
    assert snapshot.version == 5
    assert snapshot.index.line_count == 3
    assert snapshot.tree is not None
    assert str(snapshot.tree.root_node) == str(_fresh_tree(document, snapshot.text).root_node)


# --- incremental parsing == fresh parsing (properties) -------------------------------------------

_INSERT = st.lists(
    st.sampled_from(
        list("abxyz019 _.,:;=+-*/()[]{}<>\"'`#!\\\t") + ["\n", "\n", "    ", "\r\n", "\u00e9",
                                                          "\u4e2d", EMOJI, "return ", "if "]
    ),
    max_size=8,
).map("".join)


@st.composite
def _edit_sequences(draw: st.DrawFn, source: str) -> list[tuple[int, int, str]]:
    """A list of (start_offset, end_offset, new_text) applied in order to ``source``."""
    edits = []
    text = source
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        offsets = _valid_offsets(text)
        start = draw(st.sampled_from(offsets))
        end = draw(st.sampled_from([o for o in offsets if start <= o <= start + 30]))
        new_text = draw(_INSERT)
        edited = text[:start] + new_text + text[end:]
        if not {start, start + len(new_text)} <= set(_valid_offsets(edited)):
            # The edit joins a \r and a \n into one line break: its undo would have to address
            # the place between them, which no LSP position can.
            continue
        edits.append((start, end, new_text))
        text = edited
    return edits


def _with_undo(source: str, edits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """``edits`` followed by the edits that undo them, newest first: back to ``source``."""
    texts = [source]
    for start, end, new_text in edits:
        texts.append(texts[-1][:start] + new_text + texts[-1][end:])
    undo = [(start, start + len(new_text), texts[number][start:end])
            for number, (start, end, new_text) in reversed(list(enumerate(edits)))]
    return [*edits, *undo]


def _ts_point(text: str, offset: int) -> Point:
    """Tree-sitter's point of a code-point offset: rows end at \\n only, columns are bytes."""
    line_start = text.rfind("\n", 0, offset) + 1
    return Point(text.count("\n", 0, offset),
                 len(text[line_start:offset].encode("utf-8", "surrogatepass")))


def _reference_reparse(parser: Parser, tree: Tree, old: str, new: str, start: int, end: int,
                       new_text: str) -> Tree:
    """The same edit done directly on tree-sitter, computed straight from the strings."""
    tree = tree.copy()
    start_byte = len(old[:start].encode("utf-8", "surrogatepass"))
    tree.edit(
        start_byte=start_byte,
        old_end_byte=len(old[:end].encode("utf-8", "surrogatepass")),
        new_end_byte=start_byte + len(new_text.encode("utf-8", "surrogatepass")),
        start_point=_ts_point(old, start),
        old_end_point=_ts_point(old, end),
        new_end_point=_ts_point(new, start + len(new_text)),
    )
    return parser.parse(new.encode("utf-8", "surrogatepass"), tree)


def _check_random_edits(source: str, language_id: str, uri: str,
                        edits: list[tuple[int, int, str]], encoding: PositionEncoding) -> None:
    """Apply ``edits`` (code-point offsets, sent as ``encoding`` positions) and check each tree.

    tree-sitter's error recovery can legitimately build a different tree for broken code when
    it reparses incrementally than when it parses from scratch, so after each edit the tree is
    compared with (1) the same edit applied directly to tree-sitter (node for node, byte ranges
    and points included: this checks the edit the document computes), and (2) a fresh parse
    whenever that fresh parse has no syntax errors.
    """
    document = _open(source, language_id, uri=uri)
    reference_parser = Parser(load_language(document.snapshot().language))
    reference = reference_parser.parse(source.encode("utf-8", "surrogatepass"))
    expected = source
    for version, (start, end, new_text) in enumerate(edits, start=2):
        index = LineIndex(document.text)
        document.apply_change(index.position_at(start, encoding), index.position_at(end, encoding),
                              new_text, encoding, version)
        old, expected = expected, expected[:start] + new_text + expected[end:]
        assert document.text == expected
        snapshot = document.snapshot()
        assert snapshot.version == version
        assert snapshot.tree is not None
        assert snapshot.tree.root_node.end_byte == len(expected.encode("utf-8"))
        reference = _reference_reparse(reference_parser, reference, old, expected, start, end,
                                       new_text)
        assert _dump(snapshot.tree.root_node) == _dump(reference.root_node)
        fresh = _fresh_tree(document, expected)
        if not fresh.root_node.has_error:
            assert str(snapshot.tree.root_node) == str(fresh.root_node)
            assert _dump(snapshot.tree.root_node) == _dump(fresh.root_node)


def _check_edits_then_undo(source: str, language_id: str, uri: str,
                           edits: list[tuple[int, int, str]], encoding: PositionEncoding) -> None:
    """After edits and their undo the incremental tree equals a fresh parse of the final text."""
    all_edits = _with_undo(source, edits)
    _check_random_edits(source, language_id, uri, all_edits, encoding)
    document = _open(source, language_id, uri=uri)
    for version, (start, end, new_text) in enumerate(all_edits, start=2):
        index = LineIndex(document.text)
        document.apply_change(index.position_at(start, encoding), index.position_at(end, encoding),
                              new_text, encoding, version)
    final = document.snapshot()
    assert final.text == source
    fresh = _fresh_tree(document, source)
    assert str(final.tree.root_node) == str(fresh.root_node)
    assert _dump(final.tree.root_node) == _dump(fresh.root_node)


_PROPERTY_SETTINGS = settings(max_examples=50, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow])


@_PROPERTY_SETTINGS
@given(_edit_sequences(PYTHON_SOURCE))
def test_random_utf16_edits_python_tree_matches_fresh_parse(edits):
    _check_edits_then_undo(PYTHON_SOURCE, "python", "file:///w/a.py", edits, UTF16)


@_PROPERTY_SETTINGS
@given(_edit_sequences(JAVASCRIPT_SOURCE))
def test_random_utf16_edits_javascript_tree_matches_fresh_parse(edits):
    _check_edits_then_undo(JAVASCRIPT_SOURCE, "javascript", "file:///w/a.js", edits, UTF16)


@_PROPERTY_SETTINGS
@given(_edit_sequences(RUST_SOURCE))
def test_random_utf8_edits_rust_tree_matches_fresh_parse(edits):
    _check_edits_then_undo(RUST_SOURCE, "rust", "file:///w/a.rs", edits, UTF8)


_CRLF_SOURCE = "a = 1\r\nb = [\r\n    2,\r\n]\r\n"
_LONE_CR_SOURCE = "a = '\u00e9'\rb = [\r    2,\r]\rc = 3\n"


@settings(max_examples=30, deadline=None)
@given(_edit_sequences(_CRLF_SOURCE))
def test_random_utf32_edits_on_crlf_python(edits):
    _check_edits_then_undo(_CRLF_SOURCE, "python", "file:///w/a.py", edits, UTF32)


@settings(max_examples=30, deadline=None)
@given(_edit_sequences(_LONE_CR_SOURCE))
def test_random_utf16_edits_on_lone_cr_python(edits):
    # LSP lines end at a lone \r too, tree-sitter rows only at \n: edit points must use rows.
    _check_edits_then_undo(_LONE_CR_SOURCE, "python", "file:///w/a.py", edits, UTF16)


def test_edit_after_lone_cr_keeps_tree_points_right():
    text = "a = 1\rb = 2\n"
    document = _open(text)
    document.apply_change(Position(1, 4), Position(1, 5), "22", UTF16, 2)
    assert document.text == "a = 1\rb = 22\n"
    fresh = _fresh_tree(document, document.text)
    assert _dump(document.snapshot().tree.root_node) == _dump(fresh.root_node)


def test_edit_inside_function_reuses_tree_and_matches_fresh_parse():
    document = _open(PYTHON_SOURCE)
    line = PYTHON_SOURCE.splitlines().index("    return f\"hello {name}\"")
    document.apply_change(Position(line, 4), Position(line, 10), "yield", UTF16, 2)
    snapshot = document.snapshot()
    assert "    yield f\"hello {name}\"" in snapshot.text
    assert str(snapshot.tree.root_node) == str(_fresh_tree(document, snapshot.text).root_node)
    assert "(yield" in str(snapshot.tree.root_node)


# --- snapshots ----------------------------------------------------------------------------------


def test_snapshot_is_unaffected_by_later_edits():
    document = _open(PYTHON_SOURCE)
    before = document.snapshot()
    sexp_before = str(before.tree.root_node)
    dump_before = _dump(before.tree.root_node)
    document.apply_change(Position(0, 0), Position(0, 0), "x = (\n", UTF16, 2)
    document.apply_change(Position(3, 0), Position(5, 0), "", UTF16, 3)
    after = document.snapshot()
    assert before.text == PYTHON_SOURCE
    assert before.version == 1
    assert before.index.text == PYTHON_SOURCE
    assert str(before.tree.root_node) == sexp_before
    assert _dump(before.tree.root_node) == dump_before
    assert not before.tree.root_node.has_error
    assert after.tree is not before.tree
    assert after.text != before.text
    assert after.tree.root_node.has_error  # the unclosed "(" is really in the new tree


def test_snapshot_is_unaffected_by_replace_all():
    document = _open("x = 1\n")
    before = document.snapshot()
    document.replace_all("y = (\n", 2)
    assert before.text == "x = 1\n"
    assert str(before.tree.root_node) == str(_fresh_tree(document, "x = 1\n").root_node)


def test_incremental_parser_apply_without_tree_parses_fully():
    parser = IncrementalParser(spec_for("python"))
    assert parser.tree is None
    tree = parser.apply([], b"x = 1\n")
    assert parser.tree is tree
    assert str(tree.root_node).startswith("(module")


# --- problems -----------------------------------------------------------------------------------


def test_binary_text_gets_a_problem_and_no_tree():
    document = _open("x = 1\x00\x01\n")
    snapshot = document.snapshot()
    assert snapshot.problem is not None
    assert "binary" in snapshot.problem
    assert snapshot.tree is None
    assert snapshot.language is None
    assert snapshot.text == "x = 1\x00\x01\n"


def test_text_over_max_bytes_gets_a_problem_and_no_tree():
    document = _open("x = 1\n" * 20, max_bytes=100)
    snapshot = document.snapshot()
    assert snapshot.problem is not None
    assert "maxFileBytes" in snapshot.problem
    assert "100" in snapshot.problem
    assert snapshot.tree is None
    assert snapshot.text == "x = 1\n" * 20


def test_max_bytes_counts_utf8_bytes_not_characters():
    text = "# " + "\u4e2d" * 40 + "\n"  # 43 characters, 123 bytes
    assert _open(text, max_bytes=100).snapshot().problem is not None
    assert _open(text, max_bytes=123).snapshot().problem is None


def test_text_at_exactly_max_bytes_is_fine():
    assert _open("x = 1\n", max_bytes=6).snapshot().problem is None


def test_edits_move_a_document_into_and_out_of_problems():
    document = _open("x = 1\n", max_bytes=20)
    document.apply_change(Position(1, 0), Position(1, 0), "y = 2\n" * 5, UTF16, 2)
    snapshot = document.snapshot()
    assert snapshot.problem is not None
    assert snapshot.tree is None
    document.apply_change(Position(1, 0), Position(6, 0), "z = 3\n", UTF16, 3)
    snapshot = document.snapshot()
    assert snapshot.problem is None
    assert snapshot.text == "x = 1\nz = 3\n"
    assert snapshot.tree is not None
    assert str(snapshot.tree.root_node) == str(_fresh_tree(document, snapshot.text).root_node)
    document.apply_change(Position(0, 0), Position(0, 0), "\x00", UTF16, 4)
    assert "binary" in document.snapshot().problem
    assert document.snapshot().tree is None
    # Still binary after another edit: text keeps syncing.
    document.apply_change(Position(1, 0), Position(1, 1), "w", UTF16, 5)
    assert document.text == "\x00x = 1\nw = 3\n"
    assert document.snapshot().tree is None
    document.apply_change(Position(0, 0), Position(0, 1), "", UTF16, 6)
    snapshot = document.snapshot()
    assert snapshot.problem is None
    assert str(snapshot.tree.root_node) == str(_fresh_tree(document, snapshot.text).root_node)


# --- language fallback --------------------------------------------------------------------------


def test_unknown_language_id_falls_back_to_extension():
    document = _open("fn main() {}\n", "some-editor-id", uri="file:///w/main.rs")
    snapshot = document.snapshot()
    assert snapshot.language_id == "some-editor-id"
    assert snapshot.language is not None
    assert snapshot.language.language_id == "rust"
    assert "function_item" in str(snapshot.tree.root_node)


def test_unknown_language_has_text_but_no_tree():
    document = _open("# Title\n\nsome *text*\n", "markdown", uri="file:///w/README.md")
    snapshot = document.snapshot()
    assert snapshot.tree is None
    assert snapshot.language is None
    assert snapshot.problem is None
    assert snapshot.text == "# Title\n\nsome *text*\n"
    document.apply_change(Position(2, 0), Position(2, 4), "more", UTF16, 2)
    snapshot = document.snapshot()
    assert snapshot.text == "# Title\n\nmore *text*\n"
    assert snapshot.version == 2
    assert snapshot.tree is None


def test_unknown_language_on_untitled_uri():
    snapshot = _open("hello", "plaintext", uri="untitled:Untitled-1").snapshot()
    assert snapshot.tree is None
    assert snapshot.path is None
    assert snapshot.text == "hello"


# --- the store ----------------------------------------------------------------------------------


def test_document_store_open_get_close():
    store = DocumentStore(max_bytes=50)
    assert len(store) == 0
    assert store.get("file:///a.py") is None
    first = store.open("file:///a.py", "python", 1, "x = 1\n")
    assert store.get("file:///a.py") is first
    assert first.max_bytes == 50
    again = store.open("file:///a.py", "python", 7, "y = 2\n")
    assert store.get("file:///a.py") is again
    assert again.snapshot().version == 7
    store.open("file:///b.py", "python", 1, "z" * 60)
    assert store.get("file:///b.py").snapshot().problem is not None
    assert len(store) == 2
    store.close("file:///a.py")
    store.close("file:///never-opened.py")
    assert store.get("file:///a.py") is None
    assert len(store) == 1


# --- reparsing under a time budget --------------------------------------------------------------

LARGE_PYTHON = "".join(
    f"class Thing{n}:\n    def method(self, x):\n        # comment {n}\n"
    f"        return f\"{{x}} {n}\"\n\n\n" for n in range(600)
)


def _type_at_top(document: Document, text: str, version: int) -> None:
    """Type ``text`` at the end of the first method (tree-sitter re-reads the rest of the file)."""
    line = 3
    document.apply_change(Position(line, 26), Position(line, 26), text, UTF16, version)


def test_budget_that_runs_out_leaves_the_edited_old_tree_then_resumes() -> None:
    document = _open(LARGE_PYTHON)
    _type_at_top(document, " + 1", 2)
    assert document.parse_pending
    cut_short = document.snapshot(parse_budget_seconds=0.0)
    assert not cut_short.tree_current
    assert cut_short.tree is not None
    assert cut_short.tree.root_node.end_byte == len(document.text.encode())  # edit applied
    finished = document.snapshot()
    assert finished.tree_current and not document.parse_pending
    assert str(finished.tree.root_node) == str(_fresh_tree(document, document.text).root_node)
    assert _dump(finished.tree.root_node) == _dump(_fresh_tree(document, document.text).root_node)


def test_resumed_parse_slices_add_up_to_the_fresh_tree() -> None:
    document = _open(LARGE_PYTHON)
    _type_at_top(document, " * 2", 2)
    slices = 1
    while not document.parse(0.0005):
        slices += 1
    assert slices > 1
    assert _dump(document.snapshot().tree.root_node) == \
        _dump(_fresh_tree(document, document.text).root_node)


def test_edit_during_a_cut_short_parse_starts_over_with_both_edits() -> None:
    document = _open(LARGE_PYTHON)
    _type_at_top(document, " + 1", 2)
    assert not document.parse(0.0)
    document.apply_change(Position(1000, 0), Position(1000, 0), "X = 1\n", UTF16, 3)
    assert not document.snapshot(0.0).tree_current
    assert document.parse()
    assert _dump(document.snapshot().tree.root_node) == \
        _dump(_fresh_tree(document, document.text).root_node)


def test_cut_short_snapshot_keeps_its_tree_through_later_edits() -> None:
    document = _open(LARGE_PYTHON)
    _type_at_top(document, " + 1", 2)
    kept = document.snapshot(0.0)
    before = _dump(kept.tree.root_node)
    _type_at_top(document, "0", 3)
    document.snapshot()
    assert _dump(kept.tree.root_node) == before


def test_queries_run_on_a_tree_parsed_under_a_budget() -> None:
    """Such trees read their text through a callback; query predicates must still work."""
    from llama_lsp.context.syntax.outline import imports, outline

    text = "import os\nLIMIT = 3\n" + LARGE_PYTHON
    document = _open(text)
    _type_at_top(document, "", 2)  # no-op edit: the tree is stale
    document.apply_change(Position(4, 26), Position(4, 26), " + 1", UTF16, 3)
    assert document.parse(10.0)
    snapshot = document.snapshot()
    source = snapshot.text.encode()
    fresh = _fresh_tree(document, snapshot.text)
    names = [d.name for d in outline(snapshot.tree, source, snapshot.language)]
    assert names == [d.name for d in outline(fresh, source, snapshot.language)]
    assert "LIMIT" in names and "Thing599" in names
    assert [i.module for i in imports(snapshot.tree, source, snapshot.language)] == ["os"]


# --- parse limits and binary documents (issue 14) -------------------------------------------


def test_a_document_over_the_line_limit_has_no_tree_but_completions() -> None:
    document = Document("file:///w/a.py", "python", 1, "x = 1\n" * 30, 10**6,
                        max_parse_lines=20)
    snapshot = document.snapshot()
    assert snapshot.tree is None and snapshot.problem is None
    assert snapshot.no_tree is not None and "maxParseLines (20)" in snapshot.no_tree


def test_a_document_over_the_parse_byte_limit_has_no_tree() -> None:
    snapshot = Document("file:///w/a.py", "python", 1, "x = 1\n" * 30, 10**6,
                        max_parse_bytes=100).snapshot()
    assert snapshot.tree is None and snapshot.problem is None
    assert "maxParseBytes (100)" in (snapshot.no_tree or "")


def test_edits_across_the_parse_limit_drop_and_restore_the_tree() -> None:
    document = Document("file:///w/a.py", "python", 1, "x = 1\n", 10**6, max_parse_lines=5)
    document.apply_change(Position(1, 0), Position(1, 0), "y = 2\n" * 5, UTF16, 2)
    assert document.snapshot().tree is None and document.snapshot().no_tree
    document.apply_change(Position(1, 0), Position(6, 0), "", UTF16, 3)
    snapshot = document.snapshot()
    assert snapshot.no_tree is None and snapshot.tree is not None
    assert str(snapshot.tree.root_node) == str(_fresh_tree(document, "x = 1\n").root_node)


@pytest.mark.parametrize(("text", "binary"), [
    ("x = 1\n" * 100, False),
    ("\x00" * 10, True),
    (bytes(range(1, 32)).decode() * 50, True),
    ("\ufffd" * 30 + "text" * 20, True),
    ("naïve = 'é'\n\tif x:\x1b[0m\n" * 50, False),
    ("", False),
])
def test_binary_documents_are_told_apart_from_text(text: str, binary: bool) -> None:
    assert looks_binary(text) is binary
    snapshot = _open(text).snapshot()
    assert (snapshot.problem is not None) is binary
    assert snapshot.tree is None if binary else snapshot.tree is not None


# --- halted and resumed reparses (issue 14) -------------------------------------------------


class _Steps:
    """A clock that moves one second per reading: a budget of n seconds is n parse steps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def _point(source: bytes, byte: int) -> tuple[int, int]:
    return source.count(b"\n", 0, byte), byte - (source.rfind(b"\n", 0, byte) + 1)


def _replay(text: bytes, edits: list[tuple[int, int, bytes]], budgets: list[int]
            ) -> tuple[bytes, Tree, Tree]:
    """Apply ``edits`` to two parsers: one reparses under budgets of a few parse steps (halting
    and resuming), the other in one run; every other edit is parsed before the next."""
    spec = spec_for("python")
    assert spec is not None
    halted, one_run = IncrementalParser(spec, clock=_Steps()), IncrementalParser(spec)
    halted.parse_full(text)
    one_run.parse_full(text)

    def finish() -> None:
        step = 0
        while not halted.reparse(text, budgets[step % len(budgets)]):
            step += 1
        one_run.reparse(text)

    for index, (start, end, inserted) in enumerate(edits):
        start = min(start, len(text))
        end = min(max(start, end), len(text))
        new = text[:start] + inserted + text[end:]
        edit = TextEdit(start, end, start + len(inserted), _point(text, start),
                        _point(text, end), _point(new, start + len(inserted)))
        text = new
        halted.edit(edit)
        one_run.edit(edit)
        if index % 2:
            finish()
    finish()
    assert halted.tree is not None and one_run.tree is not None
    return text, halted.tree, one_run.tree


_PIECES = [b"def f(x):\n    return x\n", b"class A:\n    def m(self):\n        pass\n", b"\n",
           b"    ", b"(", b")", b"x = [1,\n 2]\n", b"'''doc\n'''", b"#c\n", b"if x:\n", b":",
           b'"', b"lambda: 1", b"    y = 2\n", "é".encode()]
_CHUNKS = st.lists(st.sampled_from(_PIECES), max_size=4).map(b"".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=30).map(b"".join),
       st.lists(st.tuples(st.integers(0, 400), st.integers(0, 10), _CHUNKS), min_size=1,
                max_size=5),
       st.lists(st.integers(1, 6), min_size=1, max_size=3))
@example(  # found by a random search: error recovery ended differently after halts
    b"'''doc\n'''def f(x):\n    return x\n#c\nif x:\nclass A:\n    def m(self):\n        pass\n"
    b"\n    y = 2\n:def f(x):\n    return x\n    (class A:\n    def m(self):\n        pass\n"
    b":)\n)    def f(x):\n    return x\n",
    [(168, 6, b""), (29, 6, b"#c\n    y = 2\n"), (132, 1, b""),
     (135, 9, b"'''doc\n'''\"")], [1, 3, 2])
def test_a_halted_and_resumed_reparse_equals_one_run(
        text: bytes, edits: list[tuple[int, int, bytes]], budgets: list[int]) -> None:
    edits = [(start, start + length, inserted) for start, length, inserted in edits]
    final, halted, one_run = _replay(text, edits, budgets)
    assert _dump(halted.root_node) == _dump(one_run.root_node)
    if not one_run.root_node.has_error:  # error recovery may reuse old nodes differently
        fresh = Parser(one_run.language).parse(final)
        assert _dump(halted.root_node) == _dump(fresh.root_node)
