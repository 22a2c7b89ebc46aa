"""bench/soak.py's parts that decide its verdicts: the replayed camera's schedule and video
(read back with the kiosk's own replay source and live decoder), which scans belong to which
showing, watchdog gaps, trends, and what it reads from the app (notify socket, probe file,
the kiosk's SQLite file)."""

from __future__ import annotations

import json
import math
import time
import uuid

import pytest

from bench import soak
from bench.soak_analysis import (
    CAMERA_FPS,
    DECODER_REPEAT_S,
    IDLE_TIMEOUT_S,
    LOOP_FRAMES,
    SHOWINGS,
    Trend,
    frame_clock,
    judge_trend,
    ping_report,
    showings_played,
    tally_scans,
    trend_per_hour,
    warmup_s,
)

TEXT_A = "HTTPS://OCOP.SONLA.GOV.VN/S/" + "A" * 60 + "BCD"
TEXT_B = "HTTPS://OCOP.SONLA.GOV.VN/S/" + "Q" * 60 + "XYZ"


def test_a_stamp_every_20_s_alternately_a_glance_and_left_in_view():
    shown = showings_played(2 * LOOP_FRAMES + 200)
    starts_s = [s.start_frame / CAMERA_FPS for s in shown]
    assert starts_s == [6.0, 26.0, 46.0, 66.0, 86.0]
    assert [s.showing.label for s in shown] == [0, 1, 0, 1, 0]
    glance, left = SHOWINGS
    # the long showing outlasts the idle return plus the decoder's repeat: the case in
    # which a stamp still in view must not be counted again
    assert left.hold_s > IDLE_TIMEOUT_S + DECODER_REPEAT_S + 1
    assert glance.hold_s < IDLE_TIMEOUT_S


def _clock():
    return frame_clock([(0, 1000.0), (3000, 1100.0)])  # 30 frames/s from t = 1000


def _tally(scans):
    last_frame = 2 * LOOP_FRAMES + 180 + 30  # 1 s into the 5th showing
    shown = showings_played(last_frame)
    return tally_scans(shown, last_frame, _clock(), scans, [TEXT_A, TEXT_B])


def test_one_scan_per_showing_is_all_good_and_the_running_showing_is_not_judged():
    scans = [
        (1006.3, TEXT_A),
        (1026.3, TEXT_B),
        (1046.3, TEXT_A),
        (1066.3, TEXT_B),
        (1086.4, TEXT_A),
    ]  # the last: showing in progress
    tally = _tally(scans)
    assert (tally.shown, tally.once, tally.missed, tally.extra, tally.wrong_text) == (4, 4, 0, 0, 0)
    assert tally.by_name == {"glance": [2, 0, 0], "left in view": [2, 0, 0]}


def test_a_stamp_counted_again_after_the_idle_return_is_an_extra_scan():
    scans = [
        (1006.3, TEXT_A),
        (1026.3, TEXT_B),
        (1038.4, TEXT_B),
        (1046.3, TEXT_A),
        (1066.3, TEXT_B),
        (1078.4, TEXT_B),
    ]
    tally = _tally(scans)
    assert (tally.once, tally.extra, tally.missed) == (2, 2, 0)
    assert tally.by_name["left in view"] == [2, 0, 2]


def test_missed_showings_scans_before_any_and_unknown_stamps_are_reported():
    scans = [
        (1000.5, TEXT_A),
        (1026.3, TEXT_B),
        (1046.3, TEXT_A),
        (1066.3, TEXT_B),
        (1050.0, "HTTPS://EXAMPLE.COM/OTHER"),
    ]
    tally = _tally(scans)
    assert tally.missed == 1  # the first glance
    assert tally.extra == 1  # a scan before that label was held up
    assert tally.wrong_text == 1  # a code that is neither label


def test_a_scan_that_seems_early_by_frame_clock_jitter_still_counts_for_its_showing():
    scans = [(1005.0, TEXT_A), (1024.0, TEXT_B), (1046.3, TEXT_A), (1066.3, TEXT_B)]
    tally = _tally(scans)
    assert (tally.once, tally.missed, tally.extra) == (4, 0, 0)


def test_scans_after_the_last_known_frame_are_not_judged():
    # the probe last saw frame 700 (23.3 s): the long showing (26 s) is not known yet
    shown = showings_played(700)
    tally = tally_scans(
        shown, 700, _clock(), [(1006.2, TEXT_A), (1026.2, TEXT_B)], [TEXT_A, TEXT_B]
    )
    assert (tally.shown, tally.once, tally.extra) == (1, 1, 0)


def test_frame_clock_interpolates_and_extrapolates_at_camera_rate():
    clock = frame_clock([(300, 10.0), (600, 20.0), (-1, 0.0)])
    assert clock(450) == pytest.approx(15.0)
    assert clock(0) == pytest.approx(0.0)
    assert clock(630) == pytest.approx(21.0)
    with pytest.raises(ValueError):
        frame_clock([(-1, 5.0)])


