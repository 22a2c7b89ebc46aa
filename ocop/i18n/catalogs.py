"""The gettext catalog tooling every app shares, without GNU gettext installed: extract
msgids from the code, merge them into each .po, compile .mo, and check that they are in step.

Each app has its own catalog and command (`python -m kiosk.i18n.build`,
`python -m registry.i18n.build`); both fall back to the domain's catalog (OCOP_CATALOG,
`ocop.po`: verdicts, states, ratings) at run time and keep it in step too. A msgid the
domain has is translated there only, never twice.

Extraction looks for ``_("...")`` / ``N_("...")`` in Python and ``tr("...", ...)`` in .kv
files. New msgids are appended with an empty msgstr (English: msgstr = msgid); msgids no
longer used are kept, marked obsolete with a "#~" comment line so translations are not lost.
"""

from __future__ import annotations

import argparse
import ast
import re
import struct
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ocop.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

OCOP_DIR = Path(__file__).resolve().parent.parent
_KV_CALL = re.compile(r"""\btr\(\s*("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')\s*,""")


@dataclass(frozen=True)
class Catalog:
    domain: str
    locale_dir: Path
    sources: tuple[Path, ...]
    title: str
    below: Catalog | None = None  # the catalog this one falls back to at run time
    command: str = "python -m kiosk.i18n.build"  # what rebuilds it (the .po's first lines say)

    def po_path(self, lang: str) -> Path:
        return self.locale_dir / lang / "LC_MESSAGES" / f"{self.domain}.po"

    def mo_path(self, lang: str) -> Path:
        return self.po_path(lang).with_suffix(".mo")

    def source_files(self) -> list[Path]:
        files: list[Path] = []
        for path in self.sources:
            if path.is_dir():
                files += sorted(p for p in path.rglob("*") if p.suffix in (".py", ".kv"))
            elif path.exists():
                files.append(path)
        return files

    def msgids(self) -> list[str]:
        """This catalog's msgids: what its sources mark, less what `below` translates."""
        found = extract(self.source_files())
        if self.below is None:
            return found
        taken = set(self.below.msgids())
        return [m for m in found if m not in taken]


# Either app's command rebuilds it (the same bytes); the .po names the kiosk's.
OCOP_CATALOG = Catalog(DOMAIN, LOCALE_DIR, (OCOP_DIR,), "OCOP domain (verdicts, states, ratings)")


