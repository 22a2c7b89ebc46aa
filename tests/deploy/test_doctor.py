"""`ocop-kiosk doctor`: a broken kiosk gives FAIL lines with hints, never a traceback."""

from __future__ import annotations

import datetime as dt
import email.utils
import http.server
import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from kiosk.doctor import build_env, probes, run_doctor, select_checks
from kiosk.doctor.checks import Check, Status, fail, ok, run_checks
from tests.conftest import TEST_DATA
from tests.deploy.helpers import closed_port, run_kiosk_cli, write_config

REPLAY_FRAMES = TEST_DATA / "qr-photos" / "qrcode-1"


def by_name(results) -> dict[str, object]:
    return {r.name: r for r in results}


def json_lines(stdout: str) -> dict[str, dict]:
    doc = json.loads(stdout)
    return {c["name"]: c for c in doc["checks"]}


@pytest.fixture
def demo_dir(demo_store, data_dir) -> Path:
    """A real data folder (demo catalog, demo keys and trust list), store closed again."""
    demo_store.close()
    return data_dir


def broken_config(tmp_path: Path) -> Path:
    return write_config(
        tmp_path / "kiosk.toml",
        f"""
mode = "station"
[camera]
kind = "usb"
device = "/dev/video-ocop-test-missing"
[printer]
uri = "tcp://127.0.0.1:{closed_port()}?timeout=2"
[registry]
url = "http://127.0.0.1:{closed_port()}"
timeout_s = 2.0
""",
    )


def test_missing_camera_unreachable_printer_and_registry(tmp_path, demo_dir):
    config = broken_config(tmp_path)
    out = run_kiosk_cli("--config", str(config), "--data-dir", str(demo_dir), "doctor", "--json")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    lines = json_lines(out.stdout)
    assert [lines[n]["status"] for n in ("config", "data dir", "database")] == ["OK"] * 3
    assert lines["camera"]["status"] == "FAIL"
    assert "/dev/video-ocop-test-missing" in lines["camera"]["detail"]
    assert lines["printer"]["status"] == "FAIL"
    assert lines["printer"]["data"]["fault"] == "not_found"
    assert lines["paper"]["status"] == "SKIP"
    assert lines["registry"]["status"] == "FAIL"
    assert "cannot connect" in lines["registry"]["detail"]
    for name in ("camera", "printer", "registry"):
        assert lines[name]["hint"], name
    assert lines["trust list"]["status"] == "OK"  # demo trust list just made
    assert lines["last sync"]["status"] == "WARN"  # registry configured, never synced
    assert json.loads(out.stdout)["status"] == "FAIL"


def test_table_output(tmp_path, demo_dir):
    config = broken_config(tmp_path)
    out = run_kiosk_cli(
        "--config", str(config), "--data-dir", str(demo_dir), "doctor", "--skip", "camera"
    )
    assert out.returncode == 1
    rows = out.stdout.splitlines()
    assert rows[0].split() == ["status", "check", "detail"]
    assert any(r.startswith("FAIL    printer") for r in rows)
    assert any(r.strip().startswith("-> ") for r in rows)  # hints under FAIL lines
    assert not any("camera" in r.split()[1:2] for r in rows[2:] if r.strip())
    assert rows[-1].startswith("FAIL: ")


def test_corrupt_database(tmp_path, demo_dir):
    db = demo_dir / "kiosk.sqlite"
    db.write_bytes(b"this is not a database, it was a power cut " * 200)
    for extra in ("kiosk.sqlite-wal", "kiosk.sqlite-shm"):
        (demo_dir / extra).unlink(missing_ok=True)
    out = run_kiosk_cli("--data-dir", str(demo_dir), "doctor", "--json", "--skip", "camera")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    lines = json_lines(out.stdout)
    assert lines["database"]["status"] == "FAIL"
    assert "corrupt" in lines["database"]["detail"]
    assert "restore" in lines["database"]["hint"]
    for name in ("trust list", "outbox"):
        assert lines[name]["status"] == "SKIP"
    assert lines["data dir"]["status"] == "OK"


def test_damaged_pages_fail_the_integrity_check(demo_dir):
    db = demo_dir / "kiosk.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode = DELETE")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    assert pages > 6
    data = bytearray(db.read_bytes())
    for page in range(2, pages, 3):  # scribble over every third page
        start = page * page_size + 16
        data[start : start + 64] = b"\xa5" * 64
    db.write_bytes(bytes(data))
    result = by_name(run_doctor(build_env(None, str(demo_dir)), select_checks(only=["database"])))[
        "database"
    ]
    assert result.status is Status.FAIL, result
    assert result.hint


