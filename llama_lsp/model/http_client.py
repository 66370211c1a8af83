"""A small JSON-over-HTTP client for inference servers (standard library only).

- connect and read timeouts; one keep-alive connection per thread, so several threads can
  talk to one server at once;
- bounded retries with exponential backoff for idempotent calls;
- server-sent event streams that a cancellation closes (the socket is shut down, which
  also tells the server to stop generating); a stream the server ended cleanly leaves its
  connection open for the next request;
- TLS verified by default; plain ``http://`` only to a loopback address unless allowed.

Errors become :class:`EngineUnavailable` (cannot reach, timed out, 502/503/504: try again
later) or :class:`ModelError` (the server refused the request). Header values (the API key)
never appear in messages.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from llama_lsp.model.backend import EngineUnavailable, ModelError
from llama_lsp.model.sse import ServerEvent, parse_events

RETRY_STATUSES = frozenset({502, 503, 504})
# How often the cancel watcher looks at the streams it guards (seconds).
CANCEL_POLL_SECONDS = 0.02
# Longest time allowed to set up a connection, whatever the read timeout.
MAX_CONNECT_SECONDS = 5.0
# After the server's final event, how much of the rest of the body (the end of the chunked
# encoding, OpenAI's ``[DONE]``) is read so the connection can serve the next request.
DRAIN_MAX_BYTES = 16 * 1024
DRAIN_SECONDS = 0.5


@dataclass(frozen=True)
class Endpoint:
    """Where a server listens: scheme, host, port and the path prefix of its API."""

    scheme: str
    host: str
    port: int
    base_path: str

    @property
    def url(self) -> str:
        """The endpoint as a URL (for messages)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.base_path}"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (127.0.0.0/8, ::1)."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_endpoint(url: str | None, allow_insecure_http: bool) -> Endpoint:
    """Check ``url`` against the transport policy; raise :class:`ModelError` saying why not."""
    if not url:
        raise ModelError("a remote backend needs 'endpoint', the server's URL, "
                         "e.g. http://127.0.0.1:8080")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ModelError(f"endpoint {url!r} must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise ModelError("endpoint must not carry credentials; put the API key in the "
                         "environment variable named by 'apiKeyEnv'")
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not allow_insecure_http:
        raise ModelError(
            f"endpoint {parts.hostname} is not on this machine and plain http:// would send "
            "code unencrypted: use https://, or set 'allowInsecureHttp' for a trusted network"
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise ModelError(f"endpoint {url!r} has an invalid port") from error
    return Endpoint(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))


class _CancelWatcher:
    """One daemon thread that closes streams whose ``is_cancelled`` has turned true."""

    def __init__(self) -> None:
        # Re-entrant: a callback may release tickets while the watcher holds the lock.
        self._lock = threading.RLock()
        self._guarded: dict[int, tuple[Callable[[], bool], Callable[[], None]]] = {}
        self._thread: threading.Thread | None = None
        self._next = 0

    def guard(self, is_cancelled: Callable[[], bool], close: Callable[[], None]) -> int:
        with self._lock:
            self._next += 1
            self._guarded[self._next] = (is_cancelled, close)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="llama-lsp-cancel",
                                                daemon=True)
                self._thread.start()
            return self._next

    def release(self, ticket: int) -> None:
        """Stop guarding ``ticket``; once this returns, its ``close`` is not called."""
        with self._lock:
            self._guarded.pop(ticket, None)

    def _loop(self) -> None:
        while True:
            time.sleep(CANCEL_POLL_SECONDS)
            self.close_cancelled()

    def close_cancelled(self) -> None:
        """Close the guarded streams whose ``is_cancelled`` is true. Checked and closed under
        the lock, so a stream released meanwhile (its connection maybe reused by the next
        request) is never closed."""
        with self._lock:
            for ticket, (is_cancelled, close) in list(self._guarded.items()):
                if ticket in self._guarded and is_cancelled():
                    del self._guarded[ticket]
                    close()


_WATCHER = _CancelWatcher()


