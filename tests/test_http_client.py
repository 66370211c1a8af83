"""The HTTP layer of remote backends: transport policy, SSE parsing, retries, cancellation,
and the local text vocabulary. Servers here are small real HTTP servers on loopback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llama_lsp.model.backend import EngineUnavailable, ModelError
from llama_lsp.model.http_client import (
    EventStream,
    HttpClient,
    _CancelWatcher,
    error_message,
    parse_endpoint,
)
from llama_lsp.model.sse import ServerEvent, parse_events
from llama_lsp.model.text_vocab import TextVocabulary


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:1234/v1",
                                 "http://[::1]:9000", "https://gpu.example.com/v1"])
def test_loopback_http_and_any_https_are_allowed(url: str) -> None:
    assert parse_endpoint(url, allow_insecure_http=False).url.startswith(url.split(":")[0])


def test_plain_http_to_another_machine_needs_the_opt_in() -> None:
    with pytest.raises(ModelError, match="allowInsecureHttp"):
        parse_endpoint("http://10.1.2.3:8000", allow_insecure_http=False)
    endpoint = parse_endpoint("http://10.1.2.3:8000/v1/", allow_insecure_http=True)
    assert (endpoint.host, endpoint.port, endpoint.base_path) == ("10.1.2.3", 8000, "/v1")


@pytest.mark.parametrize("url, message", [
    (None, "needs 'endpoint'"), ("ftp://host", "http:// or https://"),
    ("https://user:pw@host", "must not carry credentials"),
])
def test_bad_endpoints_say_why(url: str | None, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        parse_endpoint(url, allow_insecure_http=False)


def test_server_sent_events_are_parsed_per_the_spec() -> None:
    raw = [b": ping\r\n", b"data: {\"a\": 1}\r\n", b"\r\n", b"event: done\n", b"data: x\n",
           b"data: y\n", b"\n", b"error: {\"message\": \"boom\"}\n", b"\n", b"data: [DONE]"]
    assert list(parse_events(raw)) == [ServerEvent("message", '{"a": 1}'),
                                       ServerEvent("done", "x\ny"),
                                       ServerEvent("error", '{"message": "boom"}'),
                                       ServerEvent("message", "[DONE]")]


def test_error_bodies_give_their_message() -> None:
    assert error_message(b'{"error": {"code": 401, "message": "Invalid API Key"}}') == \
        "Invalid API Key"
    assert error_message(b'{"detail": "Invalid API key"}') == "Invalid API key"
    assert error_message(b"Bad Gateway\nmore") == "Bad Gateway"


@given(st.text())
def test_text_vocabulary_round_trips_any_text(text: str) -> None:
    vocabulary = TextVocabulary(["<fim_prefix>"])
    assert vocabulary.detokenize(vocabulary.tokenize(text)) == text


def test_text_vocabulary_estimate_is_near_a_code_tokenizer() -> None:
    vocabulary = TextVocabulary()
    code = "def parse_config(path: str) -> dict[str, int]:\n    return json.loads(path)\n"
    # A code BPE tokenizer needs about 20-25 tokens for this; the estimate errs on the high side.
    assert 20 <= len(vocabulary.tokenize(code)) <= 40
    special = vocabulary.special("<|fim_prefix|>")
    assert special not in vocabulary.tokenize("<|fim_prefix|>")


class _Flaky(BaseHTTPRequestHandler):
    """Answers 503 to the first ``failures`` requests, then JSON; /slow waits before answering."""

    failures = 0
    seen = 0
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        type(self).seen += 1
        if type(self).seen <= type(self).failures:
            body, status = b'{"error": {"message": "Loading model"}}', 503
        else:
            body, status = b'{"ok": true}', 200
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(5)  # e.g. a long prompt being processed before the first token
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            self.wfile.write(b"data: {}\n\n")
        except OSError:
            pass


@pytest.fixture
def flaky() -> Iterator[type[_Flaky]]:
    handler = type("Flaky", (_Flaky,), {"failures": 0, "seen": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    yield handler
    server.shutdown()
    server.server_close()


def test_idempotent_calls_are_retried_with_backoff(flaky: type[_Flaky]) -> None:
    flaky.failures = 2
    client = HttpClient(parse_endpoint(flaky.url, False), retries=2, backoff=0.01)  # type: ignore[attr-defined]
    assert client.get_json("/props") == {"ok": True}
    assert flaky.seen == 3


def test_retries_are_bounded(flaky: type[_Flaky]) -> None:
    flaky.failures = 10
    client = HttpClient(parse_endpoint(flaky.url, False), retries=2, backoff=0.01)  # type: ignore[attr-defined]
    with pytest.raises(EngineUnavailable, match="not ready .*Loading model"):
        client.get_json("/props")
    assert flaky.seen == 3


def test_cancelling_while_waiting_for_the_first_byte_closes_the_connection(
        flaky: type[_Flaky]) -> None:
    client = HttpClient(parse_endpoint(flaky.url, False), read_timeout=60)  # type: ignore[attr-defined]
    cancelled = threading.Event()
    threading.Timer(0.2, cancelled.set).start()
    with pytest.raises(EngineUnavailable, match="cancelled"):
        client.stream("/completion", {"prompt": "x"}, cancelled.is_set)
    assert cancelled.is_set()


def test_a_silent_server_times_out_as_unavailable(flaky: type[_Flaky]) -> None:
    client = HttpClient(parse_endpoint(flaky.url, False), read_timeout=0.3)  # type: ignore[attr-defined]
    with pytest.raises(EngineUnavailable, match="did not answer in time"):
        client.stream("/completion", json.loads('{"prompt": "x"}'), lambda: False)


@pytest.fixture
def https_server(tmp_path) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """An HTTPS server on 127.0.0.1 with a self-signed certificate (made with openssl)."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    handler = type("Flaky", (_Flaky,), {"failures": 0, "seen": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}", str(cert)
    server.shutdown()
    server.server_close()


