"""A scripted field session through the real server over stdio, as a user meets it.

The server is started cold (``python -m llama_lsp serve``, default settings: the demo model
and a 250 ms first-request budget) in a temporary workspace with two files: ``task_queue.py``
(``data/task_queue.py``, ~200 lines) and ``big_module.py`` (2,000 lines of this project's own
Python). In each file a stretch of code is cut out before the file is opened; the "user"
types it back, at one key every 60 ms from the first second (while the model loads), with
pauses of 0.5-2 s at word ends, a second file opened after the first stretch, and switches
back and forth between the two files, continuing where they left off in each.

The client behaves like VS Code: when the cursor lands in a newly opened file it asks for
the code actions there; after every change it asks for inline completion at the cursor and
cancels its previous request; a suggestion that comes back for the current
version and cursor is shown; typing its next character keeps the rest shown; during a pause
a shown suggestion that matches the code to type is accepted (Tab); and on
``$/llama-lsp/suggestionReady`` for the current version and cursor it asks again. The first
pause after opening a file or switching back to one lasts until ghost text shows (at most
``--wait`` seconds), so its time is measured, not cut.

Prints: requests and requests without a reply (or with two); time from process start to the
first ghost text; time from opening each file to its first ghost text; time to ghost text
at the first pause after opening the 2,000-line file and after each switch back; the share of
pauses that showed a suggestion within 1 s (within the pause, when shorter), and for the
others whether the server had a suggestion there at all (a completion list asked at the end
of a pause without ghost text, which waits for the whole suggestion); fragments shown
(a suggestion shown at a place where a longer suggestion that starts with it is shown later);
model calls; the server's peak RSS.

    PYTHONPATH=. python bench/session.py [--keys 1100] [--seed 1] [--set warmStart=false]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from settings_arg import add_set_option, parse_set_options  # noqa: E402
from stdio_client import Reply, StdioClient  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
KEY_SECONDS = 0.060
PAUSE_AFTER = " .(,:\n"
PAUSE_CHANCE = 0.3
BIG_LINES = 2000


def big_module() -> str:
    """2,000 lines of this project's Python, concatenated module after module."""
    lines: list[str] = []
    for path in sorted((ROOT / "llama_lsp").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if text.isascii():
            lines += text.splitlines()
        if len(lines) >= BIG_LINES:
            break
    return "\n".join(lines[:BIG_LINES]) + "\n"


def position(text: str, offset: int) -> dict[str, int]:
    """LSP position (UTF-16) of code-point ``offset``."""
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return {"line": line, "character": len(text[start:offset].encode("utf-16-le")) // 2}


@dataclass
class File:
    """A document in the editor and the stretch of code the user types back into it."""

    uri: str
    text: str
    cursor: int
    to_type: str
    version: int = 0
    opened_at: float | None = None
    first_ghost: float | None = None


@dataclass
class Pause:
    file: str
    started: float
    length: float
    measured: str = ""
    """'open' or 'switch' for the first pause after opening or switching back to a file."""
    ghost_at: float | None = None
    probe: asyncio.Future[Reply] | None = None
    """For a pause without ghost text: a completion list at its place (waits for the whole
    suggestion), to tell a late suggestion from none at all."""


@dataclass
class Editor:
    client: StdioClient
    files: dict[str, File]
    current: File
    ghost: tuple[str, int, int, str] | None = None
    """(uri, version, cursor, text) of the suggestion on screen."""
    ghost_event: asyncio.Event = field(default_factory=asyncio.Event)
    outstanding: int | None = None
    first_ghost: float | None = None
    shown: list[tuple[str, int, int, str]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    pauses: list[Pause] = field(default_factory=list)
    accepted: int = 0
    reasks: int = 0
    keys: int = 0

    def open(self, file: File) -> None:
        file.opened_at = time.monotonic()
        self.client.notify("textDocument/didOpen", {"textDocument": {
            "uri": file.uri, "languageId": "python", "version": file.version,
            "text": file.text}})
        self.current = file
        self.ghost = None

    def place_cursor(self) -> None:
        """What VS Code sends when the cursor lands somewhere: the code actions there."""
        file = self.current
        at = position(file.text, file.cursor)
        self.client.request("textDocument/codeAction", {
            "textDocument": {"uri": file.uri}, "range": {"start": at, "end": at},
            "context": {"diagnostics": []}})

    def switch(self, file: File) -> None:
        self.current = file
        self.ghost = None

    def ask(self) -> None:
        """Inline completion at the cursor (cancelling the previous request)."""
        file = self.current
        if self.outstanding is not None:
            self.client.cancel(self.outstanding)
        place = (file.uri, file.version, file.cursor)
        number, reply = self.client.request("textDocument/inlineCompletion", {
            "textDocument": {"uri": file.uri},
            "position": position(file.text, file.cursor),
            "context": {"triggerKind": 2}})
        self.outstanding = number
        reply.add_done_callback(lambda done: self._answered(number, place, done.result()))

    def _answered(self, number: int, place: tuple[str, int, int], reply: Reply) -> None:
        if self.outstanding == number:
            self.outstanding = None
        file = self.current
        items = (reply.result or {}).get("items", []) if reply.error is None else []
        if not items or place != (file.uri, file.version, file.cursor):
            return
        text = items[0]["insertText"]
        if not text:
            return
        self.ghost = (*place, text)
        self.shown.append(self.ghost)
        if self.first_ghost is None:
            self.first_ghost = reply.at
        if file.first_ghost is None:
            file.first_ghost = reply.at
        self.ghost_event.set()

    def suggestion_ready(self, params: dict[str, Any]) -> None:
        file = self.current
        if (params.get("uri"), params.get("version"), params.get("position")) == (
                file.uri, file.version, position(file.text, file.cursor)):
            self.reasks += 1
            self.ask()

    def edit(self, text: str) -> None:
        """Insert ``text`` at the cursor and ask for a completion there."""
        file = self.current
        at = position(file.text, file.cursor)
        file.text = file.text[:file.cursor] + text + file.text[file.cursor:]
        file.cursor += len(text)
        file.version += 1
        self.client.notify("textDocument/didChange", {
            "textDocument": {"uri": file.uri, "version": file.version},
            "contentChanges": [{"range": {"start": at, "end": at}, "text": text}]})
        if self.ghost is not None and len(text) == 1 and self.ghost[3].startswith(text) and \
                len(self.ghost[3]) > 1:
            self.ghost = (file.uri, file.version, file.cursor, self.ghost[3][1:])
        else:
            self.ghost = None
        self.ask()

    def ghost_now(self) -> bool:
        file = self.current
        return self.ghost is not None and self.ghost[:3] == (file.uri, file.version, file.cursor)

    async def pause(self, length: float, measured: str = "", wait: float = 0.0) -> None:
        """Stop typing for ``length`` s (a measured pause: until ghost text shows, at most
        ``wait`` s); accept the suggestion shown at the end if it is the code to type."""
        pause = Pause(self.current.uri, time.monotonic(), length, measured)
        self.pauses.append(pause)
        deadline = pause.started + (max(length, wait) if measured else length)
        while True:
            if self.ghost_now():
                pause.ghost_at = pause.ghost_at or time.monotonic()
                if not measured or time.monotonic() >= pause.started + length:
                    break
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.ghost_event.clear()
            try:
                await asyncio.wait_for(self.ghost_event.wait(), left)
            except asyncio.TimeoutError:
                pass
        if measured:  # the rest of an ordinary pause after the ghost text came
            await asyncio.sleep(max(0.0, pause.started + length - time.monotonic()))
        file = self.current
        if pause.ghost_at is None:
            _, pause.probe = self.client.request("textDocument/completion", {
                "textDocument": {"uri": file.uri},
                "position": position(file.text, file.cursor)})
        if self.ghost_now() and file.to_type.startswith(self.ghost[3]):  # type: ignore[index]
            text = self.ghost[3]  # type: ignore[index]
            file.to_type = file.to_type[len(text):]
            self.accepted += 1
            self.edit(text)

    async def type(self, count: int, rng: random.Random, first_measured: str,
                   wait: float) -> None:
        """Type the next ``count`` characters of the current file's stretch."""
        file = self.current
        measured = first_measured
        typed = 0
        while typed < count and file.to_type:
            char, file.to_type = file.to_type[0], file.to_type[1:]
            self.edit(char)
            self.keys += 1
            typed += 1
            await asyncio.sleep(KEY_SECONDS)
            if char in PAUSE_AFTER and rng.random() < PAUSE_CHANCE:
                await self.pause(rng.uniform(0.5, 2.0), measured, wait)
                measured = ""


def fragments(shown: list[tuple[str, int, int, str]]) -> int:
    """Suggestions shown at a place where a longer one starting with them was shown later."""
    count = 0
    for index, (uri, version, cursor, text) in enumerate(shown):
        if any((u, v, c) == (uri, version, cursor) and t != text and t.startswith(text)
               for u, v, c, t in shown[index + 1:]):
            count += 1
    return count


def probe_outcome(pause: Pause) -> str:
    """'late' (the server had a suggestion there), 'none', or 'unknown'."""
    probe = pause.probe
    if probe is None or not probe.done() or probe.result().error is not None:
        return "unknown"
    return "late" if (probe.result().result or {}).get("items") else "none"


def peak_rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms" if values else "n/a"


async def session(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    workspace = Path(tempfile.mkdtemp(prefix="llama-lsp-session-"))
    small_text = (ROOT / "bench" / "data" / "task_queue.py").read_text()
    big_text = big_module()
    files: list[File] = []
    for name, text, at in (("task_queue.py", small_text, 0.45), ("big_module.py", big_text, 0.5)):
        (workspace / name).write_text(text)
        lines = text.splitlines(keepends=True)
        start = sum(len(line) for line in lines[:int(len(lines) * at)])
        cut = text[start:start + args.keys // 2 + 200]
        cut = cut[:cut.rfind("\n") + 1]
        files.append(File((workspace / name).as_uri(), text[:start] + text[start + len(cut):],
                          start, cut))
    small, big = files
    options = args.options
    client = await StdioClient.start([sys.executable, "-m", "llama_lsp", "serve",
                                      "--log-level", args.log_level],
                                     stderr=workspace / "server.log")
    editor = Editor(client, {f.uri: f for f in files}, small)
    client.handlers["$/llama-lsp/suggestionReady"] = editor.suggestion_ready
    client.handlers["$/llama-lsp/status"] = lambda params: editor.statuses.append(
        {**params, "at": round(time.monotonic() - client.started, 2)})
    await client.initialize(workspace, options)
    editor.open(small)
    await asyncio.sleep(max(0.0, client.started + 1.0 - time.monotonic()))
    # (file, characters, first pause measured as)
    plan = [(small, 0.30, ""), (big, 0.30, "open"), (small, 0.15, "switch"),
            (big, 0.15, "switch"), (small, 0.05, "switch"), (big, 0.05, "switch")]
    for file, share, measured in plan:
        if file.opened_at is None:
            editor.open(file)
            await asyncio.sleep(1.0)  # finding the place to type
            editor.place_cursor()
        elif file is not editor.current:
            editor.switch(file)
            await asyncio.sleep(0.5)
        await editor.type(int(args.keys * share), rng, measured, args.wait)
        await editor.pause(1.0)
    await asyncio.sleep(2.0)
    probes = [p.probe for p in editor.pauses if p.probe is not None]
    if probes:
        await asyncio.wait(probes, timeout=args.wait)
    rss = peak_rss_mib(client.process.pid)
    exit_code = await client.close()

    requests = len(client.sent)
    model_calls = next((s["modelCalls"] for s in reversed(editor.statuses)
                        if "modelCalls" in s), "n/a")
    pauses = editor.pauses
    within = [p for p in pauses if p.ghost_at is not None
              and p.ghost_at - p.started <= min(1.0, p.length)]
    def measured(kind: str) -> list[float]:
        return [p.ghost_at - p.started for p in pauses if p.measured == kind and p.ghost_at]
    opened = measured("open")
    switched = measured("switch")
    print(f"keystrokes {editor.keys}, requests {requests} ({editor.reasks} after "
          f"suggestionReady), accepted {editor.accepted}, server exit code {exit_code}")
    print(f"requests without a reply: {len(client.unanswered())}; "
          f"with more than one: {len(client.doubled())}")
    if editor.first_ghost is not None:
        print(f"process start -> first ghost text: {editor.first_ghost - client.started:.2f} s")
    for file in files:
        name = file.uri.rsplit("/", 1)[1]
        if file.first_ghost is not None and file.opened_at is not None:
            print(f"open {name} -> its first ghost text: {file.first_ghost - file.opened_at:.2f} s")
    print(f"first pause after opening the {BIG_LINES}-line file -> ghost text: "
          f"{median_ms(opened)} (missing after {args.wait:.0f} s: "
          f"{sum(1 for p in pauses if p.measured == 'open' and not p.ghost_at)})")
    print(f"first pause after switching back -> ghost text: median {median_ms(switched)} "
          f"of {[round(t * 1000) for t in switched]} ms "
          f"(missing: {sum(1 for p in pauses if p.measured == 'switch' and not p.ghost_at)})")
    print(f"pauses with a suggestion within 1 s: {len(within)}/{len(pauses)} "
          f"({len(within) / max(1, len(pauses)):.0%})")
    outcome = Counter(probe_outcome(p) for p in pauses if p.ghost_at is None)
    late = [p for p in pauses if p.ghost_at is not None and p not in within]
    print(f"  the others: {len(late)} showed one later in the pause; without ghost text, a "
          f"completion list there then had a suggestion {outcome['late']}, had none "
          f"{outcome['none']}, was cancelled or unanswered {outcome['unknown']}")
    print(f"fragments shown: {fragments(editor.shown)} of {len(editor.shown)} suggestions shown")
    print(f"model calls: {model_calls}")
    print(f"server peak RSS: {rss:.0f} MiB" if rss else "server peak RSS: n/a")
    if args.trace:
        with args.trace.open("w") as out:
            for status in editor.statuses:
                out.write(json.dumps(status) + "\n")
            for number, (method, sent) in client.sent.items():
                out.write(json.dumps({"id": number, "method": method,
                                      "sent": round(sent - client.started, 2),
                                      "replies": client.replies[number]}) + "\n")
    return 0 if not client.unanswered() and not client.doubled() else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=1100, help="characters to type in all")
    parser.add_argument("--seed", type=int, default=1, help="seed of the pause pattern")
    parser.add_argument("--wait", type=float, default=15.0,
                        help="longest wait for ghost text at a measured pause (s)")
    parser.add_argument("--log-level", default="warning",
                        help="the server's log level (its log: server.log in the workspace)")
    parser.add_argument("--trace", type=Path, help="write status notifications and requests "
                        "here (JSON lines)")
    add_set_option(parser)
    args = parser.parse_args()
    args.options = parse_set_options(parser, args.set)
    return asyncio.run(session(args))


if __name__ == "__main__":
    sys.exit(main())
