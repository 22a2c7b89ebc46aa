"""The scan screen points at the camera (camera.position) and says where to hold the stamp,
in the real Kivy window."""

from __future__ import annotations

import pytest

from kiosk.settings import CameraPosition

SAID = {
    CameraPosition.ABOVE: (
        "Đưa tem QR lại gần camera ở phía trên màn hình",
        "Hold the QR stamp close to the camera above the screen",
    ),
    CameraPosition.BELOW: (
        "Đưa tem QR lại gần camera ở phía dưới màn hình",
        "Hold the QR stamp close to the camera below the screen",
    ),
    CameraPosition.LEFT: (
        "Đưa tem QR lại gần camera ở bên trái màn hình",
        "Hold the QR stamp close to the camera left of the screen",
    ),
    CameraPosition.RIGHT: (
        "Đưa tem QR lại gần camera ở bên phải màn hình",
        "Hold the QR stamp close to the camera right of the screen",
    ),
}


@pytest.fixture
def camera_at(settings_with):
    return lambda position: settings_with("camera", position=position)


@pytest.mark.parametrize("position", list(CameraPosition), ids=lambda p: p.value)
@pytest.mark.parametrize("size", [(800, 480), (480, 800)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_arrow_points_at_the_configured_side(ui, camera_at, position, size):
    from kivy.core.window import Window

    old = Window.size
    Window.size = size
    try:
        camera_at(position)
        ui.app.go("scan")
        assert ui.wait_screen("scan")
        ui.settle(0.2)
        screen = ui.screen("scan")
        arrow, where = screen.ids.camera_arrow, screen.ids.camera_where
        assert arrow in ui.visible_widgets() and where in ui.visible_widgets()
        w, h = Window.size
        x, y = arrow.to_window(*arrow.center)
        tip_x, tip_y = arrow.points()[0]
        # on the camera's edge of the screen, and pointing out of it
        if position is CameraPosition.ABOVE:
            assert y > 0.75 * h and tip_y > y and abs(tip_x - x) < 1
        elif position is CameraPosition.BELOW:
            assert y < 0.25 * h and tip_y < y and abs(tip_x - x) < 1
        elif position is CameraPosition.LEFT:
            assert x < 0.25 * w and tip_x < x and abs(tip_y - y) < 1
        else:
            assert x > 0.75 * w and tip_x > x and abs(tip_y - y) < 1
        # the instruction sits in the same strip, in Vietnamese, then in English
        strip = screen.ids.camera_hint
        assert strip.collide_point(*where.center)
        vi, en = SAID[position]
        assert where.text == vi and vi in ui.texts()
        ui.app.set_lang("en")
        ui.settle(0.15)
        assert where.text == en and en in ui.texts()
        assert where.texture_size[1] <= where.height + 0.5  # not clipped
    finally:
        Window.size = old
        ui.settle(0.3)
