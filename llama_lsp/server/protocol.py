"""JSON-RPC on top of pygls: every request gets exactly one reply, whatever arrives.

pygls drops a request silently when its params do not deserialise, when it arrives after
``shutdown``, or when its JSON cannot be parsed; and it puts Python tracebacks in error replies.
:class:`LlamaProtocol` takes each frame from :mod:`llama_lsp.server.framing`, validates it, and
answers what it cannot dispatch with the JSON-RPC / LSP error code:

- -32700 ParseError: not UTF-8 JSON (NaN and Infinity included), or nested too deep;
- -32600 InvalidRequest: not a JSON-RPC 2.0 request, a batch, a bad frame, after ``shutdown``;
- -32601 MethodNotFound, -32602 InvalidParams (params that do not match the method's type);
- -32002 ServerNotInitialized: before ``initialize``;
- -32603 InternalError: a handler failed (one line, no traceback; the traceback goes to the log).

The id of a request whose JSON cannot be parsed is looked for in its text, so even that
request is answered with its own id.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import re
from collections.abc import Generator
from concurrent.futures import Future
from typing import Any

import attrs
import cattrs
from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcParseError,
    JsonRpcRequestCancelled,
    JsonRpcServerNotInitialized,
)
from pygls.protocol import LanguageServerProtocol, default_converter
from pygls.protocol.language_server import lsp_method
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage

from llama_lsp.server.framing import Event, Frame, FramingError

logger = logging.getLogger(__name__)

MsgId = int | str
_KEY_ID = re.compile(r'"id"\s*:\s*(-?\d+(?![\d.eE])|"[^"\\]*(?:\\.[^"\\]*)*")')
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]]')
_MESSAGE_LIMIT = 300


class ParseFailure(ValueError):
    """A frame's body is not a JSON value this server can read."""


def _reject_constant(name: str) -> Any:
    raise ParseFailure(f"{name} is not JSON")


def parse_body(body: bytes) -> Any:
    """The JSON value in ``body``; :class:`ParseFailure` with a one-line reason otherwise."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as error:
        raise ParseFailure(f"the message is not UTF-8 ({error.reason} at byte "
                           f"{error.start})") from None
    except RecursionError:
        raise ParseFailure("the message is nested too deeply") from None
    except json.JSONDecodeError as error:
        raise ParseFailure(f"the message is not JSON ({error.msg} at character "
                           f"{error.pos})") from None


def find_request_id(body: bytes) -> MsgId | None:
    """The top-level ``"id"`` of a JSON object that may be truncated or broken, if found."""
    text = body.decode("utf-8", "replace")
    depth = 0
    for token in _TOKENS.finditer(text):
        value = token.group()
        if value in "{[":
            depth += 1
        elif value in "}]":
            depth -= 1
        elif depth == 1 and value == '"id"':
            found = _KEY_ID.match(text, token.start())
            if found is not None:
                raw = found.group(1)
                return int(raw) if raw[0] != '"' else json.loads(raw)
    return None


def _valid_id(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= _MESSAGE_LIMIT else line[:_MESSAGE_LIMIT - 3] + "..."


def describe_invalid_params(error: BaseException) -> str:
    """What is wrong with a request's params, in one line (cattrs paths, no traceback)."""
    if isinstance(error, cattrs.BaseValidationError):
        problems = cattrs.transform_error(error, path="")
        return _one_line("; ".join(problems[:3]))
    if isinstance(error, RecursionError):
        return "the params are nested too deeply"
    return _one_line(f"{type(error).__name__}: {error}")


def _strict_int(value: Any, cls: type) -> int:
    if issubclass(cls, bool):
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r:.40}")
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r:.40}")
    return cls(value) if issubclass(cls, enum.Enum) else value  # an enum checks its values


def _strict_str(value: Any, cls: type) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r:.40}")
    return cls(value) if issubclass(cls, enum.Enum) else value


def strict_converter() -> cattrs.Converter:
    """pygls's converter, except that numbers are not strings and strings are not numbers
    (cattrs would turn ``"3"`` into 3 and 5 into ``"5"``)."""
    converter = default_converter()
    converter.register_structure_hook(int, _strict_int)
    converter.register_structure_hook(str, _strict_str)
    return converter


