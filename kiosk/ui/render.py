"""Rendering settings that depend on the GL driver: software GL (Mesa llvmpipe) vs a GPU.

Measured with bench/ui.py on a 2-core x86_64 without a GPU (llvmpipe, SDL offscreen); the
numbers and the reasons are in docs/ui.md ("Performance"):

* Kivy asks for 2x multisampling by default; llvmpipe gives 4x MSAA, which made every frame
  ~4x dearer to rasterize (the scan screen: ~40 ms of rasterizer CPU a frame, 21-27 fps with
  both cores busy). Without MSAA: ~15 ms a frame and the preview keeps up with the camera.
  Multisampling is a window-creation setting, so it is decided from the environment before
  the window exists (`multisamples_for`); a GPU (the Pi's V3D) keeps Kivy's default.
* llvmpipe renders on its own threads and nothing makes the UI thread wait for them (the
  offscreen "swap" does not): when the UI produces frames faster than they are rasterized
  (a scroll or a screen change), llvmpipe queues up to 64 whole frames ("scenes"), ~14 MB
  each, and keeps that memory (RSS went 300 -> 800 MB in 40 frames). `throttle_software_gl`
  calls glFinish in Window.on_flip: each frame is rasterized before the next one is made.
  Only for software renderers: a GPU driver throttles by itself.
* Screen changes: a fade renders both screens into two window-sized FBOs every frame of the
  fade, and llvmpipe keeps each FBO's scene data (~64 KB per drawn instruction) and the
  FBO textures afterwards: ~12 MB more RSS. On software GL screens change without a fade
  (`screen_transition`); a GPU keeps the 0.12 s fade.

No Kivy import at module level: `multisamples_for` runs before Kivy is configured.
"""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Mapping

log = logging.getLogger(__name__)

SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast", "software rasterizer")


def software_gl_expected(
    environ: Mapping[str, str] = os.environ, render_nodes: list[str] | None = None
) -> bool:
    """Before the window exists: will Mesa render in software? Yes when it is told to
    (LIBGL_ALWAYS_SOFTWARE, GALLIUM_DRIVER=llvmpipe/softpipe) or when the machine has no DRM
    render node (/dev/dri/renderD*: a Pi has one for V3D, a server or CI box has none)."""
    if environ.get("LIBGL_ALWAYS_SOFTWARE", "").lower() in ("1", "true", "yes"):
        return True
    if environ.get("GALLIUM_DRIVER", "").lower() in ("llvmpipe", "softpipe"):
        return True
    nodes = glob.glob("/dev/dri/renderD*") if render_nodes is None else render_nodes
    return not nodes


def multisamples_for(
    environ: Mapping[str, str] = os.environ, render_nodes: list[str] | None = None
) -> int | None:
    """The `graphics.multisamples` to set, or None to leave Kivy's choice (its default 2,
    or KCFG_GRAPHICS_MULTISAMPLES / OCOP_KIOSK_MULTISAMPLES when given)."""
    explicit = environ.get("OCOP_KIOSK_MULTISAMPLES", "").strip()
    if explicit.isdigit():
        return int(explicit)
    if "KCFG_GRAPHICS_MULTISAMPLES" in environ:
        return None
    return 0 if software_gl_expected(environ, render_nodes) else None


def is_software_renderer(renderer: str) -> bool:
    r = renderer.lower()
    return any(name in r for name in SOFTWARE_RENDERERS)


def gl_info() -> dict:
    """Renderer, version and samples of the current GL context (the window must exist)."""
    from kivy.graphics.opengl import GL_RENDERER, GL_VERSION, glGetIntegerv, glGetString

    GL_SAMPLES = 0x80A9

    def text(name):
        value = glGetString(name)
        return value.decode(errors="replace") if isinstance(value, bytes) else str(value)

    try:
        samples = int(glGetIntegerv(GL_SAMPLES)[0])
    except (KeyError, IndexError, TypeError, ValueError):  # a GLES driver without it
        samples = -1
    return {"renderer": text(GL_RENDERER), "version": text(GL_VERSION), "samples": samples}


class _FrameThrottle:
    """Bound to Window.on_flip (runs just before the buffers swap): wait until the frame
    just drawn is rasterized. glFinish is in every GL/GLES version."""

    def __init__(self):
        from kivy.graphics.opengl import glFinish

        self._finish = glFinish

    def __call__(self, *_):
        self._finish()


def screen_transition(renderer: str, environ: Mapping[str, str] = os.environ):
    """The ScreenManager transition for this renderer: a short fade on a GPU, none on
    software GL. OCOP_KIOSK_TRANSITION=fade|none overrides (for measuring)."""
    from kivy.uix.screenmanager import FadeTransition, NoTransition

    wanted = environ.get("OCOP_KIOSK_TRANSITION", "auto").lower()
    fade = wanted == "fade" or (wanted != "none" and not is_software_renderer(renderer))
    return FadeTransition(duration=0.12) if fade else NoTransition()


_installed: dict = {}


def throttle_software_gl(window=None) -> dict:
    """After the window exists: on a software renderer, finish each frame before the next.
    Returns gl_info() plus `throttled`. Idempotent (one window per process).
    OCOP_KIOSK_GL_THROTTLE=0 turns it off, =1 on whatever the renderer (for measuring)."""
    if _installed:
        return _installed
    if window is None:
        from kivy.core.window import Window

        window = Window
    info = gl_info()
    software = is_software_renderer(info["renderer"])
    wanted = os.environ.get("OCOP_KIOSK_GL_THROTTLE", "auto").lower()
    info["throttled"] = wanted in ("1", "yes", "true") or (wanted == "auto" and software)
    if info["throttled"]:
        window.bind(on_flip=_FrameThrottle())
    if software and info["samples"] > 1:
        log.warning(
            "software GL (%s) with %dx multisampling: every frame costs several "
            "times more; set OCOP_KIOSK_MULTISAMPLES=0",
            info["renderer"],
            info["samples"],
        )
    log.info(
        "GL: %s, %s, %s samples%s",
        info["renderer"],
        info["version"],
        info["samples"],
        ", each frame finished before the next" if info["throttled"] else "",
    )
    _installed.update(info)
    return info
