"""scan_paths: what the `ocop-kiosk scan` command is built on."""

from __future__ import annotations

from scanner.files import FileScan, ScanError, scan_paths
from tests.scanner.helpers import PHOTOS


def test_images_folder_video_and_unreadable_inputs_in_order(tmp_path, replay_folder, replay_video):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG but not really")
    photo = PHOTOS / "qrcode-1" / "1.png"
    results = list(scan_paths([photo, tmp_path / "missing.jpg", bad, replay_folder, replay_video]))
    kinds = [type(r).__name__ for r in results]
    assert kinds == [
        "FileScan",
        "ScanError",
        "ScanError",
        "FileScan",
        "FileScan",
        "FileScan",
        "FileScan",
        "FileScan",
        "FileScan",
    ]
    assert results[0].texts == ["MEBKM:URL:http\\://en.wikipedia.org/wiki/Main_Page;;"]
    assert results[0].decode_ms > 0
    assert results[1].message == "no such file or folder"
    assert results[2].message == "not a readable image"
    folder = results[3:7]
    assert [r.input.rsplit("/", 1)[-1] for r in folder] == ["f0.png", "f1.png", "f2.png", "f3.png"]
    assert folder[2].codes == ()  # a readable image with no code is a result, not an error
    video = results[7:]
    assert [(r.texts, r.frame_index) for r in video] == [
        (["HTTPS://OCOP.SONLA.GOV.VN/S/VIDEO1"], 3),
        (["HTTPS://OCOP.SONLA.GOV.VN/S/VIDEO2"], 9),
    ]


def test_video_without_codes_gives_one_empty_result(tmp_path):
    from tests.scanner.helpers import blank_frame, write_video

    video = write_video(tmp_path / "empty.avi", [blank_frame(i) for i in range(3)])
    (result,) = scan_paths([video])
    assert isinstance(result, FileScan) and result.codes == () and result.frame_index is None


def test_empty_folder_is_an_error(tmp_path):
    (result,) = scan_paths([tmp_path])
    assert isinstance(result, ScanError)
