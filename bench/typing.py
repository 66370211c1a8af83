"""Perceived latency while typing, through the real server over stdio, with and without cache.

Replays a typing session over a real file with the demo model: the user types part of
`bench/data/task_queue.py` at 60 ms a key, and like an editor the client asks for ghost text
after every change without waiting for earlier answers. Ghost text that arrives before the
next key and matches what the user is about to type is accepted (every third request) or
typed through; every 60 characters the user deletes 5 and retypes them; they pause 0.7 s at
the end of each line. Reported, for one run with everything on and one with the cache,
typed-through reuse and speculation off, and one with the debounce off as well:

- how often the ghost text came without a model call (cache, typed-through, speculative);
- p50/p95 time-to-ghost-text for those hits, for misses, and overall;
- model calls per 100 keystrokes: every generation the server started, foreground or
  speculative, finished or cancelled part-way.

    python bench/typing.py [--model M.gguf] [--characters 400]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

SAMPLE = Path(__file__).parent / "data" / "task_queue.py"
TYPED_FROM = "    def _work(self) -> None:"
KEY_INTERVAL = 0.06
PAUSE = 0.7
RETYPE_EVERY = 60


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (nan for no values)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


class Session:
    """One server process, one document, and the typing loop."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        self.client = LanguageClient("typing-bench", "1")
        self.status: list[dict[str, Any]] = []
        self.version = 1
        self.text = ""
        self.uri = SAMPLE.resolve().as_uri()

        @self.client.feature("$/llama-lsp/status")
        def status(params: Any) -> None:  # noqa: ANN401
            self.status.append(params if isinstance(params, dict) else params._asdict())

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def log(params: types.LogMessageParams) -> None:
            self.log = params.message

        self.log = ""

    async def start(self, text: str) -> None:
        await self.client.start_io(sys.executable, "-m", "llama_lsp", "serve")
        await self.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), initialization_options=self.options))
        self.client.initialized(types.InitializedParams())
        while "ready" not in self.log:
            await asyncio.sleep(0.05)
        self.text = text
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=self.uri, language_id="python", version=1,
                                                 text=text)))

    def _position(self, offset: int) -> types.Position:
        line = self.text.count("\n", 0, offset)
        return types.Position(line, offset - (self.text.rfind("\n", 0, offset) + 1))

    def edit(self, start: int, end: int, new: str) -> None:
        position_start, position_end = self._position(start), self._position(end)
        self.text = self.text[:start] + new + self.text[end:]
        self.version += 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=self.uri,
                                                                version=self.version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=position_start, end=position_end), text=new)]))

    async def ghost_text(self, offset: int) -> tuple[str, float, str]:
        started = time.perf_counter()
        before = len(self.status)
        try:
            result = await self.client.text_document_inline_completion_async(
                types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=self.uri),
                    position=self._position(offset),
                    context=types.InlineCompletionContext(
                        trigger_kind=types.InlineCompletionTriggerKind.Automatic)))
        except Exception:  # noqa: BLE001 - cancelled (superseded) requests
            return "", (time.perf_counter() - started) * 1000, "cancelled"
        elapsed = (time.perf_counter() - started) * 1000
        source = self.status[-1]["source"] if len(self.status) > before else "none"
        items = result.items if isinstance(result, types.InlineCompletionList) else result or []
        return (items[0].insert_text if items else ""), elapsed, str(source)

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()


