"""scripts/install-pi.sh: its dry run on this machine lists every action and changes nothing.

Commands that change a machine are replaced by stubs on PATH that record any call, so even
a dry-run bug cannot touch the test machine (tests may run as root)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.deploy.helpers import INSTALLER, REPO_ROOT

MUTATING = (
    "apt-get",
    "useradd",
    "usermod",
    "groupadd",
    "userdel",
    "udevadm",
    "rsync",
    "install",
    "runuser",
    "python3",
    "cp",
    "raspi-config",
    "chown",
    "chmod",
    "mkdir",
    "rm",
    "sed",
    "ln",
)
READ_ONLY_SYSTEMCTL = ("get-default", "is-enabled", "cat", "is-active", "show", "status")
# What a dry run must never leave behind (checked only when absent before the run).
WATCHED = (
    "/etc/ocop-kiosk",
    "/opt/ocop-kiosk",
    "/var/lib/ocop-kiosk",
    "/etc/udev/rules.d/60-ocop-printer.rules",
    "/etc/systemd/system/ocop-kiosk.service",
    "/etc/systemd/journald.conf.d/ocop-kiosk.conf",
    "/usr/local/bin/ocop-kiosk",
)


@pytest.fixture
def stub_path(tmp_path):
    """A PATH whose mutating commands only record that they were called."""
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    log = tmp_path / "called.log"
    for name in MUTATING:
        real = shutil.which(name)
        if name in ("sed", "rm", "mkdir") and real:
            # Used read-only by the script (sed -n, mktemp clean-up): refuse only edits.
            guard = {"sed": '"$a" = "-i"', "rm": "1 = 1", "mkdir": "1 = 1"}[name]
            body = (
                f'for a in "$@"; do if [ {guard} ]; then echo "{name} $*" >> {log}; '
                f'exit 97; fi; done\nexec {real} "$@"\n'
            )
            if name == "rm":  # only temp files may be removed
                body = (
                    f'for a in "$@"; do case "$a" in -*|/tmp/*|{tmp_path}/*) ;; '
                    f'*) echo "rm $*" >> {log}; exit 97;; esac; done\nexec {real} "$@"\n'
                )
            if name == "mkdir":
                body = f'echo "mkdir $*" >> {log}; exit 97\n'
        elif name == "raspi-config":  # a Pi with blanking on: queries answer, edits refused
            body = (
                f'case "$2" in get_*) echo 0; exit 0;; esac\necho "{name} $*" >> {log}\nexit 97\n'
            )
        else:
            body = f'echo "{name} $*" >> {log}\nexit 97\n'
        (stubs / name).write_text("#!/bin/sh\n" + body)
        (stubs / name).chmod(0o755)
    real_systemctl = shutil.which("systemctl")
    passthrough = f'exec {real_systemctl} "$@"' if real_systemctl else "exit 1"
    (stubs / "systemctl").write_text(
        '#!/bin/sh\ncase "$1" in '
        + "|".join(READ_ONLY_SYSTEMCTL)
        + f') {passthrough};; esac\necho "systemctl $*" >> {log}\nexit 97\n'
    )
    (stubs / "systemctl").chmod(0o755)
    env = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}"}
    return env, log


def run_installer(env, *args, timeout_s=120):
    return subprocess.run(
        ["bash", str(INSTALLER), *args], capture_output=True, text=True, env=env, timeout=timeout_s
    )


def test_syntax():
    assert subprocess.run(["bash", "-n", str(INSTALLER)]).returncode == 0


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_shellcheck():
    root = INSTALLER.parent.parent
    scripts = [
        INSTALLER,
        root / "systemd" / "ocop-kiosk-cli.sh",
        root / "scripts" / "run",
        root / "scripts" / "test",
        root / "scripts" / "bootstrap.sh",
        root / "scripts" / "lib.sh",
        root / "scripts" / "freeze-constraints.sh",
        root / "scripts" / "start-test-postgres.sh",
        root / ".ci" / "run",
        root / "bench" / "run_all",
    ]
    out = subprocess.run(
        ["shellcheck", "-x", "-S", "warning", *map(str, scripts)],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert out.returncode == 0, out.stdout


def test_dry_run_lists_every_action_and_changes_nothing(stub_path):
    env, log = stub_path
    absent_before = [p for p in WATCHED if not os.path.lexists(p)]
    out = run_installer(env, "--dry-run", "--mode", "reststop")
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    assert not log.exists(), f"dry run executed: {log.read_text()}"
    for path in absent_before:
        assert not os.path.lexists(path), f"dry run created {path}"
    actions = [line for line in text.splitlines() if line.startswith("[dry-run] ")]
    assert len(actions) >= 10, text
    # Every step of the install shows up as an action, or as "ok: already done".
    expected = {
        "packages": ("apt-get install", "ok: Debian packages installed"),
        "user": ("useradd --system", "ok: user ocop exists"),
        "groups": ("usermod --append --groups", "ok: user ocop is in"),
        "program": ("rsync -a", "ok: running from /opt/ocop-kiosk"),
        "venv": ("python3 -m venv --system-site-packages", "ok: venv"),
        "config": ("/etc/ocop-kiosk/kiosk.toml", "ok: /etc/ocop-kiosk/kiosk.toml exists"),
        "data": ("install -d -m 0750 -o ocop -g ocop /var/lib/ocop-kiosk", None),
        "udev": ("/etc/udev/rules.d/60-ocop-printer.rules",),
        "unit": ("/etc/systemd/system/ocop-kiosk.service",),
        "sync unit": ("/etc/systemd/system/ocop-kiosk-sync.service",),
        "enable": ("systemctl enable ocop-kiosk.service", "ok: ocop-kiosk.service enabled"),
        "boot target": (
            "systemctl set-default multi-user.target",
            "ok: boot target is multi-user.target",
        ),
        "blanking": ("consoleblank=0",),
    }
    for step, needles in expected.items():
        assert any(n and n in text + out.stderr for n in needles), f"{step} missing:\n{text}"
    # --mode picks the example settings file for the site.
    assert (
        "config/reststop.toml /etc/ocop-kiosk/kiosk.toml" in text
        or "ok: /etc/ocop-kiosk/kiosk.toml exists" in text
    )


def test_dry_run_is_repeatable(stub_path):
    env, log = stub_path
    first = run_installer(env, "--dry-run")
    second = run_installer(env, "--dry-run")
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout
    assert not log.exists()


def test_uninstall_dry_run(stub_path):
    env, log = stub_path
    for args in (("--uninstall",), ("--uninstall", "--purge")):
        out = run_installer(env, "--dry-run", *args)
        assert out.returncode == 0, out.stdout + out.stderr
        assert not log.exists(), log.read_text()
        assert "ocop-kiosk.service" in out.stdout
    assert (
        "kept /etc/ocop-kiosk and /var/lib/ocop-kiosk"
        in run_installer(env, "--dry-run", "--uninstall").stdout
    )


@pytest.mark.parametrize("args", [("--mode", "bogus"), ("--frobnicate",), ("--purge",)])
def test_bad_options(stub_path, args):
    env, log = stub_path
    out = run_installer(env, "--dry-run", *args)
    assert out.returncode == 2
    assert not log.exists()


def test_help():
    out = subprocess.run(["bash", str(INSTALLER), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--dry-run" in out.stdout and "--uninstall" in out.stdout


# --- numpy/OpenCV limits per Raspberry Pi OS release (scripts/lib.sh, constraints/) ----------

LIB = INSTALLER.parent / "lib.sh"
CONSTRAINTS_DIR = INSTALLER.parent.parent / "constraints"


@pytest.fixture
def fake_os(tmp_path):
    """Point scripts/lib.sh at a fake /etc/os-release and a fake Debian picamera2 folder."""
    os_release = tmp_path / "os-release"
    picamera2 = tmp_path / "dist-packages" / "picamera2"

    def make(codename: str | None, *, picamera2_present: bool) -> dict:
        lines = ['PRETTY_NAME="Debian GNU/Linux"', "ID=debian"]
        if codename is not None:
            lines.append(f'VERSION_CODENAME="{codename}"')
        os_release.write_text("\n".join(lines) + "\n")
        if picamera2_present:
            picamera2.mkdir(parents=True, exist_ok=True)
        elif picamera2.exists():
            picamera2.rmdir()
        return {
            **os.environ,
            "OCOP_OS_RELEASE": str(os_release),
            "OCOP_PICAMERA2_DIR": str(picamera2),
        }

    return make


def chosen_constraints(env) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", f'. "{LIB}"; pi_constraints_file'],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )


@pytest.mark.parametrize("codename", ["bookworm", "trixie"])
def test_pi_release_picks_its_constraints(fake_os, codename):
    out = chosen_constraints(fake_os(codename, picamera2_present=True))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(CONSTRAINTS_DIR / f"pi-{codename}.txt")
    assert out.stderr == ""


@pytest.mark.parametrize("codename", ["bookworm", "trixie", None])
def test_no_os_picamera2_no_constraints(fake_os, codename):
    """Plain Debian (no python3-picamera2): nothing to stay compatible with, pip is free."""
    out = chosen_constraints(fake_os(codename, picamera2_present=False))
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")


@pytest.mark.parametrize("codename", ["forky", None])
def test_unknown_release_with_picamera2_warns(fake_os, codename):
    out = chosen_constraints(fake_os(codename, picamera2_present=True))
    assert out.returncode == 0 and out.stdout == ""
    assert "no numpy/OpenCV limits for this release" in out.stderr
    assert "bookworm trixie" in out.stderr


def constraint_for(codename: str, package: str):
    from packaging.requirements import Requirement

    lines = (CONSTRAINTS_DIR / f"pi-{codename}.txt").read_text().splitlines()
    reqs = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    return {r.name: r.specifier for r in reqs}.get(package)


def test_bookworm_limits_keep_numpy_1():
    """Bookworm's simplejpeg/picamera2 are built against numpy 1.24: no numpy 2 in the venv,
    and no OpenCV that needs it (opencv-python-headless 4.12.0.88 requires numpy>=2)."""
    numpy = constraint_for("bookworm", "numpy")
    assert "1.26.4" in numpy and "2.0.0" not in numpy
    opencv = constraint_for("bookworm", "opencv-python-headless")
    assert "4.11.0.86" in opencv and "4.12.0.88" not in opencv


def test_trixie_limits_keep_debians_numpy_series():
    """Trixie's are built against Debian's numpy 2.2 (python3-numpy 1:2.2.4)."""
    numpy = constraint_for("trixie", "numpy")
    assert "2.2.4" in numpy and "1.26.4" not in numpy and "2.3.0" not in numpy


@pytest.mark.parametrize("codename", ["bookworm", "trixie"])
def test_installer_passes_the_release_constraints_to_pip(stub_path, fake_os, codename):
    env, log = stub_path
    env = {**fake_os(codename, picamera2_present=True), "PATH": env["PATH"]}
    out = run_installer(env, "--dry-run")
    assert out.returncode == 0, out.stdout + out.stderr
    assert not log.exists()
    assert installer_pip_lines(out) == [INSTALLED_PIP], out.stdout
    assert f"[dry-run] write {INSTALLED_CONSTRAINTS} (mode 0644" in out.stdout
    assert (
        f"pip constraints: versions of constraints/tested.txt, limits of "
        f"constraints/pi-{codename}.txt"
    ) in out.stdout
    assert f", {codename}, " in out.stdout  # the machine line names the fake release


def test_installer_without_os_picamera2_pins_the_tested_versions(stub_path, fake_os):
    env, log = stub_path
    env = {**fake_os("bookworm", picamera2_present=False), "PATH": env["PATH"]}
    out = run_installer(env, "--dry-run")
    assert out.returncode == 0, out.stdout + out.stderr
    assert installer_pip_lines(out) == [INSTALLED_PIP], out.stdout
    assert "pip constraints: versions of constraints/tested.txt\n" in out.stdout


# --- the versions the suite ran with (constraints/tested.txt) ------------------------------

TESTED = CONSTRAINTS_DIR / "tested.txt"
INSTALLED_CONSTRAINTS = "/opt/ocop-kiosk/.venv/ocop-constraints.txt"
INSTALLED_PIP = (
    f"[dry-run] /opt/ocop-kiosk/.venv/bin/python -m pip install -q "
    f"/opt/ocop-kiosk -c {INSTALLED_CONSTRAINTS}"
)


def installer_pip_lines(out) -> list[str]:
    return [line for line in out.stdout.splitlines() if "-m pip install -q /opt/ocop-kiosk" in line]


def requirements(text: str) -> list:
    from packaging.requirements import Requirement

    return [
        Requirement(line.split("#")[0]) for line in text.splitlines() if line.split("#")[0].strip()
    ]


def by_name(reqs) -> dict:
    from packaging.utils import canonicalize_name

    return {canonicalize_name(r.name): r for r in reqs}


def pinned_version(req) -> str:
    (spec,) = req.specifier
    assert spec.operator == "==", f"{req}: constraints/tested.txt pins with == only"
    return spec.version


def direct_dependencies() -> list:
    import tomllib

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    reqs = requirements("\n".join(project["dependencies"]))
    for extra in project["optional-dependencies"].values():
        reqs += [r for r in requirements("\n".join(extra)) if r.name != project["name"]]
    return reqs


def test_tested_constraints_are_exact_pins_one_per_package():
    reqs = requirements(TESTED.read_text())
    assert len(reqs) > 20
    for req in reqs:
        pinned_version(req)
        assert not req.extras and req.marker is None and not req.url, req
    assert len(by_name(reqs)) == len(reqs), "a package pinned twice"
    assert "ocop-kiosk" not in by_name(reqs), "the project itself is not a constraint"


def test_every_direct_dependency_is_pinned_within_its_bounds():
    """Each dependency in pyproject.toml (every extra too) has a pin in tested.txt, and the
    pin is allowed by pyproject's bounds (a raised lower bound needs a fresh freeze)."""
    from packaging.version import Version

    pins = by_name(requirements(TESTED.read_text()))
    problems = []
    for dep in direct_dependencies():
        pin = by_name([dep]).keys() & pins.keys()
        if not pin:
            problems.append(f"{dep}: no pin in constraints/tested.txt")
            continue
        version = pinned_version(pins[pin.pop()])
        if not dep.specifier.contains(Version(version), prereleases=True):
            problems.append(f"{dep}: tested.txt pins {version}")
    assert not problems, "\n".join(problems) + "\n(scripts/freeze-constraints.sh)"


