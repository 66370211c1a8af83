"""llama.cpp's own log, routed into Python logging (logger ``llama_lsp.llama_cpp``).

llama-cpp-python's callback prints llama.cpp's warnings straight to stderr (its level table
predates ggml's current one, so warnings count as errors there). Ours hands every line to
Python logging: at DEBUG level, errors at INFO, so they show only with ``--log-level debug``
(or info) and ``complete`` and ``doctor`` print only their own output.
"""

from __future__ import annotations

import ctypes
import logging
import threading

logger = logging.getLogger("llama_lsp.llama_cpp")

# ggml.h: enum ggml_log_level { NONE, DEBUG, INFO, WARN, ERROR, CONT }
_GGML_ERROR = 4
_GGML_CONT = 5

_lock = threading.Lock()
_pending: list[str] = []
_pending_level = logging.DEBUG
_callback: object | None = None  # kept alive for as long as llama.cpp may call it


def _level_of(ggml_level: int) -> int:
    return logging.INFO if ggml_level == _GGML_ERROR else logging.DEBUG


def _on_log(level: int, text: bytes | None, user_data: object) -> None:
    """Collect pieces until a line is complete, then log it. Never raises into C."""
    global _pending_level
    try:
        piece = (text or b"").decode("utf-8", "replace")
        with _lock:
            if level != _GGML_CONT and not _pending:
                _pending_level = _level_of(level)
            _pending.append(piece)
            if not piece.endswith("\n"):
                return
            line, level_now = "".join(_pending).rstrip("\n"), _pending_level
            _pending.clear()
        if line.strip():
            logger.log(level_now, "%s", line)
    except Exception:  # noqa: BLE001 - an exception must not cross into native code
        pass


def route_native_log() -> None:
    """Install the callback (once; after ``import llama_cpp``, which installs its own)."""
    global _callback
    with _lock:
        if _callback is not None:
            return
        import llama_cpp

        _callback = llama_cpp.llama_log_callback(_on_log)
        llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))
