"""Who is on the other end of a loopback TCP connection: the user id owning the client's
socket, read from the kernel's socket tables (``/proc/net/tcp``, ``/proc/net/tcp6``; Linux).
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))

Address = tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]


def can_identify_peers() -> bool:
    """Whether this system exposes socket owners (Linux)."""
    return _TABLES[0].exists()


def _normalise(host: str, port: int) -> Address:
    address = ipaddress.ip_address(host.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address, port


def _parse(field: str) -> Address:
    """``0100007F:1F90`` (IPv4) or 32 hex digits (IPv6), each 32-bit word in host order."""
    hex_address, hex_port = field.split(":")
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return _normalise(socket.inet_ntop(family, words), int(hex_port, 16))


def peer_uid(connection: socket.socket) -> int | None:
    """The uid of the process side that owns the client end of ``connection``, if it is a
    socket on this machine and the system says (``None`` otherwise)."""
    try:
        peer = _normalise(*connection.getpeername()[:2])
        local = _normalise(*connection.getsockname()[:2])
    except (OSError, ValueError):
        return None
    for table in _TABLES:
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 8:
                continue
            try:
                if _parse(fields[1]) == peer and _parse(fields[2]) == local:
                    return int(fields[7])
            except ValueError:
                continue
    return None


def is_loopback(connection: socket.socket) -> bool:
    """Whether the client connected from this machine's loopback address."""
    try:
        return _normalise(*connection.getpeername()[:2])[0].is_loopback
    except (OSError, ValueError):
        return False