class EventStream:
    """An open server-sent event response. Iterate for events; ``close`` ends it.

    A backend calls :meth:`finish` when it has seen the server's final event; ``close``
    then reads the short rest of the body and keeps the connection for the next request.
    Otherwise (stopped early, cancelled, broken) ``close`` shuts the connection at once,
    which also tells the server to stop generating."""

    def __init__(self, connection: http.client.HTTPConnection,
                 response: http.client.HTTPResponse, on_close: Callable[[bool], None],
                 broken_off: Callable[[], bool] = lambda: False) -> None:
        self._connection = connection
        self._response = response
        self._on_close = on_close
        self._broken_off = broken_off
        self._finished = False
        self._ended_by_server = False
        self.closed = False

    def __iter__(self) -> Iterator[ServerEvent]:
        try:
            yield from parse_events(iter(self._response.readline, b""))
            self._finished = True
        except (OSError, http.client.HTTPException, ValueError) as error:
            if not self.closed and not self._broken_off():
                raise EngineUnavailable(f"the server broke off the response: {error}") from error

    def finish(self) -> None:
        """Note that the server sent its final event: the generation is over, only the end
        of the body may follow."""
        self._ended_by_server = True

    def _drain(self) -> bool:
        """Read the rest of a finished body (bounded in bytes and time); True when it ended
        cleanly, so the connection can be reused."""
        sock = self._connection.sock
        if sock is None or self._broken_off():
            return False
        timeout = sock.gettimeout()
        deadline = time.monotonic() + DRAIN_SECONDS
        read = 0
        try:
            while read <= DRAIN_MAX_BYTES and not self._response.isclosed():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                sock.settimeout(left)
                data = self._response.read1(4096)
                if not data:
                    break
                read += len(data)
            sock.settimeout(timeout)
        except (OSError, http.client.HTTPException, ValueError):
            return False
        return self._response.isclosed() and not self._broken_off()

    def close(self) -> None:
        """End the stream (from the thread that reads it; cancellation closes from the
        watcher). The connection stays open for the next request only when the server
        ended the body cleanly."""
        if self.closed:
            return
        self.closed = True
        reusable = False
        if not self._response.will_close and not self._broken_off():
            if self._finished:
                reusable = True
            elif self._ended_by_server:
                reusable = self._drain()
        if not reusable:
            sock = self._connection.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._connection.close()
        self._on_close(reusable)


