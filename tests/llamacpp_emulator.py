"""A stand-in for llama.cpp's ``llama-server`` HTTP API, for tests on machines without it.

The request and response shapes (``/props``, ``/tokenize``, ``/detokenize``, ``/completion``,
``/infill`` with ``input_extra``, SSE streaming with a final ``stop: true`` event, OAI-style
error bodies, chunked transfer encoding) follow llama.cpp's ``tools/server/README.md`` and
``server-task.cpp`` (``to_json_non_oaicompat``), and ``/infill`` lays out its prompt like
``format_prompt_infill``. The model behind it is real: a llama-cpp-python ``Llama`` loading a
tiny GGUF, so tokens and generations are genuine. A client that disconnects mid-stream stops
the generation (counted in ``disconnects``), as in llama.cpp.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import llama_cpp


class LlamaCppEmulator:
    """``llama-server`` protocol over a real tiny model, on a loopback port."""

    def __init__(self, model: Path, n_ctx: int = 2048, port: int = 0) -> None:
        self.model = model
        self.llm = llama_cpp.Llama(model_path=str(model), n_ctx=n_ctx, n_threads=1,
                                   seed=0, verbose=False)
        self.n_ctx = n_ctx
        self.lock = threading.Lock()
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.disconnects = 0
        self.props_asked = threading.Event()
        """Set when a client first asks for ``/props`` (a backend is connecting)."""
        self.props_gate: threading.Event | None = None
        """When set to an event, ``/props`` is answered only once it is set (a slow start)."""
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> LlamaCppEmulator:
        emulator = self

        class Handler(_Handler):
            owner = emulator

        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._server.daemon_threads = True
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- the model side ------------------------------------------------------------------

    def token(self, metadata_key: str) -> int | None:
        value = self.llm.metadata.get(metadata_key)
        return int(value) if value is not None else None

    def infill_prompt(self, body: dict[str, Any]) -> list[int]:
        """``format_prompt_infill`` (llama.cpp tools/server/server-common.cpp)."""
        llm = self.llm
        tokenize = lambda text: llm.tokenize(text.encode(), add_bos=False, special=False)  # noqa: E731
        sep = self.token("tokenizer.ggml.fim_sep_token_id")
        rep = self.token("tokenizer.ggml.fim_rep_token_id")
        extra: list[int] = []
        if rep is not None:
            extra += [rep, *tokenize("myproject\n")]
        for chunk in body.get("input_extra", []):
            if sep is not None:
                extra += [sep, *tokenize(chunk.get("filename", "tmp") + "\n")]
            else:
                extra += tokenize("\n\n--- snippet ---\n\n")
            extra += tokenize(chunk["text"])
        if sep is not None:
            extra += [sep, *tokenize("filename\n")]
        n_batch = 512
        prefix = tokenize(body["input_prefix"])[-3 * (n_batch // 4):]
        suffix = tokenize(body["input_suffix"])[: max(0, n_batch // 4 - 2)]
        n_extra = min(max(0, self.n_ctx - n_batch - 2 * int(body.get("n_predict", 0))),
                      len(extra))
        pre, suf, mid = (llm._model.token_prefix(), llm._model.token_suffix(),
                         llm._model.token_middle())
        return [*extra[len(extra) - n_extra:], pre, *prefix, suf, *suffix, mid]

    def prompt_tokens(self, prompt: Any) -> list[int]:
        """A string, a token list, or tokens mixed with strings (BOS only for strings)."""
        llm = self.llm
        if isinstance(prompt, str):
            return llm.tokenize(prompt.encode(), add_bos=llm._model.add_bos_token(), special=True)
        tokens: list[int] = []
        for item in prompt:
            tokens += [item] if isinstance(item, int) else llm.tokenize(
                item.encode(), add_bos=False, special=True)
        return tokens


class _Handler(BaseHTTPRequestHandler):
    owner: LlamaCppEmulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet in tests
        pass

    def _json(self, status: int, payload: Any) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _error(self, status: int, message: str, kind: str) -> None:
        self._json(status, {"error": {"code": status, "message": message, "type": kind}})

    def do_GET(self) -> None:  # noqa: N802
        owner = self.owner
        if self.path == "/health":
            self._json(200, {"status": "ok"})
        elif self.path == "/props":
            owner.props_asked.set()
            if owner.props_gate is not None:
                owner.props_gate.wait(60)
            self._json(200, {
                "default_generation_settings": {"id": 0, "id_task": -1, "n_ctx": owner.n_ctx,
                                                "speculative": False, "is_processing": False,
                                                "params": {"n_predict": -1, "top_k": 40}},
                "total_slots": 1, "model_alias": str(owner.model),
                "model_path": str(owner.model), "chat_template": "",
                "modalities": {"vision": False}, "build_info": "b0-emulator",
                "is_sleeping": False,
            })
        else:
            self._error(404, "File Not Found", "not_found_error")

    def do_POST(self) -> None:  # noqa: N802
        owner = self.owner
        length = int(self.headers.get("Content-Length", 0))
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._error(400, "invalid JSON", "invalid_request_error")
            return
        owner.requests.append((self.path, body))
        llm = owner.llm
        if self.path == "/tokenize":
            with owner.lock:
                tokens = llm.tokenize(body.get("content", "").encode(),
                                      add_bos=bool(body.get("add_special", False)),
                                      special=bool(body.get("parse_special", True)))
            self._json(200, {"tokens": tokens})
        elif self.path == "/detokenize":
            with owner.lock:
                # Like tokens_to_str in llama.cpp: special tokens written out.
                text = llm.detokenize(body.get("tokens", []), special=True).decode("utf-8",
                                                                                   "replace")
            self._json(200, {"content": text})
        elif self.path == "/completion":
            with owner.lock:
                tokens = owner.prompt_tokens(body.get("prompt", ""))
            self._generate(tokens, body)
        elif self.path == "/infill":
            if llm._model.token_prefix() < 0:
                self._error(501, "Infill is not supported by this model: prefix token is "
                            "missing. ", "not_supported_error")
                return
            if "input_prefix" not in body or "input_suffix" not in body:
                self._error(400, '"input_prefix" is required', "invalid_request_error")
                return
            with owner.lock:
                tokens = owner.infill_prompt(body)
            self._generate(tokens, body)
        else:
            self._error(404, "File Not Found", "not_found_error")

    def _generate(self, prompt: list[int], body: dict[str, Any]) -> None:
        owner = self.owner
        llm = owner.llm
        stream = bool(body.get("stream", False))
        n_predict = int(body.get("n_predict", -1))
        stops = [s for s in body.get("stop", []) if s]
        grammar = None
        if body.get("json_schema") is not None:
            grammar = llama_cpp.LlamaGrammar.from_json_schema(json.dumps(body["json_schema"]),
                                                              verbose=False)
        if stream:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
        started = time.perf_counter()
        text = ""
        generated: list[int] = []
        stop_type = "limit"
        stopping_word = ""
        sent = 0
        with owner.lock:
            cached = 0
            for a, b in zip(llm._input_ids, prompt):
                if a != b:
                    break
                cached += 1
            if body.get("seed") is not None and float(body.get("temperature", 0.8)) > 0:
                llm.set_seed(int(body["seed"]))
            try:
                for token in llm.generate(prompt, temp=float(body.get("temperature", 0.8)),
                                          top_k=int(body.get("top_k", 40)),
                                          top_p=float(body.get("top_p", 0.95)),
                                          min_p=float(body.get("min_p", 0.05)),
                                          repeat_penalty=float(body.get("repeat_penalty", 1.0)),
                                          grammar=grammar):
                    if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
                        stop_type = "eos"
                        break
                    generated.append(token)
                    text += llm.detokenize([token]).decode("utf-8", "ignore")
                    hit = next((s for s in stops if s in text), None)
                    if hit is not None:
                        text = text[: text.index(hit)]
                        stop_type, stopping_word = "word", hit
                    # Like llama.cpp, hold back text that may be the start of a stop word.
                    ready = len(text) if hit is not None else len(text) - _partial_stop(
                        text, stops)
                    piece, sent = text[sent:ready], max(sent, ready)
                    if stream and (piece or hit is None):
                        self._event({"index": 0, "content": piece, "tokens": [token],
                                     "stop": False, "id_slot": 0,
                                     "tokens_predicted": len(generated),
                                     "tokens_evaluated": len(prompt)})
                    if stop_type == "word" or 0 <= n_predict <= len(generated):
                        break
            except (BrokenPipeError, ConnectionResetError):
                owner.disconnects += 1
                self.close_connection = True
                return
        elapsed = (time.perf_counter() - started) * 1000
        final = {
            "index": 0, "content": text[sent:] if stream else text, "tokens": [], "id_slot": 0,
            "stop": True, "model": owner.model.name, "tokens_predicted": len(generated),
            "tokens_evaluated": len(prompt),
            "generation_settings": {"n_ctx": owner.n_ctx, "n_predict": n_predict},
            "prompt": llm.detokenize(prompt, special=True).decode("utf-8", "replace"),
            "has_new_line": "\n" in text, "truncated": False, "stop_type": stop_type,
            "stopping_word": stopping_word, "tokens_cached": cached,
            "timings": {"cache_n": cached, "prompt_n": len(prompt) - cached,
                        "prompt_ms": elapsed / 2, "predicted_n": len(generated),
                        "predicted_ms": elapsed / 2},
        }
        try:
            if stream:
                self._event(final)
                self._chunk(b"")
            else:
                self._json(200, final)
        except (BrokenPipeError, ConnectionResetError):
            owner.disconnects += 1
            self.close_connection = True

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _event(self, payload: dict[str, Any]) -> None:
        self._chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")


def _partial_stop(text: str, stops: list[str]) -> int:
    """Length of the longest end of ``text`` that begins some stop word."""
    return max((n for stop in stops for n in range(min(len(stop), len(text)), 0, -1)
                if stop.startswith(text[-n:])), default=0)
