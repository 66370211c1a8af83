#!/usr/bin/env python3
"""Screenshot of the plugin's ghost text with the demo model (the PNG in docs/editors.md).

Runs Neovim in a tmux pane on a copy of examples/python/inventory.py, types `data = ` on the
line of Inventory.load, waits for the ghost text, converts the pane (ANSI colours) to HTML and
has headless chromium render it to PNG:

    python3 editors/neovim/scripts/screenshot.py test-artifacts/neovim-ghost-text.png
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PLUGIN = ROOT / "editors" / "neovim"
COLUMNS, ROWS = 92, 24
INIT = """
vim.opt.rtp:prepend({plugin!r})
vim.cmd.runtime("plugin/llama_lsp.lua")
vim.o.termguicolors = false
vim.api.nvim_set_hl(0, "LlamaLspGhostText", {{ ctermfg = 245, italic = true }})
vim.o.number = true
vim.o.laststatus = 2
vim.o.statusline = "%f  %=%{{v:lua.require'llama_lsp'.statusline()}} "
require("llama_lsp").setup({{ cmd = {{ {python!r}, "-m", "llama_lsp", "serve" }},
  settings = {{ firstRequestBudgetMs = 600000 }} }})
"""
# xterm's 16 colours, then the 6x6x6 cube and the grey ramp.
_BASE = ["000000", "cd0000", "00cd00", "cdcd00", "0000ee", "cd00cd", "00cdcd", "e5e5e5",
         "7f7f7f", "ff0000", "00ff00", "ffff00", "5c5cff", "ff00ff", "00ffff", "ffffff"]


def color_256(index: int) -> str:
    """#rrggbb of an xterm 256-colour index."""
    if index < 16:
        return "#" + _BASE[index]
    if index < 232:
        index -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (steps[index // 36], steps[index // 6 % 6], steps[index % 6])
    level = 8 + (index - 232) * 10
    return "#%02x%02x%02x" % (level, level, level)


def ansi_to_html(text: str) -> str:
    """tmux capture-pane -e output -> HTML spans (foreground, background, bold, italic)."""
    out: list[str] = []
    state: dict[str, object] = {}
    for piece in re.split(r"(\x1b\[[0-9;]*m)", text):
        match = re.fullmatch(r"\x1b\[([0-9;]*)m", piece)
        if not match:
            if piece:
                style = ";".join(f"{key}:{value}" for key, value in state.items())
                out.append(f'<span style="{style}">{html.escape(piece)}</span>')
            continue
        codes = [int(code) for code in match.group(1).split(";") if code] or [0]
        i = 0
        while i < len(codes):
            code = codes[i]
            if code == 0:
                state = {}
            elif code == 1:
                state["font-weight"] = "bold"
            elif code == 3:
                state["font-style"] = "italic"
            elif code == 7:
                state["filter"] = "invert(1)"
            elif code in (38, 48) and i + 2 < len(codes) and codes[i + 1] == 5:
                state["color" if code == 38 else "background"] = color_256(codes[i + 2])
                i += 2
            elif code in (38, 48) and i + 4 < len(codes) and codes[i + 1] == 2:
                value = "#%02x%02x%02x" % tuple(codes[i + 2:i + 5])
                state["color" if code == 38 else "background"] = value
                i += 4
            elif 30 <= code <= 37 or 90 <= code <= 97:
                state["color"] = color_256(code - 30 if code < 90 else code - 82)
            elif 40 <= code <= 47 or 100 <= code <= 107:
                state["background"] = color_256(code - 40 if code < 100 else code - 92)
            elif code == 39:
                state.pop("color", None)
            elif code == 49:
                state.pop("background", None)
            i += 1
    return "".join(out)


def main(output: str) -> int:
    """Capture the ghost text and write ``output`` (PNG)."""
    work = Path(tempfile.mkdtemp())
    source = (ROOT / "examples" / "python" / "inventory.py").read_text(encoding="utf-8")
    lines = source.split("\n")
    lines[50] = lines[50].replace("data = ", "")
    (work / "inventory.py").write_text("\n".join(lines), encoding="utf-8")
    (work / "init.lua").write_text(INIT.format(plugin=str(PLUGIN), python=sys.executable))
    env = {**os.environ, "XDG_STATE_HOME": str(work / "state"), "XDG_DATA_HOME": str(work / "data"),
           "PYTHONPATH": str(ROOT), "TERM": "xterm-256color"}
    session = f"llama-lsp-shot-{os.getpid()}"
    tmux = ["tmux", "-L", session]
    subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", str(COLUMNS), "-y", str(ROWS),
                    "-c", str(work), f"nvim --clean -u init.lua +40 inventory.py"], env=env, check=True)
    try:
        def pane(colours: bool = False) -> str:
            return subprocess.run([*tmux, "capture-pane", "-p", *(["-e"] if colours else []),
                                   "-t", session], capture_output=True, text=True, check=True).stdout

        for _ in range(600):
            if "llama-lsp: ready" in pane():
                break
            time.sleep(0.1)
        subprocess.run([*tmux, "send-keys", "-t", session, ":51", "Enter", "A"], check=True)
        for char in "data = ":
            subprocess.run([*tmux, "send-keys", "-t", session, "-l", char], check=True)
            time.sleep(0.08)
        typed = time.perf_counter()
        for _ in range(600):
            line = next((row for row in pane().split("\n") if "data = " in row), "")
            if line.rstrip().endswith(")"):
                break
            time.sleep(0.1)
        print(f"time to ghost text (demo model, polled every 0.1 s): "
              f"{(time.perf_counter() - typed) * 1000:.0f} ms")
        time.sleep(0.3)
        body = ansi_to_html(pane(colours=True))
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)
    page = work / "pane.html"
    page.write_text(
        "<html><body style='margin:0;background:#000'><pre style='margin:8px;font:15px/1.25 "
        f"DejaVu Sans Mono,monospace;color:#e5e5e5'>{body}</pre></body></html>", encoding="utf-8")
    width, height = COLUMNS * 9 + 16, ROWS * 19 + 16
    subprocess.run([os.environ.get("CHROMIUM", "chromium"), "--headless", "--no-sandbox",
                    "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", f"--user-data-dir={work / 'chromium'}",
                    f"--screenshot={Path(output).resolve()}", f"--window-size={width},{height}",
                    page.as_uri()], check=True, capture_output=True)
    shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "neovim-ghost-text.png"))
