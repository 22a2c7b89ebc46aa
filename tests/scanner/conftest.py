"""Fixtures for scanner tests: replay folders and videos written to tmp dirs."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from tests.scanner.helpers import blank_frame, qr_frame, write_video


@pytest.fixture
def replay_folder(tmp_path: Path) -> Path:
    """Four frames: two with code A, one blank, one with code B (names sort in that order)."""
    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "f0.png"), qr_frame("HTTPS://OCOP.SONLA.GOV.VN/S/AAAA", noise_seed=1))
    cv2.imwrite(str(folder / "f1.png"), qr_frame("HTTPS://OCOP.SONLA.GOV.VN/S/AAAA", noise_seed=2))
    cv2.imwrite(str(folder / "f2.png"), blank_frame(3))
    cv2.imwrite(
        str(folder / "f3.png"),
        qr_frame("HTTPS://OCOP.SONLA.GOV.VN/S/BBBB", at=(300, 200), noise_seed=4),
    )
    (folder / "notes.txt").write_text("not an image")
    return folder


@pytest.fixture
def replay_video(tmp_path: Path) -> Path:
    frames = (
        [blank_frame(i) for i in range(3)]
        + [qr_frame("HTTPS://OCOP.SONLA.GOV.VN/S/VIDEO1", noise_seed=10 + i) for i in range(4)]
        + [blank_frame(20 + i) for i in range(2)]
        + [
            qr_frame("HTTPS://OCOP.SONLA.GOV.VN/S/VIDEO2", at=(250, 150), noise_seed=30 + i)
            for i in range(3)
        ]
    )
    return write_video(tmp_path / "clip.avi", frames)
