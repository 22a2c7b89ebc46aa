"""Real headless Chromium (Debian's /usr/bin/chromium) driven over the DevTools protocol on
a pipe (--remote-debugging-pipe: NUL-separated JSON on fds 3 and 4), with no extra Python
package. Enough for tests that play a person in a browser: open a page, wait, read it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless=new",
    "--no-sandbox",  # tests run as root in a container
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--remote-debugging-pipe",
]


def available() -> bool:
    return Path(CHROMIUM).exists()


class Browser:
    def __init__(self, proc: subprocess.Popen, to_chrome: int, from_chrome: int):
        self.proc, self._out, self._in = proc, os.fdopen(to_chrome, "wb"), from_chrome
        self._next_id, self._buffer = 0, b""
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        message: dict = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._out.write(json.dumps(message).encode() + b"\0")
        self._out.flush()
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def _read(self, timeout_s: float = 30) -> dict:
        deadline = time.monotonic() + timeout_s
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("chromium did not answer")
            self._buffer += os.read(self._in, 65536)
        raw, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(raw)

    def new_page(self) -> str:
        """A new tab; returns its session id."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        sid = session["sessionId"]
        self.send("Page.enable", session=sid)
        self.send("Runtime.enable", session=sid)
        return sid

    def goto(self, sid: str, url: str, settle_s: float = 1.0) -> None:
        self.send("Page.navigate", {"url": url}, session=sid)
        time.sleep(settle_s)  # the page and anything it submits by itself

    def evaluate(self, sid: str, expression: str):
        result = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=sid
        )
        return result.get("result", {}).get("value")


@contextlib.contextmanager
def launch():
    profile = tempfile.mkdtemp(prefix="ocop-chromium-")
    to_r, to_w = os.pipe()  # we write, chromium reads fd 3
    from_r, from_w = os.pipe()  # chromium writes fd 4, we read

    def fds():  # in the child: its protocol pipes on fds 3 and 4
        a, b = os.dup(to_r), os.dup(from_w)
        os.dup2(a, 3)
        os.dup2(b, 4)

    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=fds,
        close_fds=False,
    )
    os.close(to_r)
    os.close(from_w)
    browser = Browser(proc, to_w, from_r)
    try:
        yield browser
    finally:
        with contextlib.suppress(Exception):
            browser.send("Browser.close")
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        os.close(from_r)
        shutil.rmtree(profile, ignore_errors=True)
