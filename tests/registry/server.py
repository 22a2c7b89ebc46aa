"""A real registry process on 127.0.0.1 for tests (SQLite, or PostgreSQL when
$OCOP_TEST_POSTGRES_URL names a server: each registry then gets its own fresh database)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
PG_ENV = "OCOP_TEST_POSTGRES_URL"
STARTUP_TIMEOUT_S = 30


def backends() -> list:
    """sqlite always; postgres (marked) always listed, skipped without a server."""
    return ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def fresh_postgres_db(base: str | None = None) -> tuple[str, callable]:
    """CREATE DATABASE on the test server (`base`, default $OCOP_TEST_POSTGRES_URL);
    returns its URL and a dropper."""
    base = base or os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"${PG_ENV} not set (scripts/start-test-postgres.sh starts a server)")
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"ocop_test_{uuid.uuid4().hex[:12]}"
    url = make_url(base.replace("postgresql+psycopg://", "postgresql://"))
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        try:
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception:  # noqa: BLE001 - clean-up of a throwaway test database
            pass

    return url.set(database=name).render_as_string(hide_password=False), drop


@dataclass
class Registry:
    url: str
    token: str
    root_key: str
    admin_token: str
    data_dir: Path
    db_url: str
    proc: subprocess.Popen
    log_path: Path
    cleanups: list = field(default_factory=list)

    def admin(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.admin_token}", **kwargs.pop("headers", {})}
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def station(
        self, method: str, path: str, token: str | None = None, **kwargs
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.token}", **kwargs.pop("headers", {})}
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def cli(
        self, *args: str, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess:
        """`ocop-registry ARGS --db ... --data-dir ...` against this registry's database
        (`input`: its standard input)."""
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "registry.cli",
                *args,
                "--db",
                self.db_url,
                "--data-dir",
                str(self.data_dir),
            ],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            timeout=60,
            input=input,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"registry cli {args} failed: {result.stderr}")
        return result

    def issue_block(self, product_id: int = 101, count: int = 1, token: str | None = None) -> dict:
        """A new stamp block (POST /api/v1/stamp-blocks, a fresh request id) for the station
        (demo-station unless `token`): its JSON, with the signed stamp texts."""
        reply = self.station(
            "POST",
            "/api/v1/stamp-blocks",
            token=token,
            json={"request_id": f"r-{uuid.uuid4().hex}", "product_id": product_id, "count": count},
        )
        assert reply.status_code == 200, reply.text
        return reply.json()

    def add_station(self, name: str, district: str = "", **scope) -> str:
        """A new station's token; `scope`: role, producers, products, quota_per_day,
        quota_total (POST /api/v1/admin/stations; a kiosk without them)."""
        reply = self.admin(
            "POST", "/api/v1/admin/stations", json={"name": name, "district": district, **scope}
        )
        assert reply.status_code == 200, reply.text
        return reply.json()["token"]

    def report(self) -> dict:
        reply = self.admin("GET", "/api/v1/admin/reports")
        assert reply.status_code == 200, reply.text
        return reply.json()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for cleanup in self.cleanups:
            cleanup()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def serve_files(folder: Path) -> dict[str, Path]:
    """Where `serve --demo` writes demo-station's token, the root public key, the admin
    token and its URL (token, root, admin, url)."""
    return {name: folder / f"{name}.txt" for name in ("token", "root", "admin", "url")}


def serve_command(
    db_url: str, data_dir: Path, files: dict[str, Path], extra_args: Sequence[str] = ()
) -> list[str]:
    """`ocop-registry serve --demo` on 127.0.0.1 and a free port, writing `files`
    (serve_files); the tests' and the benchmarks' registry (bench/registry_load.py)."""
    return [
        sys.executable,
        "-m",
        "registry.cli",
        "serve",
        "--demo",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--db",
        db_url,
        "--data-dir",
        str(data_dir),
        "--token-file",
        str(files["token"]),
        "--root-key-file",
        str(files["root"]),
        "--admin-token-file",
        str(files["admin"]),
        "--url-file",
        str(files["url"]),
        *extra_args,
    ]


def start_registry(
    base: Path,
    backend: str = "sqlite",
    extra_args: tuple = (),
    env: dict | None = None,
    db_url: str | None = None,
) -> Registry:
    """env: extra environment for the registry process (e.g. OCOP_REGISTRY_SILENT_AFTER_S).
    db_url: another registry's database (a second host with its own data folder); its
    --demo start gives demo-station a new token (this Registry's `token`)."""
    base.mkdir(parents=True, exist_ok=True)
    data_dir = base / "registry-data"
    cleanups = []
    if db_url is not None:
        pass
    elif backend == "postgres":
        db_url, drop = fresh_postgres_db()
        cleanups.append(drop)
    else:
        db_url = f"sqlite:///{data_dir / 'registry.sqlite'}"
    files = serve_files(base)
    log_path = base / "registry.log"
    cmd = serve_command(db_url, data_dir, files, extra_args)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            env={**os.environ, **(env or {})},
        )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"registry exited {proc.returncode}: {log_path.read_text(errors='replace')}"
            )
        if files["url"].exists():
            url = files["url"].read_text().strip()
            try:
                if requests.get(url + "/api/v1/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
        time.sleep(0.05)
    else:
        proc.kill()
        raise AssertionError(f"registry did not start: {log_path.read_text(errors='replace')}")
    return Registry(
        url=url,
        token=files["token"].read_text().strip(),
        root_key=files["root"].read_text().strip(),
        admin_token=files["admin"].read_text().strip(),
        data_dir=data_dir,
        db_url=db_url,
        proc=proc,
        log_path=log_path,
        cleanups=cleanups,
    )


def kiosk_settings(
    registry_url: str, token: str, root_key: str, data_dir: Path | None = None, **registry_overrides
):
    from kiosk.settings import settings_from_dict

    reg = {
        "url": registry_url,
        "token": token,
        "root_public_key": root_key,
        "timeout_s": 5.0,
        **registry_overrides,
    }
    data = {"registry": reg}
    if data_dir is not None:
        data["data_dir"] = str(data_dir)
    return settings_from_dict(data, source="test")


def write_kiosk_config(
    path: Path, registry_url: str, token: str, root_key: str, data_dir: Path, **registry_overrides
) -> Path:
    reg = {
        "url": registry_url,
        "token": token,
        "root_public_key": root_key,
        "timeout_s": 5.0,
        **registry_overrides,
    }
    lines = [f"data_dir = {json.dumps(str(data_dir))}", "", "[registry]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in reg.items()]
    path.write_text("\n".join(lines) + "\n")
    return path
