"""The shipped ocop-kiosk.service under a real systemd, on this machine.

systemd runs as PID 1 of a new PID and mount namespace (`unshare`), with fresh tmpfs over /run,
/tmp, /var/tmp, /var/lib, /var/log and /var/cache so nothing of it reaches the machine (a
booting systemd empties /tmp). A manual check, not part of the suite: systemd remounts
/sys/fs/cgroup read-only, for the whole machine. It loads the unit
file from systemd/ unchanged plus one drop-in with only what differs on a machine that is
not a Pi (listed in DROP_IN with the reason for each line), and starts it. The unit's own
Type=notify, NotifyAccess, WatchdogSec, Restart and sandboxing are what is tested.

    python -m tests.deploy.systemd_box --minutes 5          # the shipped WatchdogSec=30s
    python -m tests.deploy.systemd_box --minutes 1 --watchdog-s 4

It prints one line per sample and exits 1 when the service restarted, stopped being active,
or its watchdog timestamp fell behind.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
UNIT = "ocop-kiosk.service"

# Only what a non-Pi machine needs; everything else is the shipped unit.
DROP_IN = """\
[Service]
# The program from this checkout, not /opt/ocop-kiosk; --windowed: no display to fill.
ExecStart=
ExecStart={venv}/bin/ocop-kiosk run --windowed
# No 'ocop' user on this machine (the Pi installer creates it).
User=root
Group=root
SupplementaryGroups=
# No tty1 and no display here: SDL renders offscreen, output to a file.
StandardInput=null
TTYReset=no
TTYVHangup=no
StandardOutput=append:{log}
StandardError=append:{log}
Environment=SDL_VIDEODRIVER=offscreen
# This machine's python lives under /root (pyenv); a Pi's is /usr/bin/python3.
ProtectHome=no
# scripts/install-pi.sh writes /etc/ocop-kiosk/kiosk.toml; here the settings are the
# built-in defaults (an empty file) and /etc stays untouched.
ConfigurationDirectory=
Environment=OCOP_KIOSK_CONFIG=/run/box/kiosk.toml
{watchdog}
"""

RUN_SH = """\
#!/bin/sh
# In the new mount namespace: this box's files under /run/box, then fresh tmpfs over every
# place a booting systemd cleans or writes (tmpfiles empties /tmp at boot), so nothing of the
# machine's is touched.
set -e
mount -t tmpfs tmpfs /run
mkdir -p /run/box /run/systemd/system/{unit}.d
mount --bind {workdir} /run/box
for d in /tmp /var/tmp /var/lib /var/log /var/cache; do mount -t tmpfs tmpfs "$d"; done
cp /run/box/units/{unit} /run/systemd/system/
cp /run/box/units/override.conf /run/systemd/system/{unit}.d/
cp /run/box/units/ocop-box.target /run/systemd/system/
exec /lib/systemd/systemd --system --unit=ocop-box.target
"""

TARGET = """\
[Unit]
Description=the kiosk and nothing else
Wants=ocop-kiosk.service
"""


def available() -> str | None:
    """None when systemd can run here, else why not."""
    if os.geteuid() != 0:
        return "needs root (a PID namespace for systemd)"
    for tool in ("unshare", "nsenter"):
        if shutil.which(tool) is None:
            return f"{tool} missing"
    if not Path("/lib/systemd/systemd").exists():
        return "systemd missing (apt-get install systemd)"
    probe = subprocess.run(
        [
            "unshare",
            "--pid",
            "--fork",
            "--mount",
            "--propagation",
            "private",
            "--mount-proc",
            "true",
        ],
        capture_output=True,
        timeout=20,
    )
    if probe.returncode != 0:
        return f"no PID/mount namespace here: {probe.stderr.decode(errors='replace')[:200]}"
    return None


@dataclass
class Sample:
    at_s: float
    active: str
    sub: str
    restarts: int
    main_pid: int
    watchdog_us: int  # CLOCK_MONOTONIC of the last WATCHDOG=1 systemd got, 0: none
    now_us: int  # CLOCK_MONOTONIC when sampled (no time namespace: same clock)

    @property
    def ping_age_s(self) -> float | None:
        return (self.now_us - self.watchdog_us) / 1e6 if self.watchdog_us else None


class SystemdBox:
    def __init__(self, workdir: Path, watchdog_s: float | None = None):
        self.workdir = workdir
        self.log = workdir / "kiosk.log"
        self.watchdog_s = watchdog_s
        self.proc: subprocess.Popen | None = None
        self.pid1: int | None = None

    def start(self, timeout_s: float = 30.0) -> None:
        units = self.workdir / "units"
        units.mkdir(parents=True)
        shutil.copy(REPO_ROOT / "systemd" / UNIT, units / UNIT)
        watchdog = f"WatchdogSec={self.watchdog_s:g}s" if self.watchdog_s else ""
        (units / "override.conf").write_text(
            DROP_IN.format(venv=REPO_ROOT / ".venv", log="/run/box/kiosk.log", watchdog=watchdog)
        )
        (units / "ocop-box.target").write_text(TARGET)
        (self.workdir / "kiosk.toml").write_text("")
        run_sh = self.workdir / "run.sh"
        run_sh.write_text(RUN_SH.format(unit=UNIT, workdir=self.workdir))
        run_sh.chmod(0o755)
        self.proc = subprocess.Popen(
            [
                "unshare",
                "--pid",
                "--fork",
                "--mount",
                "--propagation",
                "private",
                "--mount-proc",
                str(run_sh),
            ],
            stdout=subprocess.DEVNULL,
            # the log must outlive this call: systemd writes to it until stop() kills it
            stderr=open(self.workdir / "systemd.log", "w"),  # noqa: SIM115
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.pid1 = self._find_pid1()
            if self.pid1 and self.ctl("is-system-running").stdout.strip() in (
                "running",
                "degraded",
                "starting",
            ):
                return
            time.sleep(0.3)
        raise RuntimeError(f"systemd did not come up: {self._tail()}")

    def _find_pid1(self) -> int | None:
        """The systemd of our namespace: the child of unshare's fork."""
        if self.proc is None:
            return None
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        pids = [int(p) for p in out.stdout.split()]
        return pids[0] if pids else None

    def ctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["nsenter", "-t", str(self.pid1), "-p", "-m", "systemctl", "--no-pager", *args],
            capture_output=True,
            text=True,
            timeout=30,
        )

    def sample(self, t0: float) -> Sample:
        props = dict(
            line.split("=", 1)
            for line in self.ctl(
                "show",
                UNIT,
                "-p",
                "ActiveState",
                "-p",
                "SubState",
                "-p",
                "NRestarts",
                "-p",
                "MainPID",
                "-p",
                "WatchdogTimestampMonotonic",
            ).stdout.splitlines()
            if "=" in line
        )
        return Sample(
            time.monotonic() - t0,
            props.get("ActiveState", "?"),
            props.get("SubState", "?"),
            int(props.get("NRestarts") or 0),
            int(props.get("MainPID") or 0),
            int(props.get("WatchdogTimestampMonotonic") or 0),
            time.monotonic_ns() // 1000,
        )

    def wait_active(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = self.ctl("is-active", UNIT).stdout.strip()
            if state == "active":
                return
            if state == "failed":
                break
            time.sleep(0.5)
        raise RuntimeError(f"{UNIT} not active: {self.ctl('status', UNIT).stdout}\n{self._tail()}")

    def stop_unit(self) -> str:
        self.ctl("stop", UNIT)
        return self.ctl("show", UNIT, "-p", "Result", "--value").stdout.strip()

    def close(self) -> None:
        # SIGKILL only: systemd as PID 1 answers SIGTERM by re-executing itself, and then
        # starts the default target. Its death ends every process of the namespace.
        if self.pid1 is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid1, signal.SIGKILL)
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def _tail(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-3000:]