def extract(files: list[Path]) -> list[str]:
    """msgids in order of first appearance."""
    seen: dict[str, None] = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".kv":
            for match in _KV_CALL.finditer(text):
                seen.setdefault(ast.literal_eval(match.group(1)), None)
            continue
        for node in ast.walk(ast.parse(text, str(path))):
            if (
                isinstance(node, ast.Call)
                and node.args
                and (
                    getattr(node.func, "id", None) in ("_", "N_")
                    or getattr(node.func, "attr", None) == "tr"
                )
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                seen.setdefault(node.args[0].value, None)
    return list(seen)


# --- .po reading / writing ---------------------------------------------------------------


def _unquote(line: str) -> str:
    return str(ast.literal_eval(line))


def read_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr (header entry '' included). Handles multi-line strings."""
    entries: dict[str, str] = {}
    msgid: str | None = None
    msgstr: str | None = None
    target: str | None = None
    if not path.exists():
        return entries
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if line.startswith("msgid "):
            if msgid is not None and msgstr is not None:
                entries[msgid] = msgstr
            msgid, msgstr, target = _unquote(line[6:]), None, "id"
        elif line.startswith("msgstr "):
            msgstr, target = _unquote(line[7:]), "str"
        elif line.startswith('"') and target == "id" and msgid is not None:
            msgid += _unquote(line)
        elif line.startswith('"') and target == "str" and msgstr is not None:
            msgstr += _unquote(line)
        elif not line or line.startswith("#"):
            if msgid is not None and msgstr is not None:
                entries[msgid] = msgstr
            msgid = msgstr = target = None
    return entries


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def header(lang: str) -> str:
    return (
        "Project-Id-Version: ocop-kiosk\n"
        f"Language: {lang}\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=UTF-8\n"
        "Content-Transfer-Encoding: 8bit\n"
        "Plural-Forms: nplurals=1; plural=0;\n"
        if lang == "vi"
        else "Project-Id-Version: ocop-kiosk\n"
        f"Language: {lang}\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=UTF-8\n"
        "Content-Transfer-Encoding: 8bit\n"
        "Plural-Forms: nplurals=2; plural=(n != 1);\n"
    )


def write_po(
    path: Path,
    lang: str,
    msgids: list[str],
    existing: dict[str, str],
    title: str = "OCOP Sơn La kiosk",
    command: str = "python -m kiosk.i18n.build",
) -> None:
    lines = [
        f"# {title}: {'Vietnamese' if lang == 'vi' else 'English'} strings.",
        f"# Edit msgstr lines, then run: {command}",
        'msgid ""',
        'msgstr ""',
    ]
    lines += [_quote(h + "\n") for h in header(lang).rstrip("\n").split("\n")]
    used = set(msgids)
    for msgid in msgids:
        msgstr = existing.get(msgid, "")
        if lang == "en" and not msgstr:
            msgstr = msgid
        lines += ["", f"msgid {_quote(msgid)}", f"msgstr {_quote(msgstr)}"]
    for msgid, msgstr in existing.items():
        if msgid and msgid not in used and msgstr:
            lines += ["", "#~ obsolete", f"msgid {_quote(msgid)}", f"msgstr {_quote(msgstr)}"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def mo_bytes(entries: dict[str, str]) -> bytes:
    """GNU .mo format (what msgfmt writes), untranslated entries left out."""
    items = sorted((k, v) for k, v in entries.items() if v or k == "")
    ids = [k.encode("utf-8") for k, _ in items]
    strs = [v.encode("utf-8") for _, v in items]
    n = len(items)
    key_start = 7 * 4 + 16 * n
    offsets, blob_ids, blob_strs = [], b"", b""
    for i, s in zip(ids, strs, strict=True):
        offsets.append((len(i), len(blob_ids), len(s), len(blob_strs)))
        blob_ids += i + b"\0"
        blob_strs += s + b"\0"
    value_start = key_start + len(blob_ids)
    key_table, value_table = b"", b""
    for ilen, ioff, slen, soff in offsets:
        key_table += struct.pack("<II", ilen, key_start + ioff)
        value_table += struct.pack("<II", slen, value_start + soff)
    head = struct.pack("<7I", 0x950412DE, 0, n, 7 * 4, 7 * 4 + 8 * n, 0, 0)
    return head + key_table + value_table + blob_ids + blob_strs


def problems(catalogs: Sequence[Catalog], command: str) -> list[str]:
    """What `command --check` reports: msgids missing from a .po, Vietnamese left
    untranslated, .mo files not compiled from their .po."""
    found = []
    for catalog in catalogs:
        msgids = catalog.msgids()
        for lang in LANGUAGES:
            po, mo = catalog.po_path(lang), catalog.mo_path(lang)
            entries = read_po(po)
            missing = [m for m in msgids if m not in entries]
            if missing:
                found.append(
                    f"{lang}: {len(missing)} msgid(s) not in {po.name}, e.g. {missing[0]!r}"
                )
            if lang == "vi":
                empty = [m for m in msgids if m in entries and not entries[m]]
                if empty:
                    found.append(f"vi: {len(empty)} untranslated in {po.name}, e.g. {empty[0]!r}")
            if not mo.exists() or mo.read_bytes() != mo_bytes(entries):
                found.append(f"{lang}: {mo} is stale; run {command}")
    return found


def build(catalogs: Sequence[Catalog]) -> None:
    for catalog in catalogs:
        msgids = catalog.msgids()
        for lang in LANGUAGES:
            po = catalog.po_path(lang)
            existing = read_po(po)
            existing.pop("", None)
            write_po(po, lang, msgids, existing, catalog.title, catalog.command)
            catalog.mo_path(lang).write_bytes(mo_bytes(read_po(po)))


def main(catalogs: Sequence[Catalog], command: str, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=command)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if args.check:
        found = problems(catalogs, command)
        for p in found:
            print(p, file=sys.stderr)
        return 1 if found else 0
    build(catalogs)
    left = [p for p in problems(catalogs, command) if "untranslated" in p]
    for p in left:
        print(p, file=sys.stderr)
    return 0