class HttpClient:
    """JSON requests and event streams to one endpoint; safe to share between threads."""

    def __init__(
        self,
        endpoint: Endpoint,
        headers: Mapping[str, str] | None = None,
        read_timeout: float = 30.0,
        retries: int = 2,
        backoff: float = 0.25,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._headers = {"Content-Type": "application/json", "Accept": "application/json",
                         **(headers or {})}
        self.read_timeout = read_timeout
        self.connect_timeout = min(MAX_CONNECT_SECONDS, read_timeout)
        self.retries = retries
        self.backoff = backoff
        self._ssl = ssl_context or (ssl.create_default_context()
                                    if endpoint.scheme == "https" else None)
        self._local = threading.local()

    # -- connections ---------------------------------------------------------------------

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection (opened if needed) and whether it was used before."""
        connection = getattr(self._local, "connection", None)
        if connection is not None and connection.sock is not None:
            return connection, True
        if self.endpoint.scheme == "https":
            connection = http.client.HTTPSConnection(self.endpoint.host, self.endpoint.port,
                                                     timeout=self.connect_timeout,
                                                     context=self._ssl)
        else:
            connection = http.client.HTTPConnection(self.endpoint.host, self.endpoint.port,
                                                    timeout=self.connect_timeout)
        try:
            connection.connect()
        except ssl.SSLError as error:
            connection.close()
            raise ModelError(f"TLS with {self.endpoint.url} failed: {error.reason or error}; "
                             "check the server's certificate") from error
        except OSError as error:
            connection.close()
            raise EngineUnavailable(self._unreachable(error)) from error
        assert connection.sock is not None
        connection.sock.settimeout(self.read_timeout)
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._local.connection = connection
        return connection, False

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()

    def _unreachable(self, error: BaseException) -> str:
        if isinstance(error, (TimeoutError, socket.timeout)):
            return f"the inference server at {self.endpoint.url} did not answer in time"
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        return f"cannot reach the inference server at {self.endpoint.url} ({reason})"

    def close(self) -> None:
        """Close this thread's connection (other threads' close when they end)."""
        self._drop_connection()

    # -- requests ------------------------------------------------------------------------

    def _send(
        self, method: str, path: str, body: Any | None,
        on_connection: Callable[[http.client.HTTPConnection], bool] = lambda _: True,
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Send one request; retry once on a kept-alive connection the server had closed.
        ``on_connection`` sees each connection before use and returns False to give up."""
        payload = None if body is None else json.dumps(body).encode("utf-8")
        for attempt in range(2):
            connection, reused = self._connection()
            if not on_connection(connection):
                self._drop_connection()
                raise EngineUnavailable("cancelled")
            try:
                connection.request(method, self.endpoint.base_path + path, body=payload,
                                   headers=self._headers)
                return connection, connection.getresponse()
            except (OSError, http.client.HTTPException) as error:
                self._drop_connection()
                stale = reused and isinstance(error, (http.client.RemoteDisconnected,
                                                      ConnectionResetError, BrokenPipeError))
                if stale and attempt == 0 and on_connection(connection):
                    continue
                raise EngineUnavailable(self._unreachable(error)) from error
        raise AssertionError("unreachable")

    def _check_status(self, response: http.client.HTTPResponse, path: str) -> None:
        if response.status < 400:
            return
        try:
            raw = response.read(64 * 1024)
        except (OSError, http.client.HTTPException):
            raw = b""
        self._drop_connection()
        message = error_message(raw) or response.reason
        where = f"{self.endpoint.url}{path}"
        if response.status in RETRY_STATUSES:
            raise EngineUnavailable(f"the inference server at {self.endpoint.url} is not "
                                    f"ready ({response.status}: {message})")
        if response.status in (401, 403):
            raise ModelError(f"{where} refused the request ({response.status}: {message}); "
                             "check the API key in the variable named by 'apiKeyEnv'")
        raise ModelError(f"{where} answered {response.status}: {message}")

    def request_json(self, method: str, path: str, body: Any | None = None,
                     idempotent: bool = True) -> Any:
        """The decoded JSON answer; idempotent calls are retried with backoff."""
        attempts = 1 + (self.retries if idempotent else 0)
        for attempt in range(attempts):
            try:
                connection, response = self._send(method, path, body)
                self._check_status(response, path)
                try:
                    raw = response.read()
                except (OSError, http.client.HTTPException) as error:
                    self._drop_connection()
                    raise EngineUnavailable(self._unreachable(error)) from error
                if response.will_close:
                    self._drop_connection()
                try:
                    return json.loads(raw)
                except ValueError as error:
                    raise ModelError(f"{self.endpoint.url}{path} did not answer JSON") from error
            except EngineUnavailable:
                if attempt + 1 >= attempts:
                    raise
                time.sleep(self.backoff * 2 ** attempt)
        raise AssertionError("unreachable")

    def get_json(self, path: str) -> Any:
        """``GET path`` as JSON (retried)."""
        return self.request_json("GET", path)

    def post_json(self, path: str, body: Any, idempotent: bool = True) -> Any:
        """``POST path`` with a JSON body, answer as JSON."""
        return self.request_json("POST", path, body, idempotent)

    def stream(self, path: str, body: Any, is_cancelled: Callable[[], bool]) -> EventStream:
        """``POST path`` and return its event stream. When ``is_cancelled`` turns true the
        stream is closed from a watcher thread, even while waiting for the first byte."""
        current: list[http.client.HTTPConnection | None] = [None]
        closed = threading.Event()

        def close_socket() -> None:
            closed.set()
            sock = current[0].sock if current[0] is not None else None
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        def use(connection: http.client.HTTPConnection) -> bool:
            current[0] = connection
            return not closed.is_set()

        ticket = _WATCHER.guard(is_cancelled, close_socket)
        try:
            connection, response = self._send("POST", path, body, use)
        except EngineUnavailable:
            _WATCHER.release(ticket)
            if closed.is_set():
                raise EngineUnavailable("cancelled") from None
            raise
        try:
            self._check_status(response, path)
        except ModelError:
            _WATCHER.release(ticket)
            raise

        def on_close(reusable: bool) -> None:
            _WATCHER.release(ticket)
            if not reusable or closed.is_set():
                self._drop_connection()

        return EventStream(connection, response, on_close, closed.is_set)


def error_message(raw: bytes) -> str:
    """The message in an OpenAI/llama.cpp style error body (``{"error": {"message": ...}}``,
    ``{"detail": ...}``), else the body's first line."""
    text = raw.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text.splitlines()[0][:200] if text else ""
    if isinstance(data, dict):
        error = data.get("error", data.get("detail"))
        if isinstance(error, dict):
            return str(error.get("message") or error)
        if error is not None:
            return str(error)[:200]
    return text[:200]
