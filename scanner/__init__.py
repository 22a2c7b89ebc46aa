"""Frame sources and barcode decoders. Knows pixels and text, NOT stamps, NOT kiosk.

Entry points for the kiosk layer:
    make_source(kind, device, width_px, height_px, fps, path, loop) -> FrameSource
    CameraDetector().attached() -> [AttachedCamera]           CSI (picamera2) and USB (sysfs)
    Scanner(source, on_codes, on_state=None, on_hint=None)  .start() .stop() .status .latest_frame
    CameraState / CameraStatus                                what the UI shows
    scan_paths(paths) -> FileScan | ScanError                 for `ocop-kiosk scan`
See docs/scanning.md.
"""

from scanner.auto_source import AutoCameraSource
from scanner.camera import CameraState, CameraStatus, CaptureThread
from scanner.decoders import (
    CodeFormat,
    Decoded,
    DecodePipeline,
    DecodeResult,
    FallbackPolicy,
    Hint,
    PyzbarDecoder,
    ZxingDecoder,
)
from scanner.detection import AttachedCamera, CameraBus, CameraDetector
from scanner.errors import Disconnected, EndOfStream, NoDevice, SourceError, UnsupportedSource
from scanner.files import FileScan, ScanError, scan_paths
from scanner.frames import Frame
from scanner.service import Scanner
from scanner.sources import (
    FaultInjectingSource,
    FrameSource,
    OpenCvSource,
    PiCameraSource,
    ReplaySource,
    make_source,
)
from scanner.worker import DecodeWorker, Deduplicator

__all__ = [
    "AttachedCamera",
    "AutoCameraSource",
    "CameraBus",
    "CameraDetector",
    "CameraState",
    "CameraStatus",
    "CaptureThread",
    "CodeFormat",
    "DecodePipeline",
    "DecodeResult",
    "DecodeWorker",
    "Decoded",
    "Deduplicator",
    "Disconnected",
    "EndOfStream",
    "FallbackPolicy",
    "FaultInjectingSource",
    "FileScan",
    "Frame",
    "FrameSource",
    "Hint",
    "NoDevice",
    "OpenCvSource",
    "PiCameraSource",
    "PyzbarDecoder",
    "ReplaySource",
    "ScanError",
    "Scanner",
    "SourceError",
    "UnsupportedSource",
    "ZxingDecoder",
    "make_source",
    "scan_paths",
]