def test_tls_certificates_are_verified(https_server: tuple[str, str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    url, cert = https_server
    with pytest.raises(ModelError, match="TLS .* failed.*certificate"):
        HttpClient(parse_endpoint(url, False), retries=0).get_json("/props")
    monkeypatch.setenv("SSL_CERT_FILE", cert)  # e.g. a company CA
    assert HttpClient(parse_endpoint(url, False)).get_json("/props") == {"ok": True}


# -- keep-alive event streams and cancellation ---------------------------------------------


class _Sse(BaseHTTPRequestHandler):
    """Streams chunked server-sent events like llama.cpp: ``/complete`` sends three pieces
    and a final ``stop`` event, then ends the body; ``/endless`` streams until the client
    goes away. The server counts the connections it accepted and the clients that left."""

    protocol_version = "HTTP/1.1"
    disconnects = 0

    def log_message(self, *args: object) -> None:
        pass

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            if self.path == "/complete":
                for index in range(3):
                    self._chunk(f'data: {{"content": "{index}", "stop": false}}\n\n'.encode())
                self._chunk(b'data: {"content": "", "stop": true}\n\n')
                self._chunk(b"")
                return
            while True:
                self._chunk(b'data: {"content": "x", "stop": false}\n\n')
                time.sleep(0.01)
        except OSError:
            type(self).disconnects += 1
            self.close_connection = True


class _CountingServer(ThreadingHTTPServer):
    daemon_threads = True
    accepted = 0

    def process_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        self.accepted += 1
        super().process_request(request, client_address)


@pytest.fixture
def sse_server() -> Iterator[_CountingServer]:
    handler = type("Sse", (_Sse,), {"disconnects": 0})
    server = _CountingServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _client(server: _CountingServer) -> HttpClient:
    return HttpClient(parse_endpoint(f"http://127.0.0.1:{server.server_address[1]}", False))


def _read_until_stop(stream: EventStream) -> str:
    """The streamed text up to the final event, marking the stream finished there, as the
    backends do (the generator is left suspended, like ``follow_stream`` leaves it)."""
    text = ""
    for event in stream:
        data = json.loads(event.data)
        text += data["content"]
        if data["stop"]:
            stream.finish()
            break
    return text


def test_streams_the_server_ended_share_one_keep_alive_connection(
        sse_server: _CountingServer) -> None:
    client = _client(sse_server)
    texts = []
    for _ in range(3):
        stream = client.stream("/complete", {"prompt": "x"}, lambda: False)
        try:
            texts.append(_read_until_stop(stream))
        finally:
            stream.close()
    assert texts == ["012"] * 3
    assert sse_server.accepted == 1
    assert sse_server.RequestHandlerClass.disconnects == 0  # type: ignore[attr-defined]


def test_a_stream_left_before_its_final_event_closes_its_connection(
        sse_server: _CountingServer) -> None:
    client = _client(sse_server)
    stream = client.stream("/endless", {"prompt": "x"}, lambda: False)
    next(iter(stream))
    stream.close()  # e.g. a stop string was reached: the server must stop generating
    stream = client.stream("/complete", {"prompt": "x"}, lambda: False)
    try:
        assert _read_until_stop(stream) == "012"
    finally:
        stream.close()
    assert sse_server.accepted == 2


def test_finish_without_the_end_of_the_body_closes_the_connection(
        sse_server: _CountingServer) -> None:
    client = _client(sse_server)
    stream = client.stream("/endless", {"prompt": "x"}, lambda: False)
    next(iter(stream))
    stream.finish()  # a server that keeps streaming after its "final" event
    stream.close()  # reads a bounded amount, then gives the connection up
    stream = client.stream("/complete", {"prompt": "x"}, lambda: False)
    try:
        assert _read_until_stop(stream) == "012"
    finally:
        stream.close()
    assert sse_server.accepted == 2


def test_cancelling_mid_stream_closes_the_connection_at_once(
        sse_server: _CountingServer) -> None:
    client = _client(sse_server)
    cancelled = threading.Event()
    stream = client.stream("/endless", {"prompt": "x"}, cancelled.is_set)
    seen = 0
    for _ in stream:  # ends when the watcher shuts the socket, without an error
        seen += 1
        if seen == 3:
            cancelled.set()
    stream.close()
    assert seen >= 3
    handler = sse_server.RequestHandlerClass
    deadline = time.monotonic() + 30
    while handler.disconnects == 0:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, "the server never noticed the disconnect"
        time.sleep(0.02)
    stream = client.stream("/complete", {"prompt": "x"}, lambda: False)
    try:
        assert _read_until_stop(stream) == "012"
    finally:
        stream.close()
    assert sse_server.accepted == 2


def test_the_cancel_watcher_never_closes_a_released_stream() -> None:
    watcher = _CancelWatcher()
    closed: list[str] = []
    armed = False
    second = 0

    def first_cancelled() -> bool:
        if armed:
            # The second stream's request ends while the watcher looks at the first one:
            # its connection may already serve the next request, so it must stay open.
            watcher.release(second)
        return armed

    watcher.guard(first_cancelled, lambda: closed.append("first"))
    second = watcher.guard(lambda: armed, lambda: closed.append("second"))
    armed = True
    watcher.close_cancelled()  # its own thread may get there first: the same outcome
    assert closed == ["first"]
