"""How `ocop-registry serve` runs uvicorn: h11 with a header deadline.

uvicorn's keep-alive timer is cancelled by the first byte a client sends, and a new
connection has no timer at all, so a client that opens connections and trickles half a
header line holds them for ever (slowloris). TimedH11Protocol closes a connection whose
request headers are not complete within HttpTimeouts.header_s of the connection opening
or of the previous reply. The body has its own deadline (middleware.BodyTimeoutMiddleware);
idle keep-alive connections close after keep_alive_s; headers are capped at
max_header_bytes (h11: 400 beyond).

`serve --workers N` forks N processes that each run uvicorn on the one listening socket
(fork_workers). Forked rather than uvicorn's own --workers (which spawns fresh interpreters
that import the app by name): the app, its config and this protocol class are built once,
after migrations, keys and demo set-up ran once in the parent.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from registry.config import HttpTimeouts


class TimedH11Protocol(H11Protocol):
    header_timeout_s = HttpTimeouts().header_s  # set per server by uvicorn_config

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._waiting_for = self.cycle  # the request before the one whose headers we await
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._header_timeout)

    def _cancel_header_timer(self) -> None:
        if getattr(self, "_header_timer", None) is not None:
            self._header_timer.cancel()  # type: ignore[union-attr]
            self._header_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        if self.cycle is self._waiting_for and not self.transport.is_closing():
            self.transport.close()  # no complete request headers in time

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not self._waiting_for:  # a new request's headers are complete
            self._cancel_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        idle = self.cycle is not None and self.cycle.response_complete  # not pipelined
        if idle and self._header_timer is None and not self.transport.is_closing():
            self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)


def uvicorn_config(app, timeouts: HttpTimeouts, log_level: str) -> uvicorn.Config:
    protocol = type(
        "RegistryH11Protocol", (TimedH11Protocol,), {"header_timeout_s": timeouts.header_s}
    )
    return uvicorn.Config(
        app,
        http=protocol,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=3,
        timeout_keep_alive=max(1, round(timeouts.keep_alive_s)),
        h11_max_incomplete_event_size=timeouts.max_header_bytes,
        # uvicorn would believe X-Forwarded-For from 127.0.0.1 by default; whom to believe
        # is config.trusted_proxies (registry/views.client_address).
        proxy_headers=False,
    )


def fork_workers(config: uvicorn.Config, sock: socket.socket, workers: int) -> list[int]:
    """Fork `workers` processes that run uvicorn on `sock`; returns their pids. Call with
    no database connections open (they must not be shared across fork) and no threads
    started yet."""
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # the worker: uvicorn installs its own signal handlers
            code = 1
            try:
                uvicorn.Server(config).run(sockets=[sock])
                code = 0
            finally:
                logging.shutdown()
                os._exit(code)  # never the parent's atexit handlers (demo folder removal)
        children.append(pid)
    return children


def supervise_workers(children: list[int]) -> int:
    """Wait for the workers until SIGTERM/SIGINT (passed on to them) or until one exits
    (the others are then stopped: a supervisor such as systemd restarts the service).
    Returns 0, or 1 when a worker failed."""
    children = list(children)

    def stop(*_args) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):  # already gone
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    failed = False
    while children:
        pid, status = os.wait()
        if pid in children:
            children.remove(pid)
            failed = failed or os.waitstatus_to_exitcode(status) != 0
            stop()
    return 1 if failed else 0


def freeze_startup_heap() -> None:
    """Move every object made so far (modules, the app, its routes: ~140,000) out of the
    garbage collector's reach before serving. A full collection otherwise walks all of them:
    measured in-process on the stamp page, one every ~8,000 requests, each 200-320 ms with
    the event loop stopped (a tail latency the page's p99 cannot hide). Called before the
    fork, so the workers also keep these pages shared (a collection writes to every object
    it visits)."""
    gc.collect()
    gc.freeze()


__all__ = [
    "TimedH11Protocol",
    "fork_workers",
    "freeze_startup_heap",
    "supervise_workers",
    "uvicorn_config",
]