def test_missing_data_dir_and_bad_config(tmp_path):
    config = write_config(tmp_path / "bad.toml", 'mode = "airport"\n[camera]\nkindd = "usb"\n')
    out = run_kiosk_cli(
        "--config", str(config), "--data-dir", str(tmp_path / "nowhere"), "doctor", "--json"
    )
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    lines = json_lines(out.stdout)
    assert lines["config"]["status"] == "FAIL"
    assert len(lines["config"]["data"]["problems"]) == 2
    assert lines["data dir"]["status"] == "FAIL"
    assert lines["database"]["status"] == "FAIL"
    for name in ("camera", "printer", "registry"):
        assert lines[name]["status"] == "SKIP"


# --- a healthy station, with fakes that are real servers ---------------------------------------


class _Registry(http.server.BaseHTTPRequestHandler):
    skew_s = 0.0

    def do_GET(self):
        if self.path != "/api/v1/health":
            self.send_error(404)
            return
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(time.time() - self.skew_s, usegmt=True)

    def log_message(self, *args):
        pass


@pytest.fixture
def registry():
    servers = []

    def start(skew_s: float = 0.0, host: str = "127.0.0.1") -> str:
        handler = type("Handler", (_Registry,), {"skew_s": skew_s})
        server = http.server.ThreadingHTTPServer((host, 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://{host}:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fake_printer(tmp_path):
    from printer.fake_server import FakePrinterServer

    server = FakePrinterServer(port=0, control_port=0).start()
    yield server
    server.shutdown()


def _station_config(tmp_path, printer_uri: str, registry_url: str) -> Path:
    return write_config(
        tmp_path / "station.toml",
        f"""
mode = "station"
[camera]
kind = "replay"
replay_path = "{REPLAY_FRAMES}"
[printer]
uri = "{printer_uri}"
[registry]
url = "{registry_url}"
timeout_s = 3.0
""",
    )


def _record_sync(data_dir: Path, when: dt.datetime, pending: int):
    conn = sqlite3.connect(data_dir / "kiosk.sqlite")
    with conn:
        conn.execute(
            "INSERT OR REPLACE INTO sync_state(key, value) VALUES ('last_success_at', ?)",
            (when.strftime("%Y-%m-%dT%H:%M:%SZ"),),
        )
        for i in range(pending):
            conn.execute(
                "INSERT INTO outbox(kind, idempotency_key, payload_json, created_at) "
                "VALUES ('scan', ?, '{}', ?)",
                (f"k{i}", when.strftime("%Y-%m-%dT%H:%M:%SZ")),
            )
    conn.close()


def test_a_healthy_station(tmp_path, demo_dir, registry, fake_printer):
    url = registry(skew_s=0)
    config = _station_config(tmp_path, f"tcp://127.0.0.1:{fake_printer.port}", url)
    now = dt.datetime.now(dt.UTC)
    _record_sync(demo_dir, now - dt.timedelta(minutes=5), pending=3)
    results = by_name(run_doctor(build_env(str(config), str(demo_dir))))
    for name in (
        "config",
        "data dir",
        "database",
        "disk",
        "camera",
        "printer",
        "paper",
        "registry",
        "clock",
        "trust list",
        "outbox",
        "last sync",
    ):
        assert results[name].status is Status.OK, results[name]
    assert "replayed" in results["camera"].detail
    assert results["outbox"].data["pending"] == 3
    assert fake_printer.state.status_queries >= 2


def test_paper_low_clock_skew_and_stale_sync(tmp_path, demo_dir, registry, fake_printer):
    fake_printer.control({"cmd": "set", "paper_near_end": True})
    url = registry(skew_s=600)  # the registry is 10 min behind us
    config = _station_config(tmp_path, f"tcp://127.0.0.1:{fake_printer.port}", url)
    _record_sync(demo_dir, dt.datetime.now(dt.UTC) - dt.timedelta(days=9), 0)
    results = by_name(
        run_doctor(build_env(str(config), str(demo_dir)), select_checks(skip=["camera"]))
    )
    assert results["printer"].status is Status.OK
    assert results["paper"].status is Status.WARN
    assert results["clock"].status is Status.FAIL
    assert 590 <= results["clock"].data["skew_s"] <= 610
    assert "ahead of the registry" in results["clock"].detail
    assert results["last sync"].status is Status.FAIL

    fake_printer.control({"cmd": "set", "paper_out": True, "paper_near_end": False})
    results = by_name(
        run_doctor(build_env(str(config), str(demo_dir)), select_checks(only=["printer"]))
    )
    assert results["paper"].status is Status.FAIL


def test_stale_trust_list(tmp_path, demo_dir, registry):
    config = write_config(tmp_path / "k.toml", f'[registry]\nurl = "{registry()}"\n')
    env = build_env(
        str(config), str(demo_dir), now=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=40)
    )
    result = by_name(run_doctor(env, select_checks(only=["trust list"])))["trust list"]
    assert result.status is Status.FAIL and "revocations" in result.hint


# --- the runner --------------------------------------------------------------------------------


def test_a_raising_or_hanging_check_is_a_fail_line_not_a_crash():
    def boom(env):
        raise RuntimeError("camera driver exploded")

    def hang(env):
        time.sleep(30)

    checks = [
        Check(("first",), lambda env: ok("first", "fine")),
        Check(("boom",), boom),
        Check(("hang", "hang too"), hang, timeout_s=0.3),
        Check(("last",), lambda env: [fail("last", "bad", "do this")]),
    ]
    t0 = time.monotonic()
    results = run_checks(checks, env=None)
    assert time.monotonic() - t0 < 5
    assert [(r.name, r.status) for r in results] == [
        ("first", Status.OK),
        ("boom", Status.FAIL),
        ("hang", Status.FAIL),
        ("hang too", Status.FAIL),
        ("last", Status.FAIL),
    ]
    assert "RuntimeError: camera driver exploded" in results[1].detail
    assert "no answer within 0.3 s" in results[2].detail


def test_unknown_check_name_is_a_usage_error(demo_dir):
    out = run_kiosk_cli("--data-dir", str(demo_dir), "doctor", "--only", "kamera")
    assert out.returncode == 2
    assert "unknown check" in out.stderr and "Traceback" not in out.stderr


def test_clock_thresholds():
    env = build_env(None, None)
    now = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
    date = email.utils.format_datetime(now - dt.timedelta(seconds=45), usegmt=True)
    assert probes._clock_from_date(env, date, now, 0.05).status is Status.WARN
    date = email.utils.format_datetime(now, usegmt=True)
    assert probes._clock_from_date(env, date, now, 0.05).status is Status.OK
    env.now = lambda: dt.datetime(1970, 1, 1, 0, 5, tzinfo=dt.UTC)
    assert probes._local_clock(env, None).status is Status.FAIL


@pytest.mark.parametrize(
    "text,status",
    [
        ("throttled=0x0", Status.OK),
        ("throttled=0x50005", Status.FAIL),
        ("throttled=0x50000", Status.WARN),
        ("throttled=0x80000", Status.WARN),
    ],
)
def test_power(text, status):
    assert probes.power_result(probes.parse_throttled(text)).status is status


def _non_loopback_ipv4() -> str | None:
    """An address of this machine that is not loopback (no packet is sent)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("198.51.100.1", 9))  # TEST-NET-2: only picks the route
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_allowed_insecure_http_is_a_warning_refused_http_a_config_failure(
    tmp_path, demo_dir, registry
):
    host = _non_loopback_ipv4()
    if host is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    url = registry(host=host)
    allowed = write_config(
        tmp_path / "allowed.toml", f'[registry]\nurl = "{url}"\nallow_insecure_http = true\n'
    )
    line = by_name(run_doctor(build_env(str(allowed), str(demo_dir))))["registry"]
    assert line.status is Status.WARN, line
    assert "plain http" in line.detail and "https://" in line.hint
    assert line.data["insecure_http"] is True
    refused = write_config(tmp_path / "refused.toml", f'[registry]\nurl = "{url}"\n')
    results = by_name(run_doctor(build_env(str(refused), str(demo_dir))))
    assert results["config"].status is Status.FAIL
    assert "allow_insecure_http" in str(results["config"].data["problems"])
    assert results["registry"].status is Status.SKIP
    loopback = write_config(tmp_path / "loop.toml", f'[registry]\nurl = "{registry()}"\n')
    assert by_name(run_doctor(build_env(str(loopback), str(demo_dir))))["registry"].status is (
        Status.OK
    )
