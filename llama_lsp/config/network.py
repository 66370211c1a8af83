"""``--no-network`` / ``LLAMA_LSP_NO_NETWORK=1``: a process that cannot use the network.

A Python audit hook (PEP 578) refuses every network event of the process: opening an
internet socket, connecting, binding, sending to an address, resolving a host name, and the
standard library's HTTP, FTP and mail clients. Local sockets (``AF_UNIX``: the event loop's
self-pipe) stay allowed. A refused event raises :class:`NetworkBlocked` and is reported on
stderr. Audit hooks cannot be removed: once on, it stays on for the life of the process.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Mapping
from typing import Any

NO_NETWORK_ENV = "LLAMA_LSP_NO_NETWORK"
_TRUE = ("1", "true", "yes", "on")

# Events that are network use whatever their arguments.
ALWAYS_NETWORK = frozenset({
    "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
    "socket.getnameinfo", "urllib.Request", "http.client.connect", "ftplib.connect",
    "smtplib.connect", "poplib.connect", "imaplib.open", "nntplib.connect",
    "telnetlib.Telnet.open", "webbrowser.open",
})
# Events whose second argument is an address: network unless it is a local (AF_UNIX) path.
ADDRESS_EVENTS = frozenset({"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"})

_installed = False


class NetworkBlocked(PermissionError):
    """A network operation in a process that may not use the network."""


def requested(environ: Mapping[str, str] = os.environ) -> bool:
    """True when ``LLAMA_LSP_NO_NETWORK`` asks for no network."""
    return environ.get(NO_NETWORK_ENV, "").strip().lower() in _TRUE


def forbidden() -> bool:
    """True when this process may not use the network (the hook is on, or asked for)."""
    return _installed or requested()


def network_event(event: str, args: tuple[Any, ...]) -> str | None:
    """A description of ``event`` when it is network use, else None."""
    if event in ALWAYS_NETWORK:
        return f"{event} {args[:2]!r}"
    if event == "socket.__new__":
        family = args[1] if len(args) > 1 else None
        if family not in (getattr(socket, "AF_UNIX", None), -1):  # -1: from a file descriptor
            return f"{event} (family {family})"
        return None
    if event in ADDRESS_EVENTS:
        address = args[1] if len(args) > 1 else None
        if address is not None and not isinstance(address, (str, bytes)):
            return f"{event} {address!r}"
    return None


def refusal(what: str) -> str | None:
    """The message refusing ``what`` (e.g. "the openai backend") when the network is off."""
    if not forbidden():
        return None
    return (f"{what} needs the network, and network access is off (--no-network or "
            f"{NO_NETWORK_ENV}=1); use the embedded model, or run without that option")


def forbid_network(report: Callable[[str], None] | None = None) -> None:
    """Install the audit hook (once) and mark the environment, so child processes inherit it."""
    global _installed
    os.environ[NO_NETWORK_ENV] = "1"
    if _installed:
        return
    say = report or (lambda message: print(message, file=sys.stderr, flush=True))

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if not event.startswith(("socket.", "urllib.", "http.", "ftplib.", "smtplib.",
                                 "poplib.", "imaplib.", "nntplib.", "telnetlib.",
                                 "webbrowser.")):
            return
        described = network_event(event, args)
        if described is not None:
            message = f"llama-lsp: network access is off ({NO_NETWORK_ENV}): refused {described}"
            say(message)
            raise NetworkBlocked(message)

    sys.addaudithook(hook)
    _installed = True