async def replay(options: dict[str, Any], characters: int, trace: bool) -> dict[str, Any]:
    """Type ``characters`` of the sample like an editor would: one request per change, not
    waiting for answers; the user only uses ghost text that arrived before the next key."""
    full = SAMPLE.read_text()
    start = full.index(TYPED_FROM)
    target = full[start:start + characters]
    session = Session(options)
    await session.start(full[:start] + full[start + characters:])
    cursor, typed, keystrokes, accepted, retyped = start, 0, 0, 0, 0
    next_retype = RETYPE_EVERY
    requests: list[asyncio.Task[tuple[str, float, str]]] = []
    while typed < len(target):
        request = asyncio.ensure_future(session.ghost_text(cursor))
        requests.append(request)
        char = target[typed]
        wait = PAUSE if typed and target[typed - 1] == "\n" else KEY_INTERVAL
        done, _ = await asyncio.wait([request], timeout=wait)
        ghost = request.result()[0] if done else ""
        if trace and done:
            _, elapsed, source = request.result()
            print(f"{typed:4d} {source:>13} {elapsed:8.1f} ms {ghost[:30]!r}", file=sys.stderr)
        remaining = target[typed:]
        if ghost and remaining.startswith(ghost) and len(requests) % 3 == 0:
            session.edit(cursor, cursor, ghost)  # accept the whole suggestion with Tab
            cursor, typed, accepted = cursor + len(ghost), typed + len(ghost), accepted + 1
        else:
            session.edit(cursor, cursor, char)
            cursor, typed = cursor + 1, typed + 1
            if typed >= next_retype:  # delete the last 5 characters; they are typed again
                session.edit(cursor - 5, cursor, "")
                cursor, typed, retyped = cursor - 5, typed - 5, retyped + 1
                next_retype += RETYPE_EVERY
                keystrokes += 1
        keystrokes += 1
    records = [(elapsed, source) for _, elapsed, source in await asyncio.gather(*requests)]
    await asyncio.sleep(1.0)  # let the last speculation finish before reading the counter
    await session.ghost_text(cursor)
    last = session.status[-1] if session.status else {}
    await session.stop()
    return {"records": records, "keystrokes": keystrokes, "accepted": accepted,
            "retyped": retyped, "speculations": last.get("speculations", 0),
            "model_calls": last.get("modelCalls", 0)}


def report(name: str, run: dict[str, Any]) -> None:
    records = run["records"]
    answered = [(ms, src) for ms, src in records if src != "cancelled"]
    hits = [ms for ms, src in answered if src not in ("model", "none")]
    misses = [ms for ms, src in answered if src == "model"]
    calls = run["model_calls"]
    print(f"== {name}: {len(records)} requests, {run['keystrokes']} keystrokes "
          f"({run['accepted']} accepts, {run['retyped']} delete-and-retype), "
          f"{len(records) - len(answered)} superseded")
    sources = {src: sum(1 for _, s in answered if s == src) for src in {s for _, s in answered}}
    print(f"   sources: {sources}")
    print(f"   served without a model call: {len(hits)}/{len(answered)} "
          f"= {len(hits) / max(1, len(answered)):.1%}")
    print(f"   time to ghost text: all p50 {percentile([m for m, _ in answered], .5):.1f} ms, "
          f"p95 {percentile([m for m, _ in answered], .95):.1f} ms; hits p50 "
          f"{percentile(hits, .5):.1f} / p95 {percentile(hits, .95):.1f} ms; misses p50 "
          f"{percentile(misses, .5):.1f} / p95 {percentile(misses, .95):.1f} ms")
    print(f"   model calls started (incl. {run['speculations']} finished speculations and calls "
          f"cancelled part-way): {calls}; per 100 keystrokes "
          f"{100 * calls / max(1, run['keystrokes']):.1f}")


async def main_async(args: argparse.Namespace) -> int:
    base: dict[str, Any] = {"model": args.model} if args.model else {}
    if args.threads:
        base["threads"] = args.threads
    with_cache = await replay(base, args.characters, args.trace)
    no_cache = {**base, "completionCache": False, "speculativeCompletion": False}
    without = await replay(no_cache, args.characters, args.trace)
    bare = await replay({**no_cache, "debounceMinMs": 0, "debounceMaxMs": 0}, args.characters,
                        args.trace)
    report("cache, typed-through and speculation on", with_cache)
    report("cache, typed-through and speculation off (debounce on)", without)
    report("no cache and no debounce (every request goes to the model)", bare)
    rate_on = with_cache["model_calls"] / max(1, with_cache["keystrokes"])
    for name, run in (("no cache", without), ("no cache and no debounce", bare)):
        rate = run["model_calls"] / max(1, run["keystrokes"])
        print(f"model calls per keystroke cut {rate / max(rate_on, 1e-9):.2f}x vs {name}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="a .gguf file (default: the demo model)")
    parser.add_argument("--characters", type=int, default=400)
    parser.add_argument("--threads", type=int, help="llama.cpp threads in the server")
    parser.add_argument("--trace", action="store_true", help="print every request on stderr")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
