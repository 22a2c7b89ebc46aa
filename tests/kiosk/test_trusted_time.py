"""Trusted time on a Pi without RTC: a clock set back must not bring an expired rating's stars
back, a clock that ran ahead must not hold the kiosk in the future (kiosk.trusted_time)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kiosk.catalog import Catalog
from kiosk.doctor import build_env, run_doctor, select_checks
from kiosk.doctor.checks import Status
from kiosk.scanning import ScanService
from kiosk.settings import Settings
from kiosk.stamps.demo import DemoRegistry, load_demo_signer
from kiosk.stamps.service import issue_stamps
from kiosk.stamps.trust_store import store_trust_list
from kiosk.store import Store
from kiosk.trusted_time import (
    LOCAL_MARK_MAX_LEAD_S,
    MARK_PERSIST_EVERY_S,
    ClockKeeper,
    ClockState,
    TrustedClock,
    clock_report,
    iso,
    read_marks,
    staff_clock_note,
    vietnam_day,
)
from ocop.stamps.signer import make_trust_list, sign_trust_list
from ocop.stamps.verdicts import Verdict
from tests.conftest import REPO_ROOT, run_cli
from tests.deploy.helpers import closed_port, write_config

UTC = dt.UTC
THREE_YEARS = dt.timedelta(days=3 * 365)


class FakeClock:
    """A system clock and an NTP flag the test moves."""

    def __init__(self, now: dt.datetime, ntp: bool | None = False):
        self.now, self.ntp = now, ntp

    def __call__(self) -> dt.datetime:
        return self.now


def trusted_clock(store, fake: FakeClock) -> TrustedClock:
    return TrustedClock(store, system_now=fake, ntp_synchronized=lambda: fake.ntp)


def real_now() -> dt.datetime:
    return dt.datetime.now(UTC).replace(microsecond=0)


def set_rating_valid_until(db_path: Path, product_id: int, day: dt.date) -> None:
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute(
            "UPDATE ratings SET valid_until = ?, status = 'valid' WHERE product_id = ?",
            (day.isoformat(), product_id),
        )
    conn.close()


def publish_signed_time(store, data_dir: Path, issued_at: dt.datetime):
    """The demo registry signs and the kiosk stores a trust list issued at `issued_at`."""
    registry = DemoRegistry(store, data_dir)
    cur = registry.current()
    tl = make_trust_list(
        registry.root_key,
        sequence=cur.sequence + 1,
        signing_keys=cur.signing_keys,
        issued_at=iso(issued_at),
    )
    return store_trust_list(store, sign_trust_list(tl, registry.root_key), registry.root_public_b64)


# --- the star rule under a clock set back ----------------------------------------------------


def test_a_rating_that_expired_yesterday_has_no_stars_when_the_clock_is_3_years_back(
    demo_store, data_dir
):
    now = real_now()
    fake = FakeClock(now)
    clock = trusted_clock(demo_store, fake)
    assert clock.persist(force=True)  # the kiosk ran today
    yesterday = vietnam_day(now) - dt.timedelta(days=1)
    set_rating_valid_until(demo_store.path, 101, yesterday)

    fake.now = now - THREE_YEARS  # reboot, no RTC, no NTP yet
    catalog = Catalog(demo_store, clock=clock)
    assert catalog.today == vietnam_day(now)
    coffee = catalog.product(101)
    assert coffee.rating_status == "expired" and coffee.stars is None
    assert clock.reading().state is ClockState.BEHIND

    signer = load_demo_signer(demo_store, data_dir, Settings())
    stamp = issue_stamps(demo_store, 101, 1, demo_signer=signer, today=now.date())[0]
    outcome = ScanService(demo_store, Settings(), clock=clock).handle_text(stamp.text)
    assert outcome.verdict is Verdict.GENUINE_RATING_EXPIRED
    assert outcome.product.stars is None


def test_the_rating_day_rolls_over_at_vietnam_midnight(demo_store):
    # within 36 months of its recognition (2024-06-30): a later day would be capped
    set_rating_valid_until(demo_store.path, 101, dt.date(2027, 6, 1))
    fake = FakeClock(dt.datetime(2027, 6, 1, 16, 59, tzinfo=UTC))  # 23:59 in Sơn La
    catalog = Catalog(demo_store, clock=trusted_clock(demo_store, fake))
    assert catalog.product(101).stars == 5
    fake.now = dt.datetime(2027, 6, 1, 17, 1, tzinfo=UTC)  # 00:01 on 2 June
    assert catalog.product(101).stars is None


def test_cli_catalog_show_judges_by_the_signed_time_not_the_system_clock(demo_store, data_dir):
    """End to end: the real CLI in a new process, on a store whose registry-signed time is
    3 years past this machine's clock (the same as the clock being 3 years back)."""
    signed = real_now() + THREE_YEARS
    publish_signed_time(demo_store, data_dir, signed)
    set_rating_valid_until(demo_store.path, 101, vietnam_day(signed) - dt.timedelta(days=1))
    demo_store.close()
    out = run_cli("--data-dir", str(data_dir), "catalog", "show", "101", "--json")
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)
    assert shown["rating_status"] == "expired" and shown["stars"] is None


@pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime is not installed")
def test_cli_under_faketime_3_years_back(demo_store, data_dir):
    now = real_now()
    TrustedClock(demo_store).persist(force=True)
    set_rating_valid_until(demo_store.path, 101, vietnam_day(now) - dt.timedelta(days=1))
    demo_store.close()
    out = subprocess.run(
        [
            "faketime",
            "-f",
            f"-{3 * 365}d",
            sys.executable,
            "-m",
            "kiosk",
            "--data-dir",
            str(data_dir),
            "catalog",
            "show",
            "101",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["stars"] is None


# --- the local mark: rate, restart, a clock that ran ahead -----------------------------------


def test_the_mark_is_written_at_most_every_10_minutes_and_at_a_clean_stop(store):
    fake = FakeClock(dt.datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    clock = trusted_clock(store, fake)
    assert clock.persist()  # no mark yet: written at once
    fake.now += dt.timedelta(seconds=MARK_PERSIST_EVERY_S - 1)
    assert not clock.persist()
    fake.now += dt.timedelta(seconds=1)
    assert clock.persist()
    fake.now += dt.timedelta(seconds=30)
    keeper = ClockKeeper(clock, tick_s=3600).start()  # its first tick: not due
    keeper.stop()  # clean shutdown: written
    assert read_marks(store.conn).local_mark == fake.now


def test_the_mark_survives_a_restart_in_a_new_process(store, data_dir):
    later = real_now() + dt.timedelta(days=100)
    store.close()
    script = textwrap.dedent("""
        import datetime as dt, sys
        from kiosk.store import Store
        from kiosk.trusted_time import ClockKeeper, TrustedClock
        store = Store.in_dir(sys.argv[1])
        clock = TrustedClock(store, system_now=lambda: dt.datetime.fromisoformat(sys.argv[2]),
                             ntp_synchronized=lambda: False)
        ClockKeeper(clock, tick_s=3600).start().stop()
        print(clock.reading().to_json()[sys.argv[3]])
    """)

    def run(moment: dt.datetime, field: str) -> str:
        out = subprocess.run(
            [sys.executable, "-c", script, str(data_dir), moment.isoformat(), field],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    assert run(later, "state") == "ok"  # first process: writes the mark
    # Second process, clock reset to 1970 by a Pi without RTC:
    assert run(dt.datetime(1970, 1, 1, tzinfo=UTC), "trusted_time") == iso(later)
    assert run(dt.datetime(1970, 1, 1, tzinfo=UTC), "state") == "behind"


def test_a_clock_that_jumped_ahead_then_back_is_reset_by_ntp_not_by_an_unsynced_clock(demo_store):
    now = real_now()
    fake = FakeClock(now)
    clock = trusted_clock(demo_store, fake)
    clock.persist()
    fake.now = now + dt.timedelta(days=200)  # a bad RTC / wrong manual date
    clock.persist()
    fake.now = now  # set right again, NTP not synced
    assert clock.now() == now + dt.timedelta(days=200)  # cannot tell: stay conservative
    assert clock.reading().state is ClockState.BEHIND

    fake.ntp = True  # the kernel says NTP synced
    assert clock.now() == now and clock.reading().state is ClockState.OK
    assert clock.persist()  # the mark is reset in the store
    assert read_marks(demo_store.conn).local_mark == now
    fake.ntp = False  # a new process, NTP not yet back
    assert trusted_clock(demo_store, fake).reading().state is ClockState.OK


def test_an_offline_runaway_clock_holds_the_kiosk_ahead_at_most_the_cap(demo_store):
    signed = read_marks(demo_store.conn).signed_time  # the demo trust list's issued_at
    assert signed is not None
    fake = FakeClock(signed + dt.timedelta(days=10 * 365))  # 10 years ahead, no NTP ever
    clock = trusted_clock(demo_store, fake)
    clock.persist(force=True)
    fake.now = signed
    assert clock.now() == signed + dt.timedelta(seconds=LOCAL_MARK_MAX_LEAD_S)


def test_ntp_never_moves_the_signed_time_back(demo_store, data_dir):
    now = real_now()
    publish_signed_time(demo_store, data_dir, now + dt.timedelta(days=10))
    fake = FakeClock(now, ntp=True)
    reading = trusted_clock(demo_store, fake).reading()
    assert reading.state is ClockState.BEHIND
    assert reading.trusted == now + dt.timedelta(days=10)


def test_storing_a_trust_list_records_its_signed_time_and_a_trusted_received_at(
    demo_store, data_dir
):
    signed = real_now() + dt.timedelta(days=30)
    tl = publish_signed_time(demo_store, data_dir, signed)
    assert read_marks(demo_store.conn).signed_time == signed
    received = demo_store.query_one(
        "SELECT received_at FROM trust_lists WHERE sequence = ?", (tl.sequence,)
    )[0]
    assert received == iso(signed)  # not the machine clock, 30 days earlier


# --- what staff, the heartbeat and the doctor see --------------------------------------------


def test_staff_note_and_heartbeat_report(store):
    now = dt.datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    fake = FakeClock(now)
    clock = trusted_clock(store, fake)
    assert clock_report(store, clock)["state"] == "ok"  # this process saw the clock
    clock.persist()
    assert staff_clock_note(clock.reading(), "vi") == ""
    fake.now = dt.datetime(2023, 12, 1, 8, 0, tzinfo=UTC)
    report = clock_report(store, clock)
    assert report == {
        "system_time": "2023-12-01T08:00:00Z",
        "trusted_time": "2026-12-01T08:00:00Z",
        "state": "behind",
        "behind_s": round((now - fake.now).total_seconds()),
        "signed_time": None,
        "local_mark": "2026-12-01T08:00:00Z",
    }
    vi = staff_clock_note(clock.reading(), "vi")
    assert vi.startswith("Đồng hồ chưa được đặt") and "01/12/2026 15:00" in vi
    assert "01/12/2023 15:00" in vi
    assert staff_clock_note(clock.reading(), "en").startswith("Clock not set")


def _doctor(data_dir: Path, tmp_path: Path, now: dt.datetime, only: str):
    config = write_config(
        tmp_path / "k.toml", f'[registry]\nurl = "http://127.0.0.1:{closed_port()}"\n'
    )
    env = build_env(str(config), str(data_dir), now=lambda: now, ntp_synchronized=lambda: False)
    return {r.name: r for r in run_doctor(env, select_checks(only=[only]))}[only]


def test_doctor_shows_a_clock_behind_the_trusted_time(demo_store, data_dir, tmp_path):
    now = real_now()
    TrustedClock(demo_store, system_now=lambda: now).persist(force=True)
    demo_store.close()
    result = _doctor(data_dir, tmp_path, now - THREE_YEARS, "trusted time")
    assert result.status is Status.FAIL and result.hint
    assert "Clock not set" in result.detail
    assert f"{now - THREE_YEARS:%Y-%m-%d %H:%M} UTC" in result.detail
    assert f"{now:%Y-%m-%d %H:%M} UTC" in result.detail
    assert result.data["state"] == "behind"
    assert _doctor(data_dir, tmp_path, now, "trusted time").status is Status.OK


def test_doctor_cli_reports_behind(demo_store, data_dir):
    publish_signed_time(demo_store, data_dir, real_now() + THREE_YEARS)
    demo_store.close()
    out = run_cli("--data-dir", str(data_dir), "doctor", "--only", "trusted time", "--json")
    line = {c["name"]: c for c in json.loads(out.stdout)["checks"]}["trusted time"]
    assert line["status"] == "FAIL" and line["data"]["state"] == "behind"


def test_doctor_trust_list_age_uses_the_trusted_time(demo_store, data_dir, tmp_path):
    now = real_now()
    TrustedClock(demo_store, system_now=lambda: now).persist(force=True)
    with demo_store.transaction() as conn:
        conn.execute("UPDATE trust_lists SET received_at = ?", (iso(now - dt.timedelta(days=10)),))
    demo_store.close()
    result = _doctor(data_dir, tmp_path, now - THREE_YEARS, "trust list")
    assert result.data["age_s"] == 10 * 86400
    assert result.status is Status.WARN and "10.0 days" in result.detail


def test_a_fresh_store_has_no_trusted_time(store, tmp_path, data_dir):
    store.close()
    result = _doctor(data_dir, tmp_path, real_now(), "trusted time")
    assert result.status is Status.WARN and result.data["state"] == "unknown"
    reopened = Store.in_dir(data_dir)
    try:  # in a running process the clock it has seen counts: not UNKNOWN
        assert TrustedClock(reopened).reading().state is ClockState.OK
    finally:
        reopened.close()
