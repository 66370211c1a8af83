"""The background parser finishes, in slices between messages, reparses a keystroke cut short."""

from __future__ import annotations

import asyncio

import pytest
from tree_sitter import Parser

from llama_lsp.context.background_parse import BackgroundParser
from llama_lsp.context.documents import Document
from llama_lsp.context.positions import Position, PositionEncoding
from llama_lsp.context.syntax.languages import load_language, spec_for

TEXT = "".join(f"def f{n}(x):\n    y = x + {n}\n    return y\n\n\n" for n in range(800))


def _edited_document(uri: str = "file:///w/big.py") -> Document:
    document = Document(uri, "python", 1, TEXT, 10**7)
    document.apply_change(Position(1, 13), Position(1, 13), " * 2", PositionEncoding.UTF16, 2)
    return document


def _fresh(text: str) -> str:
    return str(Parser(load_language(spec_for("python"))).parse(text.encode()).root_node)


async def _until_idle(parses: BackgroundParser) -> None:
    for _ in range(2000):
        if parses.idle:
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the background parser never finished")


async def test_pending_reparse_is_finished_in_slices() -> None:
    document = _edited_document()
    assert not document.snapshot(0.0).tree_current
    parses = BackgroundParser(slice_seconds=0.0005, pause_seconds=0.0)
    parses.schedule(document)
    await _until_idle(parses)
    assert not document.parse_pending
    assert parses.slices >= 1
    assert str(document.snapshot().tree.root_node) == _fresh(document.text)


async def test_requests_run_between_slices() -> None:
    document = _edited_document()
    parses = BackgroundParser(slice_seconds=0.0005, pause_seconds=0.0)
    parses.schedule(document)
    ticks = 0

    async def other_work() -> None:
        nonlocal ticks
        while not parses.idle:
            ticks += 1
            await asyncio.sleep(0)

    await asyncio.gather(other_work(), _until_idle(parses))
    assert ticks >= 1


async def test_forgotten_document_is_left_alone() -> None:
    document = _edited_document()
    other = _edited_document("file:///w/other.py")
    parses = BackgroundParser(slice_seconds=0.0005, pause_seconds=0.0)
    parses.schedule(document)
    parses.schedule(other)
    parses.forget(document.uri)
    await _until_idle(parses)  # every round the forgotten document was in has run
    assert not other.parse_pending
    assert document.parse_pending


def test_without_an_event_loop_the_document_is_parsed_at_once() -> None:
    document = _edited_document()
    BackgroundParser().schedule(document)
    assert not document.parse_pending


async def test_current_document_is_not_scheduled() -> None:
    document = Document("file:///w/small.py", "python", 1, "x = 1\n", 10**6)
    parses = BackgroundParser()
    parses.schedule(document)
    assert parses.idle


async def test_a_failing_parse_is_logged_and_the_others_go_on(
        caplog: pytest.LogCaptureFixture) -> None:
    broken, healthy = _edited_document(), _edited_document()
    healthy.uri = "file:///w/other.py"

    def fail(_budget: float | None = None) -> bool:
        raise ValueError("Parsing failed")

    broken.parse = fail  # type: ignore[method-assign]
    parses = BackgroundParser(slice_seconds=0.0005, pause_seconds=0.0)
    parses.schedule(broken)
    parses.schedule(healthy)
    await _until_idle(parses)
    assert not healthy.parse_pending
    assert "parsing file:///w/big.py failed" in caplog.text
