"""The unit that flows from a frame source to the preview and the decode worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias, cast

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from cv2.typing import MatLike

# 8-bit pixels: BGR (h, w, 3), BGRA (h, w, 4) or grey (h, w).
Pixels: TypeAlias = NDArray[np.uint8]


def as_pixels(image: MatLike) -> Pixels:
    """An image OpenCV returned, typed as what it is here.

    OpenCV's stubs type every image as MatLike (any integer or float dtype); the ones this
    package gets are 8-bit by construction (IMREAD_COLOR, V4L2 captures, cvtColor / resize /
    threshold / CLAHE of 8-bit input). Only the static type changes: no copy, no check."""
    return cast(Pixels, image)


@dataclass(frozen=True)
class Frame:
    image: Pixels  # as the source delivered it; never modified
    timestamp_s: float  # time.monotonic() when captured
    seq: int  # 0, 1, 2, ... per capture thread; gaps seen by the worker = dropped frames
