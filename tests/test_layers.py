"""The import rules of docs/architecture.md, checked on the real packages.

Each import is done in a fresh interpreter so that what one package loads cannot hide what
another one needs. What may import what:

    ocop/      the domain: stdlib and cryptography only (no SQLite, network, Kivy, FastAPI)
    printer/, scanner/   adapters: never kiosk/ or registry/
    registry/  ocop/ and its own modules; never kiosk/ (the demo data only lazily, --demo)
    kiosk/     only kiosk/ui imports kivy
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def loaded_modules(*imports: str) -> set[str]:
    code = (
        "import json, sys\n"
        + "".join(f"import {name}\n" for name in imports)
        + "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out))


def module_names(package: str, skip: tuple[str, ...] = ()) -> list[str]:
    """Every module of a package, nested ones too (__init__ files are their packages)."""
    return [
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in sorted((ROOT / package).rglob("*.py"))
        if p.stem not in ("__init__", *skip)
    ]


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_the_registry_loads_no_kiosk_module():
    loaded = loaded_modules("registry.api", "registry.cli")
    assert sorted(m for m in loaded if m == "kiosk" or m.startswith("kiosk.")) == []
    assert "kivy" not in top_level(loaded)


def test_the_domain_loads_no_io_framework():
    loaded = top_level(loaded_modules(*module_names("ocop")))
    forbidden = {
        "kiosk",
        "registry",
        "printer",
        "scanner",
        "sqlite3",
        "sqlalchemy",
        "fastapi",
        "starlette",
        "requests",
        "urllib3",
        "kivy",
        "cv2",
        "PIL",
        "numpy",
        "escpos",
        "socket",
        "http",
    }
    assert sorted(loaded & forbidden) == []


@pytest.mark.parametrize("package", ["printer", "scanner"])
def test_adapters_never_import_the_apps(package):
    loaded = top_level(loaded_modules(*module_names(package, skip=("__main__", "_escpos"))))
    assert sorted(loaded & {"kiosk", "registry", "kivy"}) == []


def module_level_imports(path: Path) -> dict[str, int]:
    """Top-level package -> line, for imports at module level (a function may import lazily:
    the CLI configures Kivy just before it starts the UI, the registry's --demo loads the
    demo data)."""
    names: dict[str, int] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(node, ast.Import):
            names.update({alias.name.split(".")[0]: node.lineno for alias in node.names})
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names[node.module.split(".")[0]] = node.lineno
    return names


def offenders(packages: tuple[str, ...], imported: str, allowed_prefix: str = "") -> list[str]:
    found = []
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            line = module_level_imports(path).get(imported)
            if line and not (allowed_prefix and rel.startswith(allowed_prefix)):
                found.append(f"{rel}:{line}")
    return found


def test_only_kiosk_ui_imports_kivy():
    assert (
        offenders(
            ("ocop", "kiosk", "registry", "printer", "scanner"), "kivy", allowed_prefix="kiosk/ui/"
        )
        == []
    )


def test_nothing_imports_kiosk_but_kiosk():
    assert offenders(("ocop", "registry", "printer", "scanner"), "kiosk") == []


def test_the_doctor_loads_no_ui_and_no_kivy(tmp_path):
    """`ocop-kiosk doctor` runs where the UI cannot (no display, a broken Kivy): its modules,
    and choosing and reading the camera as the kiosk would, load neither."""
    loaded = loaded_modules(*module_names("kiosk/doctor"))
    assert sorted(m for m in loaded if m.startswith("kiosk.ui")) == []
    assert "kivy" not in top_level(loaded)
    code = (
        "import json, sys\nfrom pathlib import Path\n"
        "from kiosk.doctor.adapters import probe_camera\n"
        "from kiosk.settings import Settings\n"
        f"probe = probe_camera(Settings(), Path({str(tmp_path)!r}), frames_wanted=2)\n"
        "print(json.dumps([probe.frames, sorted(sys.modules)]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    frames, modules = json.loads(out.splitlines()[-1])
    assert frames == 2
    assert "kiosk.camera_choice" in modules  # the kiosk's own choice of camera
    assert sorted(m for m in modules if m.startswith("kiosk.ui") or m == "kivy") == []


def test_the_doctor_never_imports_the_ui_even_lazily():
    found = []
    for path in sorted((ROOT / "kiosk" / "doctor").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [
                f"{path.name}:{node.lineno} {n}"
                for n in names
                if n.startswith(("kiosk.ui", "kivy"))
            ]
    assert found == []
