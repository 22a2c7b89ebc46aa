"""A label that cannot be drawn fails its job (FAILED, reason stored), never INTERRUPTED; jobs
needing attention stay in `jobs list` whatever their age. Real SQLite store, the real print
worker and CLI, the fake TCP printer process."""

from __future__ import annotations

import dataclasses
import json
import threading

import pytest

from kiosk.printing.queue import JobState, PrintQueue, PrintWorker
from kiosk.settings import Settings
from ocop.errors import ConfigError
from tests.conftest import TODAY, run_cli


def _settings(uri: str = "virtual:", **printer) -> Settings:
    base = Settings()
    return dataclasses.replace(base, printer=dataclasses.replace(base.printer, uri=uri, **printer))


def _stamp_states(store, job_id: int) -> dict[str, int]:
    return dict(
        store.query("SELECT state, count(*) FROM stamps WHERE job_id = ? GROUP BY state", (job_id,))
    )


def _run_in_worker(queue: PrintQueue, job_id: int) -> None:
    """The staff screen's background worker, until the job has ended."""
    ended = threading.Event()

    def on_progress(progress):
        if progress.job_id == job_id and progress.state is not JobState.PRINTING:
            ended.set()

    worker = PrintWorker(queue, on_progress=on_progress, idle_poll_s=0.05)
    worker.start()
    try:
        assert ended.wait(30), "the job never ended"
    finally:
        worker.stop()
        worker.join(10)
    assert not worker.is_alive()


def test_default_and_documented_sizes_hold_a_stamp():
    from kiosk.printing.queue import label_minimum_mm, label_problem

    assert label_problem(Settings()) is None
    for width_mm in (58, 80):
        minimum = label_minimum_mm(_settings(width_mm=width_mm))
        assert label_problem(_settings(width_mm=width_mm, label_height_mm=minimum)) is None
        assert f"at least {minimum} mm" in label_problem(
            _settings(width_mm=width_mm, label_height_mm=minimum - 1)
        )


def test_label_that_cannot_render_fails_its_job_with_the_reason(demo_store, data_dir, fake_printer):
    # Queued while the station printed 40 mm labels; the size was then set too small.
    job_id = PrintQueue(demo_store, _settings(), data_dir, today=TODAY).submit(101, 3)
    small = _settings(fake_printer.uri + "?timeout=3", label_height_mm=20)
    queue = PrintQueue(demo_store, small, data_dir, today=TODAY)
    _run_in_worker(queue, job_id)

    from kiosk.printing.queue import label_minimum_mm

    view = queue.job(job_id)
    assert view.state is JobState.FAILED
    assert "printer.label_height_mm: 20 mm is too short" in view.error
    assert f"at least {label_minimum_mm(small)} mm" in view.error
    assert view.pending and not view.printed and not view.uncertain
    assert _stamp_states(demo_store, job_id) == {"reserved": 3}  # none back to available
    assert fake_printer.control.received() == b""  # nothing left
    assert queue.recover_interrupted() == []  # not a crash
    assert queue.job(job_id).state is JobState.FAILED

    shown = run_cli("--data-dir", str(data_dir), "jobs", "show", str(job_id))
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert record["state"] == "failed" and "too short" in record["error"]
    assert record["needs_attention"] is True


def test_run_job_fails_on_any_rendering_error(demo_store, data_dir, monkeypatch):
    job_id = PrintQueue(demo_store, _settings(), data_dir, today=TODAY).submit(101, 2)
    queue = PrintQueue(demo_store, _settings(), data_dir, today=TODAY)

    def broken(*args, **kwargs):
        raise OSError("font file unreadable")

    monkeypatch.setattr("kiosk.printing.queue.render_label", broken)
    with queue.printer() as printer:
        view = queue.run_job(job_id, printer)
    assert view.state is JobState.FAILED
    assert view.error == "label could not be drawn: OSError: font file unreadable"
    assert _stamp_states(demo_store, job_id) == {"reserved": 2}


