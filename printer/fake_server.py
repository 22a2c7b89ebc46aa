"""A fake ESC/POS network printer: a real TCP server with switchable faults.

Run it::

    python -m printer.fake_server --port 9100 --control-port 9101 --store /tmp/fakeprinter

It prints one JSON line on stdout once it listens, e.g.
``{"port": 9100, "control_port": 9101, "pid": 1234}`` (``--port 0`` picks a free port), then
serves until SIGTERM/SIGINT or a ``quit`` control command.

Printer port: stores every byte it receives (``DIR/conn-000001.bin``, one file per
connection, plus memory), parses the stream like a printer (so raster data is never mistaken
for commands) and answers ``DLE EOT n`` with the status bytes a real printer sends.

Control port: one JSON object per line in, one JSON line out::

    {"cmd": "set", "paper_out": true}      faults: offline, paper_out, paper_near_end,
                                            cover_open, silent (never answers status),
                                            drop_after_bytes (int or null: reset the
                                            connection after K bytes, each connection)
    {"cmd": "reset"}                        all faults off (received data kept)
    {"cmd": "clear"}                        forget received data and counters
    {"cmd": "stats"}                        counters and current faults
    {"cmd": "received"}                     all received bytes, base64 (optional "conn": i)
    {"cmd": "quit"}

From Python use :class:`FakePrinterProcess` (starts the subprocess, parses its ports) and
:class:`FakePrinterControl`.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from printer.raster_decode import StreamParser
from printer.status import status_bytes

FAULT_FLAGS = ("offline", "paper_out", "paper_near_end", "cover_open", "silent")

# A control request or reply: one JSON object.
Json = dict[str, Any]


class FakePrinterState:
    def __init__(self, store_dir: Path | None) -> None:
        self.lock = threading.Lock()
        self.store_dir = store_dir
        self.faults: dict[str, bool] = {}  # FAULT_FLAGS
        self.drop_after_bytes: int | None = None
        self.connections: list[bytearray] = []
        self.status_queries = 0
        self.drops = 0
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.faults = dict.fromkeys(FAULT_FLAGS, False)
            self.drop_after_bytes = None

    def clear(self) -> None:
        with self.lock:
            self.connections = []
            self.status_queries = 0
            self.drops = 0
            # connection numbers start again at 1: stale files of longer runs would be
            # taken for the newest ones
            if self.store_dir is not None:
                for stale in self.store_dir.glob("conn-*.bin"):
                    stale.unlink()

    def new_connection(self) -> tuple[int, Path | None]:
        with self.lock:
            self.connections.append(bytearray())
            index = len(self.connections) - 1
        path = None
        if self.store_dir is not None:
            path = self.store_dir / f"conn-{index + 1:06d}.bin"
            path.write_bytes(b"")
        return index, path

    def snapshot(self) -> Json:
        with self.lock:
            return {
                "faults": {**self.faults, "drop_after_bytes": self.drop_after_bytes},
                "connections": len(self.connections),
                "bytes": [len(c) for c in self.connections],
                "total_bytes": sum(len(c) for c in self.connections),
                "status_queries": self.status_queries,
                "drops": self.drops,
            }


class _PrinterHandler(socketserver.BaseRequestHandler):
    server: _PrinterServer

    def handle(self) -> None:
        state = self.server.state
        sock: socket.socket = self.request
        index, path = state.new_connection()
        parser = StreamParser()
        received = 0
        out = open(path, "ab") if path else None  # noqa: SIM115 - closed in the finally below
        try:
            while True:
                try:
                    chunk = sock.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                with state.lock:
                    limit = state.drop_after_bytes
                    drop = limit is not None and received + len(chunk) >= limit
                    if drop and limit is not None:
                        chunk = chunk[: max(0, limit - received)]
                    state.connections[index] += chunk
                received += len(chunk)
                if out:
                    out.write(chunk)
                    out.flush()
                replies = bytearray()
                for cmd in parser.feed(chunk):
                    if cmd.name != "status_query":
                        continue
                    with state.lock:
                        state.status_queries += 1
                        faults = dict(state.faults)
                    if faults["silent"]:
                        continue
                    table = status_bytes(
                        offline=faults["offline"],
                        paper_out=faults["paper_out"],
                        paper_near_end=faults["paper_near_end"],
                        cover_open=faults["cover_open"],
                    )
                    if cmd.status_n in table:
                        replies.append(table[cmd.status_n])
                if drop:
                    with state.lock:
                        state.drops += 1
                    # RST instead of FIN: what a printer that loses power or link looks like.
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                if replies:
                    try:
                        sock.sendall(bytes(replies))
                    except OSError:
                        return
        finally:
            if out:
                out.close()


class _PrinterServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], state: FakePrinterState) -> None:
        self.state = state
        super().__init__(addr, _PrinterHandler)


class _ControlHandler(socketserver.StreamRequestHandler):
    server: _ControlServer

    def handle(self) -> None:
        for line in self.rfile:
            line = line.strip()
            if not line:
                continue
            try:
                reply = self.server.owner.control(json.loads(line))
            except Exception as e:  # noqa: BLE001 - report any bad request to the caller
                reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
            self.wfile.write(json.dumps(reply).encode() + b"\n")
            self.wfile.flush()
            if reply.get("quitting"):
                threading.Thread(target=self.server.owner.shutdown, daemon=True).start()
                return


class _ControlServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], owner: FakePrinterServer) -> None:
        self.owner = owner
        super().__init__(addr, _ControlHandler)


class FakePrinterServer:
    """The server itself (threads in this process).  Tests normally use the subprocess."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        control_port: int = 0,
        store_dir: Path | None = None,
    ) -> None:
        if store_dir is not None:
            store_dir.mkdir(parents=True, exist_ok=True)
        self.state = FakePrinterState(store_dir)
        self.printer = _PrinterServer((host, port), self.state)
        self.control_server = _ControlServer((host, control_port), self)
        self._threads: list[threading.Thread] = []
        self.stopped = threading.Event()

    @property
    def port(self) -> int:
        return _bound_port(self.printer)

    @property
    def control_port(self) -> int:
        return _bound_port(self.control_server)

    def start(self) -> FakePrinterServer:
        for srv in (self.printer, self.control_server):
            t = threading.Thread(
                target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
            )
            t.start()
            self._threads.append(t)
        return self

    def shutdown(self) -> None:
        for srv in (self.printer, self.control_server):
            srv.shutdown()
            srv.server_close()
        self.stopped.set()

    def control(self, req: Json) -> Json:
        cmd = req.get("cmd")
        st = self.state
        if cmd == "set":
            updates = {k: v for k, v in req.items() if k != "cmd"}
            unknown = set(updates) - set(FAULT_FLAGS) - {"drop_after_bytes"}
            if unknown:
                return {"ok": False, "error": f"unknown fault(s): {sorted(unknown)}"}
            with st.lock:
                for k, v in updates.items():
                    if k == "drop_after_bytes":
                        st.drop_after_bytes = None if v is None else int(v)
                    else:
                        st.faults[k] = bool(v)
            return {"ok": True, **st.snapshot()}
        if cmd == "reset":
            st.reset()
            return {"ok": True, **st.snapshot()}
        if cmd == "clear":
            st.clear()
            return {"ok": True, **st.snapshot()}
        if cmd == "stats":
            return {"ok": True, **st.snapshot()}
        if cmd == "received":
            with st.lock:
                conn = req.get("conn")
                if conn is None:
                    data = b"".join(st.connections)
                else:
                    data = bytes(st.connections[int(conn)])
            return {"ok": True, "data": base64.b64encode(data).decode()}
        if cmd == "quit":
            return {"ok": True, "quitting": True}
        return {"ok": False, "error": f"unknown cmd {cmd!r}"}


