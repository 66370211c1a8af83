"""``server/`` only translates LSP: no sleeping, polling or retry loops, and no decisions made
by matching an error's text (read from the syntax tree of every module in it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parents[1] / "llama_lsp" / "server"
_TEXT_METHODS = frozenset({"startswith", "endswith", "find", "rfind", "index", "rindex", "count",
                           "lower", "casefold", "split", "__contains__"})


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _exits(statements: list[ast.stmt]) -> bool:
    """True when the statements leave the loop around them (return, raise or break)."""
    return any(isinstance(n, (ast.Return, ast.Raise, ast.Break))
               for s in statements for n in ast.walk(s))


def _repeats(loop: ast.While | ast.For | ast.AsyncFor) -> bool:
    """A loop that repeats one thing (``while``, ``for attempt in range(...)``), rather than
    going through items."""
    if isinstance(loop, ast.While):
        return True
    source = loop.iter
    return isinstance(source, ast.Call) and getattr(source.func, "id", "") == "range" \
        or isinstance(source, ast.Call) and getattr(source.func, "attr", "") == "count"


def _retries(loop: ast.While | ast.For | ast.AsyncFor) -> bool:
    """A loop that tries something, leaves on success and goes round again on failure."""
    if not _repeats(loop):
        return False
    for node in ast.walk(loop):
        if isinstance(node, ast.Try) and node is not loop and _exits(node.body) \
                and any(not _exits(handler.body) for handler in node.handlers):
            return True
    return False


def findings(source: str) -> list[str]:
    """Waiting, polling, retries and error-text matching in ``source``, one line each."""
    tree = ast.parse(source)
    caught = {h.name for h in ast.walk(tree) if isinstance(h, ast.ExceptHandler) and h.name}
    found = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "sleep":
                found.append(f"{line}: sleeps")
            if isinstance(func, ast.Attribute) and func.attr in _TEXT_METHODS \
                    and _names(func.value) & caught:
                found.append(f"{line}: reads an error's text ({func.attr})")
            if isinstance(func, ast.Attribute) and _names(func.value) == {"re"} \
                    and any(_names(arg) & caught for arg in node.args):
                found.append(f"{line}: matches an error's text with a regular expression")
        elif isinstance(node, ast.Compare) and any(
                isinstance(op, (ast.In, ast.NotIn, ast.Eq, ast.NotEq)) for op in node.ops) \
                and _names(node) & caught:
            found.append(f"{line}: compares an error's text")
        elif isinstance(node, (ast.While, ast.For, ast.AsyncFor)):
            if _retries(node):
                found.append(f"{line}: a retry loop")
            if isinstance(node, ast.While) and any(
                    isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                    and n.func.attr in ("wait", "wait_for") for n in ast.walk(node)):
                found.append(f"{line}: a polling loop")
    return found


@pytest.mark.parametrize("path", sorted(SERVER.glob("*.py")), ids=lambda p: p.name)
def test_the_protocol_layer_does_not_wait_poll_retry_or_read_error_text(path: Path) -> None:
    assert findings(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(("source", "finding"), [
    # What server/actions.py held before the orchestration moved to features/actions/runner.py.
    ("async def f(host):\n    while host.loading and time.monotonic() < deadline:\n"
     "        await asyncio.sleep(0.05)\n", "sleeps"),
    ("def f():\n    try:\n        g()\n    except E as error:\n"
     "        if 'no model' in str(error):\n            raise\n", "compares an error's text"),
    ("def f():\n    try:\n        g()\n    except E as error:\n"
     "        return str(error).startswith('no')\n", "reads an error's text"),
    ("def f():\n    try:\n        g()\n    except E as e:\n        return re.search('x', str(e))\n",
     "regular expression"),
    ("def f():\n    for attempt in range(3):\n        try:\n            return g()\n"
     "        except E:\n            pass\n", "a retry loop"),
    ("def f():\n    while True:\n        try:\n            return g()\n"
     "        except E:\n            log()\n", "a retry loop"),
    ("def f(event):\n    while not done():\n        event.wait(0.1)\n", "a polling loop"),
])
def test_the_check_finds_each_construct(source: str, finding: str) -> None:
    assert any(finding in line for line in findings(source))


def test_the_check_leaves_translation_alone() -> None:
    source = ("def f(items):\n    for item in items:\n        try:\n            return use(item)\n"
              "        except E as error:\n            show(f'{item}: {error}')\n"
              "            if isinstance(error, F):\n                return str(error)\n")
    assert findings(source) == []
