"""Docstring quality with the real embedded demo model (Gemma 3 270M)."""

from __future__ import annotations

import ast

import pytest

from llama_lsp.config.settings import Settings
from llama_lsp.context.documents import Document
from llama_lsp.features.actions import service
from llama_lsp.model.host import load_backend

pytestmark = pytest.mark.demo_model

SOURCE = '''import math


class Geometry:
    @staticmethod
    def distance(x1: float, y1: float, x2: float, y2: float) -> float:
        if x1 is None:
            raise ValueError("x1")
        return math.hypot(x2 - x1, y2 - y1)
'''


def test_generated_python_docstring_parses_sits_in_the_body_and_names_every_parameter() -> None:
    backend = load_backend(Settings())  # no model configured: the demo package
    try:
        snapshot = Document("file:///t/geometry.py", "python", 1, SOURCE, 10**6).snapshot()
        request = service.Request(service.ActionKind.DOCSTRING, SOURCE.index("distance"))
        edit = service.compute(snapshot, request, backend, lambda: False)
    finally:
        backend.close()
    text = edit.apply(SOURCE)
    module = ast.parse(text)
    method = module.body[1].body[0]  # type: ignore[attr-defined]
    assert isinstance(method, ast.FunctionDef) and method.name == "distance"
    docstring = ast.get_docstring(method)
    assert docstring is not None
    assert text.split("\n")[6].startswith('        """')  # first statement, body indentation
    summary = docstring.split("\n")[0]
    assert len(summary) > 8 and summary.endswith(".")
    for name in ("x1", "y1", "x2", "y2"):
        assert f"\n    {name}: " in docstring
    assert "\nReturns:\n" in docstring and "\nRaises:\n    ValueError: " in docstring
    assert text.replace(edit.new_text, "") == SOURCE  # nothing else changed
