"""bench/ui.py's time-to-verdict run reaches the result screen from replayed camera frames
(each scan: a stamp enters the replay camera's view, the real decoder finds it, the real
kiosk app draws the result). Times are the bench's business, not asserted here."""

from __future__ import annotations

import pytest

from bench.ui import make_data, print_verdict_table, run_child

pytestmark = pytest.mark.slow


def test_every_replayed_stamp_reaches_the_result_screen(tmp_path, capsys):
    home = tmp_path / "kivy"
    home.mkdir()
    data = make_data(tmp_path / "demo", 27)
    verdict = run_child(["verdict", str(data), "4"], home)
    assert verdict["missed"] == 0
    assert len(verdict["verdict_ms"]) == 4
    assert all(ms > 0 for ms in verdict["verdict_ms"])
    print_verdict_table(verdict)
    assert "stamp in view -> result screen drawn" in capsys.readouterr().out