class LlamaProtocol(LanguageServerProtocol):
    """pygls's LSP protocol with replies guaranteed (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._answered_at_shutdown: set[MsgId] = set()

    def receive(self, event: Event) -> None:
        """Handle one frame (or framing error) from the client."""
        if isinstance(event, FramingError):
            logger.warning("bad frame from the client: %s", event.reason)
            if event.body is not None:
                self._refuse_body(event.body, JsonRpcInvalidRequest(
                    _one_line(f"llama-lsp: bad frame: {event.reason}")))
            return
        assert isinstance(event, Frame)
        try:
            data = parse_body(event.body)
        except ParseFailure as failure:
            logger.warning("unreadable message: %s", failure)
            self._refuse_body(event.body, JsonRpcParseError(f"llama-lsp: {failure}"))
            return
        self.receive_value(data)

    def _refuse_body(self, body: bytes, error: JsonRpcException) -> None:
        msg_id = find_request_id(body)
        self._reply_error(msg_id, error)

    def receive_value(self, data: Any) -> None:
        """Dispatch one parsed JSON value, or answer why it cannot be dispatched."""
        if isinstance(data, list):
            self._refuse_batch(data)
            return
        if not isinstance(data, dict):
            self._reply_error(None, JsonRpcInvalidRequest(
                "llama-lsp: a message must be a JSON object"))
            return
        method = data.get("method")
        has_id = "id" in data
        msg_id = data.get("id")
        if "method" not in data:
            self._receive_response(data)
            return
        if has_id and not _valid_id(msg_id):
            self._reply_error(None, JsonRpcInvalidRequest(
                "llama-lsp: a request id must be a string or an integer"))
            return
        if not isinstance(method, str):
            self._refuse(msg_id if has_id else None, has_id, JsonRpcInvalidRequest(
                "llama-lsp: the method must be a string"))
            return
        if data.get("jsonrpc") != self.VERSION:
            self._refuse(msg_id, has_id, JsonRpcInvalidRequest(
                'llama-lsp: only JSON-RPC "2.0" messages are understood'))
            return
        if self._shutdown and method != types.EXIT:
            self._refuse(msg_id, has_id, JsonRpcInvalidRequest(
                f"llama-lsp: {method} after shutdown: the server only accepts exit now"))
            return
        if self._workspace is None and method not in (types.INITIALIZE, types.EXIT):
            self._refuse(msg_id, has_id, JsonRpcServerNotInitialized(
                f"llama-lsp: {method} before initialize: send 'initialize' first"))
            return
        if method == types.INITIALIZE and self._workspace is not None:
            self._refuse(msg_id, has_id, JsonRpcInvalidRequest(
                "llama-lsp: initialize was already received"))
            return
        message_type = self.get_message_type(method) or (
            JsonRPCRequestMessage if has_id else JsonRPCNotification)
        if has_id and "id" not in attrs.fields_dict(message_type):
            self._reply_error(msg_id, JsonRpcInvalidRequest(
                f"llama-lsp: {method} is a notification: send it without an id"))
            return
        try:
            message = self._converter.structure(data, message_type)
        except Exception as error:  # noqa: BLE001 - any params that do not fit the method
            reason = describe_invalid_params(error)
            self._refuse(msg_id, has_id, JsonRpcInvalidParams(
                _one_line(f"llama-lsp: invalid params for {method}: {reason}")))
            return
        self.handle_message(message)

    def _refuse(self, msg_id: MsgId | None, is_request: bool, error: JsonRpcException) -> None:
        """Answer a request with ``error``; log a notification that cannot be handled."""
        if is_request:
            self._reply_error(msg_id, error)
        else:
            logger.warning("notification ignored: %s", error.message)

    def _refuse_batch(self, items: list[Any]) -> None:
        error = JsonRpcInvalidRequest("llama-lsp: JSON-RPC batches are not supported in LSP")
        ids = [item.get("id") for item in items
               if isinstance(item, dict) and "method" in item and _valid_id(item.get("id"))]
        for msg_id in ids:
            self._reply_error(msg_id, error)
        if not ids:
            self._reply_error(None, error)

    def _receive_response(self, data: dict[str, Any]) -> None:
        """A reply to one of our requests (workspace/configuration, progress...)."""
        if not _valid_id(data.get("id")) or ("result" not in data and "error" not in data):
            logger.warning("ignored a message that is neither request nor response")
            return
        try:
            message = self.structure_message(data)
        except Exception as error:  # noqa: BLE001
            logger.warning("ignored an unreadable response: %s", describe_invalid_params(error))
            return
        self.handle_message(message)

    def _reply_error(self, msg_id: MsgId | None, error: JsonRpcException) -> None:
        if msg_id is None:  # lsprotocol would leave out the "id": null JSON-RPC asks for
            self._send_data({"jsonrpc": self.VERSION, "id": None, "error": {
                "code": error.code, "message": _one_line(error.message)}})
            return
        self._send_response(msg_id, error=error.to_response_error())

    def _send_response(self, msg_id: MsgId, result: Any | None = None,
                       error: types.ResponseError | None = None) -> None:
        """pygls's, with error messages cut to one line and no data (no tracebacks)."""
        if error is not None:
            error = types.ResponseError(code=error.code, message=_one_line(error.message))
        super()._send_response(msg_id, result, error)

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        """pygls's, over a copy of the requests in flight: cancelling one that runs on a
        thread answers it at once, which removes it from the dict pygls iterates."""
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        current_id = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current_id and not future.done():
                future.cancel()
                # A task sees its cancellation on a later loop turn, and a job running on a
                # thread cannot be cancelled: either could answer after ``exit``. Answer now.
                if self._request_futures.pop(msg_id, None) is not None:
                    self._answered_at_shutdown.add(msg_id)
                    self._reply_error(msg_id, JsonRpcRequestCancelled(
                        f"llama-lsp: request {msg_id} was cancelled by shutdown"))
        self._shutdown = True

    # -- replies ---------------------------------------------------------------------------

    def _send_handler_result(self, future: Future[Any], *, msg_id: MsgId) -> None:
        """Send a handler's result, or its failure as one line without a traceback."""
        if self._request_futures.pop(msg_id, None) is None and msg_id in self._answered_at_shutdown:
            self._answered_at_shutdown.discard(msg_id)
            return
        if future.cancelled():
            error: JsonRpcException = JsonRpcRequestCancelled(
                f"llama-lsp: request {msg_id} was cancelled")
        else:
            try:
                result = future.result()
            except asyncio.CancelledError:
                error = JsonRpcRequestCancelled(f"llama-lsp: request {msg_id} was cancelled")
            except JsonRpcException as failure:
                error = failure
            except Exception as failure:  # noqa: BLE001 - reported as InternalError
                logger.error("request %s failed", msg_id, exc_info=failure)
                error = JsonRpcInternalError(
                    _one_line(f"llama-lsp: internal error: {type(failure).__name__}: {failure}"))
            else:
                self._send_response(msg_id, result=result)
                return
        self._reply_error(msg_id, error)

    def _send_data(self, data: Any) -> None:
        """Serialise and write one message; a result that cannot be sent becomes an error."""
        if not data or self.writer is None:
            return
        try:
            body = json.dumps(data, default=self._serialize_message, allow_nan=False)
        except Exception as failure:  # noqa: BLE001
            logger.error("could not encode a message", exc_info=failure)
            msg_id = getattr(data, "id", None)
            if hasattr(data, "result") and _valid_id(msg_id):
                self._reply_error(msg_id, JsonRpcInternalError(
                    "llama-lsp: internal error: the result could not be encoded"))
            return
        encoded = body.encode(self.CHARSET)
        frame = b"Content-Length: %d\r\n\r\n%s" % (len(encoded), encoded)
        result = self.writer.write(frame)
        if asyncio.iscoroutine(result):
            asyncio.ensure_future(result)
