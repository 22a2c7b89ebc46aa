"""The scan screen's hint ("bring the stamp closer" / "hold it still") on real QR photos
(tests/data/qr-photos, see SOURCE.md) made far away or blurred the way a hand-held stamp is:
the live decode pipeline must locate the code it cannot read, and the words must match why.

Measured on the 97 photos (scaled to 640 px, like a camera frame): shrunk to 18% -> 58 read,
13 hints, 26 silent; a 9 px horizontal motion blur -> 82 read, 5 hints, 10 silent. Most
unreadable frames give no hint at all (zxing-cpp finds no finder patterns either): see
docs/scanning.md."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.viewmodels import SMALL_CODE_PX, scan_hint_text
from scanner.decoders import DecodePipeline
from tests.scanner.helpers import PHOTOS

CLOSER = "Bring the stamp closer to the camera"
STILL = "Hold the stamp still, the picture is blurred"


def camera_sized(path) -> np.ndarray:
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    scale = 640 / max(gray.shape)
    return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def far_away(gray: np.ndarray) -> np.ndarray:
    return cv2.resize(gray, None, fx=0.18, fy=0.18, interpolation=cv2.INTER_AREA)


def moving(gray: np.ndarray, length_px: int = 9) -> np.ndarray:
    kernel = np.zeros((length_px, length_px))
    kernel[length_px // 2, :] = 1.0 / length_px
    return cv2.filter2D(gray, -1, kernel)


def hints_for(transform) -> list[tuple[np.ndarray, object]]:
    pipeline = DecodePipeline()  # the live pipeline, with its per-frame budget
    found = []
    for path in sorted(PHOTOS.glob("qrcode-*/*.png")):
        frame = transform(camera_sized(path))
        result = pipeline.decode(frame)
        if not result.codes and result.hint is not None:
            found.append((frame, result.hint))
    return found


def hint_width_px(hint) -> float:
    xs = [x for x, _y in hint.quad]
    return max(xs) - min(xs)


@pytest.mark.parametrize(
    "transform, words, at_least",
    [(far_away, CLOSER, 8), (moving, STILL, 3)],
    ids=["far away", "moving"],
)
def test_real_photos_get_the_hint_that_matches_why(transform, words, at_least):
    found = hints_for(transform)
    assert len(found) >= at_least
    for frame, hint in found:  # the located code is inside the frame
        h, w = frame.shape
        assert all(-1 <= x <= w + 1 and -1 <= y <= h + 1 for x, y in hint.quad)
    said = [scan_hint_text(hint_width_px(hint), "en") for _frame, hint in found]
    assert said.count(words) >= 0.75 * len(said), said
    assert all(text in (CLOSER, STILL) for text in said)


def test_the_size_rule_is_what_the_hint_uses():
    assert scan_hint_text(SMALL_CODE_PX - 1, "en") == CLOSER
    assert scan_hint_text(SMALL_CODE_PX + 1, "en") == STILL
    assert scan_hint_text(None, "en") == STILL
    assert scan_hint_text(SMALL_CODE_PX - 1, "vi") != CLOSER  # translated
