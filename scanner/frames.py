"""The unit that flows from a frame source to the preview and the decode worker."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # BGR (or grey) uint8, as the source delivered it; never modified
    timestamp_s: float  # time.monotonic() when captured
    seq: int  # 0, 1, 2, ... per capture thread; gaps seen by the worker = dropped frames