def test_submit_refuses_a_label_too_small_and_reserves_nothing(demo_store, data_dir):
    queue = PrintQueue(
        demo_store, _settings(width_mm=80, label_height_mm=30), data_dir, today=TODAY
    )
    with pytest.raises(ConfigError, match=r"printer\.label_height_mm: 30 mm"):
        queue.submit(101, 2)
    assert demo_store.query_one("SELECT count(*) FROM print_jobs")[0] == 0
    assert demo_store.query_one("SELECT count(*) FROM stamps WHERE state <> 'available'")[0] == 0


def test_print_command_refuses_a_label_too_small(tmp_path, data_dir, demo_store):
    config = tmp_path / "k.toml"
    config.write_text("[printer]\nwidth_mm = 58\nlabel_height_mm = 25\n", encoding="utf-8")
    result = run_cli(
        "--config",
        str(config),
        "--data-dir",
        str(data_dir),
        "print",
        "--product",
        "101",
        "--count",
        "2",
    )
    assert result.returncode == 2, result.stderr
    assert "printer.label_height_mm: 25 mm is too short" in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert demo_store.query_one("SELECT count(*) FROM print_jobs")[0] == 0


def _interrupted_job(queue: PrintQueue, fake_printer) -> int:
    """A real interruption: the connection drops inside the second label."""
    job_id = queue.submit(101, 3)
    fake_printer.control.set(drop_after_bytes=20_000)
    with queue.printer() as printer:
        view = queue.run_job(job_id, printer)
    fake_printer.control.reset()
    assert view.state is JobState.INTERRUPTED and view.uncertain
    return job_id


def _list(data_dir, *args):
    result = run_cli("--data-dir", str(data_dir), "jobs", "list", *args)
    assert result.returncode == 0, result.stderr
    return result


def _listed_ids(stdout: str) -> list[int]:
    return [json.loads(line)["id"] for line in stdout.splitlines()]


def test_old_interrupted_job_stays_listed_after_30_newer(demo_store, data_dir, fake_printer):
    queue = PrintQueue(
        demo_store, _settings(fake_printer.uri + "?timeout=3"), data_dir, today=TODAY
    )
    old = _interrupted_job(queue, fake_printer)
    newer = []
    with queue.printer() as printer:
        for _ in range(30):
            job_id = queue.submit(101, 1)
            assert queue.run_job(job_id, printer).state is JobState.DONE
            newer.append(job_id)
    cancelled = queue.submit(101, 2)
    queue.cancel(cancelled)  # FAILED but nothing left to decide: not attention
    newest_first = [cancelled] + newer[::-1]

    table = _list(data_dir).stdout
    assert table.startswith("Need attention (1)")
    assert f"\n{old} " in table and "interrupted" in table
    assert "11 older job(s) not shown: ocop-kiosk jobs list --before" in table

    first = _listed_ids(_list(data_dir, "--json").stdout)
    assert first == [old] + newest_first[:20]
    page = _list(data_dir, "--json", "--limit", "5")
    assert _listed_ids(page.stdout) == [old] + newest_first[:5]
    assert (
        f"26 older job(s) not shown: ocop-kiosk jobs list --before {newest_first[4]}" in page.stderr
    )
    after = _list(data_dir, "--json", "--limit", "5", "--before", str(newest_first[4]))
    assert _listed_ids(after.stdout) == [old] + newest_first[5:10]
    everything = _list(data_dir, "--json", "--all")
    assert _listed_ids(everything.stdout) == [old] + newest_first
    assert everything.stderr == ""
    assert run_cli("--data-dir", str(data_dir), "jobs", "list", "--limit", "0").returncode == 2


def test_docs_state_the_measured_minimum():
    from kiosk.printing.queue import label_minimum_mm
    from tests.conftest import REPO_ROOT

    doc = (REPO_ROOT / "docs" / "printing.md").read_text(encoding="utf-8")
    for width_mm in (58, 80):
        minimum = label_minimum_mm(_settings(width_mm=width_mm))
        assert (
            f"| {width_mm} mm ({'384' if width_mm == 58 else '576'} dots) | {minimum} mm |" in doc
        )
