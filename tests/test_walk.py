"""Position lookups in syntax trees: safe at any position (issue 14's SIGSEGV), as properties."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tree_sitter import Node, Parser, Tree

from llama_lsp.context.documents import Document
from llama_lsp.context.syntax import walk
from llama_lsp.context.syntax.boundaries import starts_at_boundary
from llama_lsp.context.syntax.languages import load_language, spec_for
from llama_lsp.features.actions import service

PACKAGE = Path(__file__).resolve().parents[1] / "llama_lsp"

# Pieces that make sources with definitions, blank lines, comments and broken code.
PIECES = {
    "python": ["def f(x):\n    return x\n", "\n", "\n\n", "class C:\n    def m(self):\n",
               "        pass\n", "# note\n", "x = 1\n", "@d\n", "    ", "(", "'''doc'''\n",
               "é", "\t", "\r\n"],
    "javascript": ["function f(a) {\n  return a;\n}\n", "\n", "\n\n", "// c\n",
                   "const x = 1;\n", "class A { m() {} }\n", "{", "/** doc */\n", "é"],
    "rust": ["fn f(a: i32) -> i32 {\n    a\n}\n", "\n", "/// doc\n", "struct S;\n", "{",
             "impl S {\n", "}\n"],
    # Comments after blank lines: TreeCursor.goto_first_child_for_byte misses them from a gap.
    "go": ["package a\n", "\n", "\n\n", "// c\n", "const x = 1\n", "type T int\n",
           "func f() {}\n", "{"],
}

UNSAFE_CALLS = re.compile(r"(?<!\bwalk)\.(first_child_for_byte|first_named_child_for_byte|"
                          r"descendant_for_byte_range|named_descendant_for_byte_range|"
                          r"descendant_for_point_range|named_descendant_for_point_range)\(")

POSITIONS = st.one_of(st.integers(-5, 400), st.integers(-(2**40), 2**40))


@st.composite
def sources(draw: st.DrawFn) -> tuple[str, str]:
    language = draw(st.sampled_from(sorted(PIECES)))
    text = "".join(draw(st.lists(st.sampled_from(PIECES[language]), max_size=12)))
    return language, text


def parse(language: str, text: str) -> Tree:
    spec = spec_for(language)
    assert spec is not None
    return Parser(load_language(spec)).parse(text.encode("utf-8"))


def _children(node: Node) -> list[Node]:
    return list(node.children)


def test_the_reported_crash_position_has_no_child() -> None:
    tree = parse("python", "def f(x):\n    return x\n\n\n")
    for byte in range(-2, tree.root_node.end_byte + 3):
        child = walk.first_child_for_byte(tree.root_node, byte)
        assert (child is None) == (byte >= 22)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(sources(), POSITIONS)
def test_first_child_for_byte_is_the_first_child_ending_after_it(
        source: tuple[str, str], byte: int) -> None:
    tree = parse(*source)
    for node in (tree.root_node, *_children(tree.root_node)):
        expected = next((c for c in _children(node) if c.end_byte > max(byte, 0)), None)
        found = walk.first_child_for_byte(node, byte)
        assert (found is None) == (expected is None)
        if found is not None and expected is not None:
            assert (found.start_byte, found.end_byte, found.type) == (
                expected.start_byte, expected.end_byte, expected.type)


def test_a_gap_before_a_comment_finds_the_comment() -> None:
    tree = parse("go", "package a\n\n\n// c\nconst x = 1\n")
    child = walk.first_child_for_byte(tree.root_node, 10)
    assert child is not None and child.type == "comment"
    assert [c.type for c in walk.children_overlapping(tree.root_node, 10, 20)] == [
        "comment", "const_declaration"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(sources(), POSITIONS, st.integers(0, 80))
def test_children_overlapping_are_those_that_overlap(source: tuple[str, str], start: int,
                                                     length: int) -> None:
    root = parse(*source).root_node
    expected = [(c.start_byte, c.end_byte) for c in _children(root)
                if c.end_byte > max(start, 0) and c.start_byte <= start + length]
    found = walk.children_overlapping(root, start, start + length)
    assert [(c.start_byte, c.end_byte) for c in found] == expected


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(sources(), POSITIONS, st.integers(0, 50))
def test_descendant_for_byte_range_spans_the_range_or_is_the_root(
        source: tuple[str, str], start: int, length: int) -> None:
    root = parse(*source).root_node
    node = walk.descendant_for_byte_range(root, start, start + length)
    assert node == root or node.start_byte <= start and start + length <= node.end_byte


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(sources(), POSITIONS, POSITIONS)
def test_named_descendant_for_point_contains_the_point_or_is_the_root(
        source: tuple[str, str], line: int, column: int) -> None:
    tree = parse(*source)
    node = walk.named_descendant_for_point(tree.root_node, line, column)
    assert node == tree.root_node or (
        tuple(node.start_point) <= (line, column) <= tuple(node.end_point))
    starts_at_boundary(tree, line, column)  # any position: an answer, not a crash


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(sources(), st.data())
def test_code_action_offers_anywhere_in_any_source(source: tuple[str, str],
                                                   data: st.DataObject) -> None:
    language, text = source
    extension = {"python": "py", "javascript": "js", "rust": "rs", "go": "go"}[language]
    snapshot = Document(f"file:///t.{extension}", language, 1, text, 10**7).snapshot()
    size = len(snapshot.source)
    start = data.draw(st.integers(0, size + 3))
    end = data.draw(st.integers(start, size + 5))
    problem = service.Problem(data.draw(st.integers(0, size + 3)),
                              data.draw(st.integers(0, size + 5)), "boom")
    service.offers(snapshot, start, end, [problem])


def test_position_lookups_go_through_the_safe_walks() -> None:
    offenders = [f"{path.relative_to(PACKAGE)}:{number}"
                 for path in PACKAGE.rglob("*.py") if path.name != "walk.py"
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if UNSAFE_CALLS.search(line)]
    assert offenders == []


def test_every_byte_of_every_golden_outline_case() -> None:
    """Node.first_child_for_byte crashed from a gap between two Go const declarations."""
    from test_outline import CASES
    from test_outline import parse as parse_case

    for case in CASES:
        tree, data, _ = parse_case(case.language, case.source)
        children = _children(tree.root_node)
        for byte in range(-1, len(data) + 2):
            expected = next((c for c in children if c.end_byte > max(byte, 0)), None)
            found = walk.first_child_for_byte(tree.root_node, byte)
            assert (found and found.start_byte) == (expected and expected.start_byte), (
                case.language, byte)
