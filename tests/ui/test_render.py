"""kiosk.ui.render's choices before the window exists (no window needed) and
run_cmd.tune_process."""

from kiosk.cli.run_cmd import tune_process
from kiosk.ui.render import is_software_renderer, multisamples_for, software_gl_expected

GPU = ["/dev/dri/renderD128"]


def test_software_gl_expected():
    assert software_gl_expected({}, render_nodes=[])  # no GPU render node
    assert not software_gl_expected({}, render_nodes=GPU)  # a Pi (V3D)
    assert software_gl_expected({"LIBGL_ALWAYS_SOFTWARE": "1"}, render_nodes=GPU)
    assert software_gl_expected({"GALLIUM_DRIVER": "llvmpipe"}, render_nodes=GPU)


def test_multisamples_off_on_software_gl_only():
    assert multisamples_for({}, render_nodes=[]) == 0
    assert multisamples_for({}, render_nodes=GPU) is None  # Kivy's default stays
    assert multisamples_for({"KCFG_GRAPHICS_MULTISAMPLES": "4"}, render_nodes=[]) is None
    assert multisamples_for({"OCOP_KIOSK_MULTISAMPLES": "2"}, render_nodes=[]) == 2
    assert multisamples_for({"OCOP_KIOSK_MULTISAMPLES": "0"}, render_nodes=GPU) == 0


def test_software_renderer_names():
    assert is_software_renderer("llvmpipe (LLVM 15.0.6, 256 bits)")
    assert is_software_renderer("softpipe")
    assert not is_software_renderer("V3D 7.1")
    assert not is_software_renderer("Mesa Intel(R) UHD Graphics 620 (KBL GT2)")


def test_tune_process_respects_the_environment():
    assert tune_process({"MALLOC_ARENA_MAX": "4", "MALLOC_MMAP_THRESHOLD_": "65536"}) == {}
    assert tune_process({"MALLOC_ARENA_MAX": "4"}) == {"malloc_mmap_threshold": 1 << 20}


def test_screens_change_without_a_fade_on_software_gl():
    # A fade draws both screens into two window-sized FBOs; llvmpipe keeps their memory.
    from kivy.uix.screenmanager import FadeTransition, NoTransition

    from kiosk.ui.render import screen_transition

    assert isinstance(screen_transition("llvmpipe (LLVM 15.0.6, 256 bits)", {}), NoTransition)
    assert isinstance(screen_transition("V3D 7.1", {}), FadeTransition)
    assert isinstance(
        screen_transition("llvmpipe", {"OCOP_KIOSK_TRANSITION": "fade"}), FadeTransition
    )
    assert isinstance(screen_transition("V3D 7.1", {"OCOP_KIOSK_TRANSITION": "none"}), NoTransition)