def test_watchdog_gaps():
    steady = ping_report([2.0 * i for i in range(50)], 99.0, 4.0)
    assert (steady.pings, steady.missed, steady.max_gap_s) == (50, 0, 2.0)
    stopped = ping_report([0.0, 1.0], 60.0, 4.0)  # pings stop: the open gap counts
    assert (stopped.missed, stopped.max_gap_s) == (1, 59.0)
    hiccup = ping_report([0.0, 2.0, 4.0, 10.0, 12.0], 13.0, 4.0)
    assert (hiccup.missed, hiccup.max_gap_s) == (1, 6.0)
    none = ping_report([], 30.0, 4.0)
    assert none.missed == 1 and math.isinf(none.max_gap_s)


def test_trend_and_its_verdict():
    slope, band = trend_per_hour([(t, 200 + 2.0 * t / 3600) for t in range(0, 3600, 10)])
    assert slope == pytest.approx(2.0) and band == pytest.approx(0.0, abs=1e-9)
    assert judge_trend(slope, band, 1.0) is Trend.RISING
    wobble = [(t, 200 + (1 if (t // 10) % 2 else -1)) for t in range(0, 600, 10)]
    slope, band = trend_per_hour(wobble)
    assert abs(slope) < band  # ten minutes of +-1 MB: no trend known
    assert judge_trend(slope, band, 1.0) is Trend.UNCLEAR
    assert judge_trend(0.1, 0.2, 1.0) is Trend.FLAT
    assert judge_trend(*trend_per_hour([(0, 1), (10, 2)]), 1.0) is Trend.UNCLEAR
    assert warmup_s(3600) == 600 and warmup_s(600) == 200


def _label(tmp_path, text, name):
    from printer.label import LabelContent, render_label

    path = tmp_path / f"{name}.png"
    render_label(
        LabelContent(
            qr_text=text,
            title="Chè Shan tuyết Tà Xùa",
            serial_text="Số/No. 0000 0000 0001",
            stars=5,
        )
    ).save(path)
    return path


def test_the_replay_video_shows_each_label_on_schedule_to_the_kiosks_decoder(tmp_path):
    from scanner import DecodePipeline, EndOfStream, ReplaySource

    frames = [soak.held_up(_label(tmp_path, t, n)) for t, n in ((TEXT_A, "a"), (TEXT_B, "b"))]
    assert [soak.decode_text(f) for f in frames] == [TEXT_A, TEXT_B]
    video = tmp_path / "camera.avi"
    soak.write_replay(video, frames)
    source = ReplaySource(video, loop=False)
    source.open()
    pipeline, seen, count = DecodePipeline(), {}, 0
    probes = {
        0: None,
        6 * 30 + 15: TEXT_A,
        10 * 30 + 5: None,
        26 * 30 + 10: TEXT_B,
        39 * 30 + 29: TEXT_B,
    }
    try:
        with pytest.raises(EndOfStream):  # not looped: the replay ends after its last frame
            while True:
                image = source.read()
                if count in probes:
                    codes = pipeline.decode(image).codes
                    seen[count] = codes[0].text if codes else None
                count += 1
    finally:
        source.close()
    assert count == LOOP_FRAMES
    assert seen == probes


def test_notify_listener_hears_the_kiosks_sd_notify(tmp_path):
    from kiosk import systemd_notify

    listener = soak.NotifyListener(tmp_path / "notify.sock")
    listener.start()
    try:
        env = {"NOTIFY_SOCKET": str(listener.path)}
        assert systemd_notify.notify_ready("attract screen", environ=env)
        assert systemd_notify.notify_watchdog(environ=env)
        assert systemd_notify.notify_watchdog(environ=env)
        deadline = time.monotonic() + 5
        while len(listener.events) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        listener.close()
    assert len(listener.times("READY")) == 1
    assert len(listener.times("WATCHDOG")) == 2
    assert listener.events[0][1]["STATUS"] == "attract screen"


def test_probe_reader_takes_only_whole_lines(tmp_path):
    path = tmp_path / "probe.jsonl"
    reader = soak.ProbeReader(path)
    assert reader.read() == []
    path.write_text(json.dumps({"t": 1}) + "\n" + '{"t": ')
    assert reader.read() == [{"t": 1}]
    with path.open("a") as f:
        f.write("2}\n")
    assert reader.read() == [{"t": 2}]
    assert reader.lines == [{"t": 1}, {"t": 2}]


def test_read_store_counts_scans_syncs_and_backlog_without_writing(tmp_path):
    from kiosk.store import Store

    store = Store.in_dir(tmp_path)
    now = "2026-12-01T10:00:00Z"
    with store.transaction() as tx:
        for kind, sent in (("scan", None), ("scan", now), ("heartbeat", now), ("heartbeat", None)):
            tx.execute(
                "INSERT INTO outbox(kind, idempotency_key, payload_json, created_at, "
                "sent_at) VALUES (?, ?, '{}', ?, ?)",
                (kind, uuid.uuid4().hex, now, sent),
            )
        tx.execute(
            "INSERT INTO scans(scanned_at, text, verdict) VALUES "
            "('2026-12-01T10:00:00.250000Z', 'x', 'genuine')"
        )
    db = tmp_path / "kiosk.sqlite"
    before = db.read_bytes()
    counts = soak.read_store(db)
    assert (counts["scans"], counts["outbox"], counts["syncs"]) == (1, 2, 1)
    assert counts["oldest_unsent_s"] > 0
    assert soak.read_scans(db) == [(soak._epoch("2026-12-01T10:00:00.250000Z"), "x", "genuine")]
    assert db.read_bytes() == before
    store.close()
