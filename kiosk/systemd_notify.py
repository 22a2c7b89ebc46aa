"""sd_notify without a dependency: tell systemd we are ready, alive, or what we are doing.

systemd passes `NOTIFY_SOCKET` to a `Type=notify` service (and `WATCHDOG_USEC`,
`WATCHDOG_PID` when the unit has `WatchdogSec=`). A notification is one datagram of
newline-separated `KEY=VALUE` lines sent to that AF_UNIX socket. An address starting with
'@' is a Linux abstract socket (the '@' stands for a leading NUL byte).

Every function here is a no-op returning False outside systemd (no NOTIFY_SOCKET), and never
raises: a kiosk must not stop because systemd could not be told something.

    notify_ready("showing the attract screen")   # first screen is up
    notify_watchdog()                             # from a healthy main loop (see kiosk.watchdog)
    notify_status("camera: no device")            # shown by `systemctl status`
    notify_stopping()                             # clean shutdown started
"""

from __future__ import annotations

import logging
import os
import socket
import typing

log = logging.getLogger(__name__)

ENV_SOCKET = "NOTIFY_SOCKET"
ENV_WATCHDOG_USEC = "WATCHDOG_USEC"
ENV_WATCHDOG_PID = "WATCHDOG_PID"
MAX_STATUS_CHARS = 200  # `systemctl status` shows one line; keep it short


def socket_address(environ: typing.Mapping[str, str] = os.environ) -> str | bytes | None:
    """The address to send to: a filesystem path, an abstract name (bytes with a leading
    NUL), or None when we are not under systemd / the value is unusable."""
    value = environ.get(ENV_SOCKET, "")
    if not value:
        return None
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    # vsock:CID:PORT (systemd >= 253, for VMs) and anything else: not for a kiosk.
    log.debug("unsupported %s=%r ignored", ENV_SOCKET, value)
    return None


def notify(*assignments: str, environ: typing.Mapping[str, str] = os.environ) -> bool:
    """Send `KEY=VALUE` assignments in one datagram. True when it was sent."""
    address = socket_address(environ)
    if address is None or not assignments:
        return False
    lines = []
    for item in assignments:
        if "=" not in item:
            raise ValueError(f"not a KEY=VALUE assignment: {item!r}")
        lines.append(item.replace("\n", " "))
    payload = ("\n".join(lines) + "\n").encode("utf-8", "replace")
    # Non-blocking: the watchdog pings from the UI thread, and a manager that does not read
    # (its queue full: 10 datagrams by default) must cost a lost ping, never a frozen screen.
    kind = socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK
    try:
        with socket.socket(socket.AF_UNIX, kind) as sock:
            sock.sendto(payload, address)
    except OSError as exc:
        log.debug("sd_notify to %r failed: %s", environ.get(ENV_SOCKET), exc)
        return False
    return True


def _status(text: str) -> str:
    text = " ".join(str(text).split())
    if len(text) > MAX_STATUS_CHARS:
        text = text[: MAX_STATUS_CHARS - 1] + "…"
    return f"STATUS={text}"


def notify_ready(status: str | None = None, environ: typing.Mapping[str, str] = os.environ) -> bool:
    """READY=1 (optionally with a STATUS line): ends `systemctl start` for Type=notify."""
    items = ["READY=1"]
    if status:
        items.append(_status(status))
    return notify(*items, environ=environ)


def notify_watchdog(environ: typing.Mapping[str, str] = os.environ) -> bool:
    """WATCHDOG=1: 'still alive'. Send only from a loop that is known to be healthy."""
    return notify("WATCHDOG=1", environ=environ)


def notify_watchdog_trigger(environ: typing.Mapping[str, str] = os.environ) -> bool:
    """WATCHDOG=trigger: ask systemd to treat us as hung now (restart via Restart=)."""
    return notify("WATCHDOG=trigger", environ=environ)


def notify_status(text: str, environ: typing.Mapping[str, str] = os.environ) -> bool:
    return notify(_status(text), environ=environ)


def notify_stopping(environ: typing.Mapping[str, str] = os.environ) -> bool:
    return notify("STOPPING=1", environ=environ)


def watchdog_timeout_s(
    environ: typing.Mapping[str, str] = os.environ, pid: int | None = None
) -> float | None:
    """The unit's WatchdogSec in seconds when the watchdog is meant for this process,
    else None. (systemd sets WATCHDOG_PID to the main PID; a child must not answer.)"""
    raw = environ.get(ENV_WATCHDOG_USEC, "")
    try:
        usec = int(raw)
    except ValueError:
        return None
    if usec <= 0:
        return None
    owner = environ.get(ENV_WATCHDOG_PID, "")
    if owner:
        try:
            if int(owner) != (os.getpid() if pid is None else pid):
                return None
        except ValueError:
            return None
    return usec / 1_000_000


def under_systemd(environ: typing.Mapping[str, str] = os.environ) -> bool:
    """True when there is a notification socket to talk to."""
    return socket_address(environ) is not None


__all__ = [
    "ENV_SOCKET",
    "ENV_WATCHDOG_PID",
    "ENV_WATCHDOG_USEC",
    "notify",
    "notify_ready",
    "notify_status",
    "notify_stopping",
    "notify_watchdog",
    "notify_watchdog_trigger",
    "socket_address",
    "under_systemd",
    "watchdog_timeout_s",
]