def watch(box: SystemdBox, run_s: float, every_s: float = 1.0, out=None) -> list[Sample]:
    t0 = time.monotonic()
    samples = []
    while time.monotonic() - t0 < run_s:
        s = box.sample(t0)
        samples.append(s)
        if out is not None:
            print(
                f"{s.at_s:7.1f} s  {s.active}/{s.sub}  restarts={s.restarts}  "
                f"pid={s.main_pid}  last ping {s.ping_age_s:.1f} s ago",
                file=out,
                flush=True,
            )
        time.sleep(every_s)
    return samples


def problems(samples: list[Sample], watchdog_s: float) -> list[str]:
    found = []
    if {s.main_pid for s in samples} != {samples[0].main_pid}:
        found.append("the kiosk's main PID changed (it was restarted)")
    if any(s.restarts for s in samples):
        found.append(f"NRestarts={max(s.restarts for s in samples)}")
    inactive = [s for s in samples if (s.active, s.sub) != ("active", "running")]
    if inactive:
        found.append(f"not active/running at {inactive[0].at_s:.0f} s: {inactive[0]}")
    pings = {s.watchdog_us for s in samples if s.watchdog_us}
    # the app pings at half of WatchdogSec; samples catch the latest ping only
    expected = (samples[-1].at_s - samples[0].at_s) / (watchdog_s / 2)
    if len(pings) < 0.8 * expected - 1:
        found.append(f"systemd saw {len(pings)} distinct ping times, about {expected:.0f} expected")
    ages = [s.ping_age_s for s in samples]
    if None in ages:
        found.append("a sample without any ping")
    elif max(ages) >= watchdog_s:
        found.append(f"the last ping was {max(ages):.1f} s old (WatchdogSec {watchdog_s:g} s)")
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument(
        "--watchdog-s",
        type=float,
        default=None,
        help="override the unit's WatchdogSec (default: as shipped)",
    )
    args = parser.parse_args(argv)
    why = available()
    if why:
        print(f"systemd cannot run here: {why}")
        return 2
    # not under /tmp: the box mounts its own /tmp over it
    with tempfile.TemporaryDirectory(prefix="ocop-systemd-", dir=REPO_ROOT) as tmp:
        box = SystemdBox(Path(tmp), args.watchdog_s)
        try:
            box.start()
            box.wait_active(180)
            watchdog_s = args.watchdog_s or float(
                box.ctl("show", UNIT, "-p", "WatchdogUSec", "--value").stdout.strip().rstrip("s")
                or 30
            )
            samples = watch(box, args.minutes * 60, every_s=5.0, out=sys.stdout)
            found = problems(samples, watchdog_s)
            result = box.stop_unit()
            print(f"stop result: {result}")
            pings = len({s.watchdog_us for s in samples if s.watchdog_us})
            print(
                f"{args.minutes:g} min, WatchdogSec {watchdog_s:g} s: {pings} distinct "
                f"ping times seen in {len(samples)} samples; restarts "
                f"{samples[-1].restarts}; problems: {found or 'none'}"
            )
            return 1 if found or result != "success" else 0
        finally:
            box.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