# --------------------------------------------------------------------------------------
# Client side: start the process, talk to its control port
# --------------------------------------------------------------------------------------


class FakePrinterControl:
    """Client for the control port (one short connection per call)."""

    def __init__(self, host: str, port: int, timeout_s: float = 5.0) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s

    def call(self, cmd: str, **kwargs: object) -> Json:
        with socket.create_connection((self.host, self.port), timeout=self.timeout_s) as s:
            s.sendall(json.dumps({"cmd": cmd, **kwargs}).encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                buf += chunk
        reply: Json = json.loads(buf)
        if not reply.get("ok"):
            raise RuntimeError(f"fake printer control: {reply.get('error')}")
        return reply

    def set(self, **faults: bool | int | None) -> Json:
        """E.g. ``set(paper_out=True)``, ``set(drop_after_bytes=5000)``, ``set(silent=True)``."""
        return self.call("set", **faults)

    def reset(self) -> Json:
        return self.call("reset")

    def clear(self) -> Json:
        return self.call("clear")

    def stats(self) -> Json:
        return self.call("stats")

    def received(self, conn: int | None = None) -> bytes:
        return base64.b64decode(self.call("received", conn=conn)["data"])

    def quit(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.call("quit")


class FakePrinterProcess:
    """Start ``python -m printer.fake_server`` as a child process on free ports.

    >>> with FakePrinterProcess() as fake:
    ...     printer = Printer(fake.uri + "?timeout=1")
    ...     fake.control.set(paper_out=True)
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        store_dir: Path | str | None = None,
        port: int = 0,
        control_port: int = 0,
        start_timeout_s: float = 15.0,
    ) -> None:
        self.host = host
        self.store_dir = Path(store_dir) if store_dir else None
        self._args = [
            sys.executable,
            "-m",
            "printer.fake_server",
            "--host",
            host,
            "--port",
            str(port),
            "--control-port",
            str(control_port),
        ]
        if self.store_dir:
            self._args += ["--store", str(self.store_dir)]
        self.start_timeout_s = start_timeout_s
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self.control_port = 0
        self.control: FakePrinterControl | None = None

    @property
    def uri(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def start(self) -> FakePrinterProcess:
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen(self._args, stdout=subprocess.PIPE, env=env, text=True)
        assert self.proc.stdout is not None  # stdout=PIPE
        line = _readline_with_timeout(self.proc.stdout, self.start_timeout_s)
        if not line:
            self.stop()
            raise RuntimeError("fake printer did not start")
        info = json.loads(line)
        self.port, self.control_port = info["port"], info["control_port"]
        self.control = FakePrinterControl(self.host, self.control_port)
        return self

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None

    def __enter__(self) -> FakePrinterProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _bound_port(server: socketserver.TCPServer) -> int:
    port: int = server.server_address[1]  # (host, port), also for IPv6's 4-tuple
    return port


def _readline_with_timeout(stream: IO[str], timeout_s: float) -> str:
    result: list[str] = []
    t = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)
    t.start()
    t.join(timeout_s)
    return result[0] if result else ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m printer.fake_server", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9100, help="printer port (0: pick a free one)")
    ap.add_argument("--control-port", type=int, default=0, help="control port (0: pick a free one)")
    ap.add_argument("--store", type=Path, default=None, help="folder for conn-NNNNNN.bin files")
    for flag in FAULT_FLAGS:
        option = f"--{flag.replace('_', '-')}"
        ap.add_argument(option, action="store_true", help=f"start with {flag} set")
    ap.add_argument("--drop-after-bytes", type=int, default=None)
    args = ap.parse_args(argv)

    server = FakePrinterServer(args.host, args.port, args.control_port, args.store)
    for flag in FAULT_FLAGS:
        if getattr(args, flag):
            server.state.faults[flag] = True
    server.state.drop_after_bytes = args.drop_after_bytes
    server.start()

    def on_signal(signum: int, frame: object) -> None:
        server.stopped.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sys.stdout.write(
        json.dumps({"port": server.port, "control_port": server.control_port, "pid": os.getpid()})
        + "\n"
    )
    sys.stdout.flush()
    server.stopped.wait()
    with contextlib.suppress(Exception):  # already shut down by "quit"
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
