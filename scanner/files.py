"""Scanning files for the CLI (`ocop-kiosk scan PATH...`): images, folders of images, videos.

Pure: yields one FileScan per image (codes may be empty) or per distinct code in a video,
and a ScanError for an input that cannot be read; the CLI turns them into JSON lines and the
exit code, and adds the stamp verdict (kiosk.stamps) - this module knows nothing of stamps.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2

from scanner.decoders import Decoded, DecodePipeline, Hint
from scanner.frames import as_pixels
from scanner.sources import IMAGE_SUFFIXES, VIDEO_SUFFIXES, list_images


@dataclass(frozen=True)
class FileScan:
    input: str  # the image path (for a folder: each image in it; for a video: the video)
    codes: tuple[Decoded, ...]
    decode_ms: float
    frame_index: int | None = None  # videos: the first frame where the code was read
    hint: Hint | None = None

    @property
    def texts(self) -> list[str]:
        return [c.text for c in self.codes]


@dataclass(frozen=True)
class ScanError:
    input: str
    message: str  # one line for a person


@dataclass
class VideoOptions:
    max_frames: int | None = None  # None: the whole video
    every_nth_frame: int = 1  # 2: decode every other frame (long videos)


def scan_paths(
    paths: Iterable[str | os.PathLike[str]],
    pipeline: DecodePipeline | None = None,
    video: VideoOptions | None = None,
    video_pipeline: DecodePipeline | None = None,
) -> Iterator[FileScan | ScanError]:
    """Each input in order; an unreadable one yields ScanError and the others go on.

    Still images get the thorough pipeline (pyzbar fallback on the whole image); videos are
    camera footage, decoded with the live pipeline like the kiosk would (fast, many frames)."""
    pipeline = pipeline or DecodePipeline.for_files()
    video = video or VideoOptions()
    video_pipeline = video_pipeline or DecodePipeline(rotate_linear_every=1)
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            yield ScanError(str(raw), "no such file or folder")
        elif path.is_dir():
            images = list_images(path)
            if not images:
                yield ScanError(str(raw), "folder holds no images")
            for image_path in images:
                yield scan_image(image_path, pipeline)
        elif path.suffix.lower() in VIDEO_SUFFIXES:
            yield from scan_video(path, video_pipeline, video)
        else:
            # Unknown suffixes are tried as an image first, then as a video.
            result = scan_image(path, pipeline)
            if isinstance(result, ScanError) and path.suffix.lower() not in IMAGE_SUFFIXES:
                video_results = list(scan_video(path, video_pipeline, video))
                if not all(isinstance(r, ScanError) for r in video_results):
                    yield from video_results
                    continue
                result = ScanError(str(path), "not a readable image or video")
            yield result


def scan_image(path: Path, pipeline: DecodePipeline) -> FileScan | ScanError:
    try:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    except cv2.error as exc:
        return ScanError(str(path), f"cannot read image: {exc}")
    if image is None:
        return ScanError(str(path), "not a readable image")
    result = pipeline.decode(as_pixels(image))
    return FileScan(str(path), result.codes, result.decode_ms, None, result.hint)


def scan_video(
    path: Path,
    pipeline: DecodePipeline,
    options: VideoOptions,
) -> Iterator[FileScan | ScanError]:
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            yield ScanError(str(path), "not a readable video")
            return
        seen: dict[str, tuple[Decoded, int, float]] = {}
        index = decoded_frames = 0
        total_ms = 0.0
        while options.max_frames is None or index < options.max_frames:
            ok, image = capture.read()
            if not ok:
                break
            if index % max(1, options.every_nth_frame) == 0:
                result = pipeline.decode(as_pixels(image))
                decoded_frames += 1
                total_ms += result.decode_ms
                for code in result.codes:
                    seen.setdefault(code.text, (code, index, result.decode_ms))
            index += 1
        if index == 0:
            yield ScanError(str(path), "video has no readable frames")
            return
        for code, frame_index, decode_ms in seen.values():
            yield FileScan(str(path), (code,), decode_ms, frame_index)
        if not seen:
            yield FileScan(str(path), (), total_ms / max(1, decoded_frames), None)
    finally:
        capture.release()