def test_the_suite_runs_with_the_versions_of_this_machines_constraints():
    """The venv running these tests holds exactly the pinned versions (after a pip install
    run scripts/freeze-constraints.sh), or, for packages a Pi file limits, a version in its
    limits."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.version import Version

    out = subprocess.run(
        ["bash", "-c", f'. "{LIB}"; install_constraints'],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    wrong = []
    for name, req in by_name(requirements(out.stdout)).items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            wrong.append(f"{req}: not installed")
            continue
        if not req.specifier.contains(Version(installed), prereleases=True):
            wrong.append(f"{req}: {installed} installed")
    assert not wrong, "\n".join(wrong) + "\n(scripts/freeze-constraints.sh)"


@pytest.mark.parametrize("codename", ["bookworm", "trixie"])
def test_a_pi_release_replaces_the_pins_its_limits_name(fake_os, codename):
    """pip refuses numpy==2.4 next to numpy<2: the Pi file's lines win, every other pin of
    tested.txt stays."""
    env = fake_os(codename, picamera2_present=True)
    out = subprocess.run(
        ["bash", "-c", f'. "{LIB}"; install_constraints'],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert out.returncode == 0 and out.stderr == "", out.stderr
    effective = by_name(requirements(out.stdout))
    limits = by_name(requirements((CONSTRAINTS_DIR / f"pi-{codename}.txt").read_text()))
    tested = by_name(requirements(TESTED.read_text()))
    assert limits and limits.keys() <= tested.keys()
    assert len(requirements(out.stdout)) == len(effective), "a package constrained twice"
    for name, req in effective.items():
        assert str(req) == str(limits.get(name, tested.get(name))), name
    assert effective.keys() == tested.keys() | limits.keys()


def test_the_pi_file_wins_whatever_the_spelling(fake_os, tmp_path):
    """Names compare as pip compares them: NumPy, numpy, opencv_python.headless alike."""
    root = tmp_path / "src"
    (root / "scripts").mkdir(parents=True)
    (root / "constraints").mkdir()
    shutil.copy(LIB, root / "scripts" / "lib.sh")
    (root / "constraints" / "tested.txt").write_text(
        "# header\nNumPy==2.4.6\nopencv_python.headless==5.0.0.93\nsegno==1.6.6\n"
    )
    (root / "constraints" / "pi-bookworm.txt").write_text(
        "# why\nnumpy<2  # comment\nopencv-python-headless<4.12\n"
    )
    env = fake_os("bookworm", picamera2_present=True)
    out = subprocess.run(
        ["bash", "-c", f'. "{root}/scripts/lib.sh"; install_constraints'],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert [str(r) for r in requirements(out.stdout)] == [
        "segno==1.6.6",
        "numpy<2",
        "opencv-python-headless<4.12",
    ]


@pytest.fixture
def bootstrap_tree(tmp_path):
    """scripts/bootstrap.sh in a copy of the source tree whose .venv/bin/python only records
    its arguments, and a PATH where every Debian package is installed: it runs to the end
    without installing anything."""
    root = tmp_path / "src"
    shutil.copytree(REPO_ROOT / "scripts", root / "scripts")
    shutil.copytree(CONSTRAINTS_DIR, root / "constraints")
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    log = tmp_path / "pip.log"
    python = root / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    python.chmod(0o755)
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name, body in (
        ("dpkg-query", "echo 'install ok installed'"),
        ("apt-get", f'echo "apt-get $*" >> {log}; exit 97'),
        ("sudo", f'echo "sudo $*" >> {log}; exit 97'),
    ):
        (stubs / name).write_text(f"#!/bin/sh\n{body}\n")
        (stubs / name).chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{stubs}:{os.environ['PATH']}",
        "OCOP_PICAMERA2_DIR": str(tmp_path / "no-picamera2"),
    }

    def run():
        out = subprocess.run(
            ["bash", str(root / "scripts" / "bootstrap.sh"), "--test"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        calls = log.read_text().splitlines() if log.exists() else []
        log.unlink(missing_ok=True)
        return calls

    return root, run


def test_bootstrap_installs_with_the_tested_versions(bootstrap_tree):
    root, run = bootstrap_tree
    constraints = root / ".venv" / "ocop-constraints.txt"
    calls = run()
    assert calls == [
        "-m pip install -q --upgrade pip",
        f"-m pip install -q -e {root}[test] -c {constraints} "
        "--config-settings editable_mode=lenient",
    ]
    assert constraints.read_text() == (root / "constraints" / "tested.txt").read_text()
    assert run() == []  # nothing changed: nothing installed again
    tested = root / "constraints" / "tested.txt"
    tested.write_text(tested.read_text() + "# frozen again\n")
    assert len(run()) == 2  # a new freeze: installed again
