"""What the benches measure of a kiosk process: the environment of an offscreen Kivy child,
its memory (RSS, RSS by kind of mapping, what malloc holds freed), open files, threads and
drawn frames. Used by bench/ui.py (inside each child) and bench/soak.py (from outside, on
the app's pid, and inside it through bench/soak_probe.py).

`pid` is "self" (this process) or a process id: /proc/<pid>/... is read, nothing else.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

# A Kivy child with no display: SDL's offscreen driver, Kivy's defaults, logs through Python.
ENV = {
    "SDL_VIDEODRIVER": "offscreen",
    "KIVY_NO_ARGS": "1",
    "KIVY_NO_CONSOLELOG": "1",
    "KIVY_NO_FILELOG": "1",
    "KIVY_USE_DEFAULTCONFIG": "1",
    "KIVY_LOG_MODE": "PYTHON",
    "KIVY_CLIPBOARD": "sdl2",
}
GL_LIBS = re.compile(r"libLLVM|_dri\.so|libgallium|libglapi|libEGL_mesa|libGLX_mesa")


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_parts_mb(pid: int | str = "self") -> dict:
    """RSS by kind of mapping (/proc/PID/smaps): the GL driver's code (Mesa + LLVM, file
    pages), other files (Python, numpy, OpenCV, Kivy... libraries), the malloc heap of
    the main arena, and the other anonymous memory (Python's object arenas, other malloc
    arenas, thread stacks, JIT code)."""
    parts = {"gl_code": 0, "files": 0, "heap": 0, "anon": 0}
    kind = "anon"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            fields = line.split()
            name = fields[5] if len(fields) > 5 else ""
            kind = (
                "heap"
                if name == "[heap]"
                else "gl_code"
                if GL_LIBS.search(name)
                else "files"
                if name.startswith("/")
                else "anon"
            )
        elif line.startswith("Rss:"):
            parts[kind] += int(line.split()[1])
    return {k: v / 1024 for k, v in parts.items()}


def open_fds(pid: int | str = "self") -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def thread_count(pid: int | str = "self") -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def malloc_free_mb() -> float:
    """Memory glibc holds freed in its arenas (mallinfo2, all arenas) of THIS process:
    kiosk.heap can give it back."""
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_size_t)
            for name in (
                "arena",
                "ordblks",
                "smblks",
                "hblks",
                "hblkhd",
                "usmblks",
                "fsmblks",
                "uordblks",
                "fordblks",
                "keepcost",
            )
        ]

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = MallInfo2
    except (OSError, AttributeError):
        return float("nan")
    return libc.mallinfo2().fordblks / 2**20


def flip_counter() -> dict:
    """Counts the frames the window really draws (Window.on_flip; Kivy skips the draw when
    nothing changed): {"n": frames so far, "first": time.time() of the first}."""
    from kivy.core.window import Window

    flips = {"n": 0}

    def flip(*_):
        flips["n"] += 1
        flips.setdefault("first", time.time())

    Window.bind(on_flip=flip)
    return flips
