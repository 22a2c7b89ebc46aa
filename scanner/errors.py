"""Typed errors of frame sources. The capture thread turns them into CameraState values."""

from __future__ import annotations


class SourceError(Exception):
    """A frame source failed; the message is for logs, the type for the camera state."""


class NoDevice(SourceError):
    """open() found no camera (not plugged in, wrong index/path, busy, no permission)."""


class Disconnected(SourceError):
    """read() lost a camera that was open (unplugged, driver reset)."""


class EndOfStream(SourceError):
    """A replay source without looping has shown its last frame."""


class UnsupportedSource(SourceError):
    """The configured kind of source cannot run here (e.g. picamera2 not installed)."""
