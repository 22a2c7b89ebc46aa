"""glibc malloc settings and housekeeping for a kiosk that runs for months (measured with
bench/ui.py on llvmpipe; docs/ui.md, "Performance").

- At most 2 arenas (MALLOC_ARENA_MAX=2, usual on small devices): glibc allows 8 per core,
  and memory a thread frees stays in that thread's arena.
- Blocks of 1 MiB or more always come from mmap (MALLOC_MMAP_THRESHOLD_=1 MiB). glibc
  otherwise raises the threshold each time a big mmapped block is freed, after which the
  multi-megabyte buffers of camera frames, pictures and the GL driver are carved from the
  heap and stay there when freed: in ~1 run of 3, 25 MB were held free in the heap after
  a shopper's visit (RSS 251 instead of 231 MB). With the fixed threshold: 228-229 MB in
  10 of 10 runs, same frame rate.
- release_free_heap(): malloc_trim(0) when nobody waits (the idle return to attract, and
  hourly on the attract screen). 4,000 browse picks (48,000 list buttons made and dropped)
  left 24 MB free in the heap; malloc_trim gave back 21 MB in 3 ms.

glibc reads the MALLOC_* variables only at exec (the systemd unit sets them);
tune_malloc() applies the same with mallopt() before any thread starts, unless the
variable is set. Not glibc (musl, macOS): nothing happens.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Mapping

# mallopt() parameters (malloc.h): (environment variable, parameter, value, name for logs)
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MALLOC_SETTINGS = (
    ("MALLOC_ARENA_MAX", M_ARENA_MAX, 2, "malloc_arena_max"),
    ("MALLOC_MMAP_THRESHOLD_", M_MMAP_THRESHOLD, 1 << 20, "malloc_mmap_threshold"),
)

_libc_cache: list = []


def _libc():
    if not _libc_cache:
        try:
            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
            libc.malloc_trim.argtypes = [ctypes.c_size_t]
        except (OSError, AttributeError):
            libc = None
        _libc_cache.append(libc)
    return _libc_cache[0]


def tune_malloc(environ: Mapping[str, str] = os.environ) -> dict[str, int]:
    """Apply MALLOC_SETTINGS the environment does not set; returns what was applied."""
    libc = _libc()
    applied: dict[str, int] = {}
    if libc is None or environ.get("OCOP_KIOSK_MALLOC_TUNING") == "0":  # 0: for measuring
        return applied
    for variable, parameter, value, name in MALLOC_SETTINGS:
        if variable not in environ and libc.mallopt(parameter, value) == 1:
            applied[name] = value
    return applied


def release_free_heap() -> bool:
    """malloc_trim(0): True when glibc returned memory to the system."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
