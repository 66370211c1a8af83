"""The call open at the cursor and what its callee accepts (real files, tree-sitter outlines)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_assembly import CURSOR, Workspace, _cursor

from llama_lsp.context.callee import (
    Call,
    Parameters,
    call_at_cursor,
    python_parameters,
)
from llama_lsp.context.syntax.languages import LANGUAGES
from llama_lsp.context.syntax.outline import compile_query


@pytest.mark.parametrize(("language", "line_before", "call"), [
    ("python", "    return lib.scale(a, ", Call("scale", "a, ", plain=False)),
    ("python", "    return scale(", Call("scale", "", plain=True)),
    ("python", "x = outer(a, [b, ", Call("outer", "a, [b, ", plain=True)),
    ("python", "x = outer(inner(a), ", Call("outer", "inner(a), ", plain=True)),
    ("python", 'x = outer("a)", inner(', Call("inner", "", plain=True)),
    ("python", "x = outer(a, 'it''s", Call("outer", "a, 'it''s", plain=True)),
    ("python", "if ready(a, # pending", Call("ready", "a, # pending", plain=True)),
    ("python", "x = (", None),
    ("python", "x = f(a)", None),
    ("python", "def scale(points, ", None),
    ("python", "    async def scale(", None),
    ("python", "class Pool(Base, ", None),
    ("javascript", "  const x = this.scale(a, ", Call("scale", "a, ", plain=False)),
    ("javascript", "function scale(points, ", None),
    ("typescript", "  if (valid(x: ", Call("valid", "x: ", plain=True)),
    ("go", "	fmt.Println(a, ", Call("Println", "a, ", plain=False)),
    ("go", "func scale(points int, ", None),
    ("rust", "    let a = shapes::area(2, ", Call("area", "2, ", plain=True)),
    ("rust", '    println!("{}", area(2, ', Call("area", "2, ", plain=True)),
    ("rust", "    fn area(self, ", None),
    ("java", "    list.add(new Item(", Call("Item", "", plain=True)),
    ("java", "    public int scale(int a, ", None),
    ("c", "    if (g(x) && f(a, ", Call("f", "a, ", plain=True)),
    ("cpp", "    w.draw(a, ", Call("draw", "a, ", plain=False)),
    ("lua", "f(a, ", None),  # no grammar: no call is known
])
def test_call_at_cursor(language: str, line_before: str, call: Call | None) -> None:
    assert call_at_cursor(line_before, language) == call


@pytest.mark.parametrize(("signature", "bound_first", "parameters"), [
    ("def f(a, b: int = 1, *args, c, d=2, **kw):", False,
     Parameters(("a", "b"), frozenset("abcd"), True, True)),
    ('def f(a=")", b=1):', False, Parameters(("a", "b"), frozenset("ab"), False, False)),
    ("def f(key=lambda a, b: a, c=1):", False,
     Parameters(("key", "c"), frozenset({"key", "c"}), False, False)),
    ("def __init__(*args, **kwargs):", True, Parameters((), frozenset(), True, True)),
    ("def g(a, /, b, *, c):", False, Parameters(("a", "b"), frozenset("bc"), False, False)),
    ('def __init__(self, x, y: str = "a, b") -> None:', True,
     Parameters(("x", "y"), frozenset("xy"), False, False)),
    ("async def h() -> dict[str, int]:", False, Parameters((), frozenset(), False, False)),
    ("class K:", False, None),
])
def test_python_parameters(signature: str, bound_first: bool,
                           parameters: Parameters | None) -> None:
    assert python_parameters(signature, bound_first) == parameters


LIB = '''\
from dataclasses import dataclass


def scale(points, factor):
    return points


class Pool:
    def __init__(self, size, *, name="pool"):
        self.size = size


@dataclass
class Box:
    width: int


class Error(RuntimeError):
    pass
'''


@pytest.mark.parametrize(("line", "parameters"), [
    ("x = scale(", Parameters(("points", "factor"), frozenset({"points", "factor"}),
                              False, False)),
    ("x = Pool(", Parameters(("size",), frozenset({"size", "name"}), False, False)),
    ("x = Box(", None),        # a dataclass: its __init__ is generated
    ("x = Error(", None),      # inherits its __init__
    ("x = lib.scale(", None),  # an attribute: which object's method is not certain
    ("x = missing(", None),
    ("x = local(", Parameters(("only",), frozenset({"only"}), False, False)),
    ("x = twice(", Parameters(("a", "b"), frozenset("ab"), False, False)),  # the imported one
    ("x = run(", None),        # imported from subprocess, not from the sibling defining it
    ("x = traced(", None),     # decorated: the decorator may change the signature
    ("def scale(points, ", None),  # a definition, not a call
    ("x = 1", None),
])
def test_callee_parameters_only_when_the_definition_is_certain(
        tmp_path: Path, line: str, parameters: Parameters | None) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.write("pkg/__init__.py", "")
    ws.write("pkg/lib.py", LIB + "\n\ndef twice(a):\n    return a\n")
    ws.write("pkg/other.py", "def twice(a, b):\n    return a\n")
    ws.write("pkg/jobs.py", "def run(job):\n    return job\n")
    text = (f"from pkg.lib import scale, Pool, Box, Error\nfrom pkg.other import twice\n"
            f"from pkg.jobs import *\nfrom subprocess import run\n\n\n"
            f"def local(only):\n"
            f"    return only\n\n\n@trace\ndef traced(a):\n    return a\n\n\n{line}{CURSOR}\n")
    snapshot = ws.open("pkg/main.py", text)
    _, offset = _cursor(text)
    line_before = text[:offset].rsplit("\n", 1)[1]
    assert ws.context().callee_parameters(snapshot, line_before) == parameters


def test_the_callee_is_read_from_the_current_text(tmp_path: Path) -> None:
    """A signature changed a moment ago, here or in another open (unsaved) file, counts."""
    ws = Workspace(tmp_path / "ws")
    ws.write("pkg/__init__.py", "")
    ws.write("pkg/lib.py", "def scale(points, factor):\n    return points\n")
    text = "from pkg.lib import scale\n\n\ndef f(a):\n    return a\n\n\nx = f(1, "
    ws.open("pkg/main.py", text)
    edited = text.replace("def f(a):", "def f(a, b):")
    snapshot = ws.open("pkg/main.py", edited, version=2)
    assert ws.context().callee_parameters(snapshot, "x = f(1, ") == \
        Parameters(("a", "b"), frozenset("ab"), False, False)
    ws.open("pkg/lib.py", "def scale(points, factor, offset):\n    return points\n")
    assert ws.context().callee_parameters(snapshot, "x = scale(") == \
        Parameters(("points", "factor", "offset"), frozenset({"points", "factor", "offset"}),
                   False, False)


def test_a_name_defined_here_and_imported_is_not_certain(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.write("pkg/__init__.py", "")
    ws.write("pkg/lib.py", "def scale(points):\n    return points\n")
    text = "from pkg.lib import scale\n\n\ndef scale(a, b):\n    return a\n\n\nx = scale("
    snapshot = ws.open("pkg/main.py", text)
    assert ws.context().callee_parameters(snapshot, "x = scale(") is None


def test_calls_queries_capture_only_calls() -> None:
    for spec in LANGUAGES:
        query = compile_query(spec, "calls")
        assert all(name.startswith("call.") for name in
                   (query.capture_name(i) for i in range(query.capture_count))), spec.language_id


def test_only_top_level_definitions_are_callees(tmp_path: Path) -> None:
    """A function nested in another, or defined in an ``if``/``try``, is not certain."""
    ws = Workspace(tmp_path / "ws")
    text = ("def helper():\n    def scale(a):\n        return a\n    return scale\n\n\n"
            "try:\n    from fast import shift\nexcept ImportError:\n    def shift(a, b):\n"
            "        return a\n\n\ndef move(a, b):\n    return scale(a) + shift(a, b)\n\n\n")
    snapshot = ws.open("main.py", text + "x = scale(")
    assert ws.context().callee_parameters(snapshot, "x = scale(") is None
    snapshot = ws.open("main.py", text + "x = shift(", version=2)
    assert ws.context().callee_parameters(snapshot, "x = shift(") is None
    snapshot = ws.open("main.py", text + "x = move(", version=3)
    assert ws.context().callee_parameters(snapshot, "x = move(") == \
        Parameters(("a", "b"), frozenset("ab"), False, False)
