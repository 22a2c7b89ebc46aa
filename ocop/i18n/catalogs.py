"""The gettext catalog tooling every app shares, without GNU gettext installed: extract
msgids from the code, merge them into each .po, compile .mo, and check that they are in step.

Each app has its own catalog and command (`python -m kiosk.i18n.build`,
`python -m registry.i18n.build`); both fall back to the domain's catalog (OCOP_CATALOG,
`ocop.po`: verdicts, states, ratings) at run time and keep it in step too. A msgid the
domain has is translated there only, never twice.

Extraction looks for ``_("...")`` / ``N_("...")`` in Python and ``tr("...", ...)`` in .kv
files, and for plural pairs ``NP_("one", "many")`` / ``ngettext("one", "many", n)`` (an entry
with msgid_plural and one msgstr[i] per plural form of the language, PLURAL_FORMS). New
msgids are appended with an empty msgstr (English: msgstr = msgid, msgstr[1] =
msgid_plural); msgids no longer used are kept, marked obsolete with a "#~" comment line so
translations are not lost. A singular msgid that becomes a plural entry keeps its
translation as the first form.
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
# Python, Kivy rules and Jinja2 templates (the registry's console: `{{ _("...") }}`).
SOURCE_SUFFIXES = (".py", ".kv", ".html")
SINGULAR_KEYWORDS = ("_", "N_")  # and a .tr(...) method call (kv helpers)
PLURAL_KEYWORDS = ("NP_", "ngettext")  # (msgid, msgid_plural, ...)
# The Plural-Forms header of each language; its nplurals is how many msgstr[i] an entry needs.
PLURAL_FORMS = {"vi": "nplurals=1; plural=0;", "en": "nplurals=2; plural=(n != 1);"}


def nplurals(lang: str) -> int:
    match = re.match(r"nplurals=(\d+);", PLURAL_FORMS[lang])
    assert match, PLURAL_FORMS[lang]
    return int(match.group(1))


@dataclass(frozen=True)
class Message:
    """A msgid found in the sources; `plural` is its msgid_plural (an ngettext entry)."""

    msgid: str
    plural: str | None = None


@dataclass(frozen=True)
class Entry:
    """A .po entry: msgstr (one string), or msgstr[0..] for an entry with msgid_plural."""

    strs: tuple[str, ...]
    plural: str | None = None

    @property
    def msgstr(self) -> str:
        return self.strs[0] if self.strs else ""


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
                files += sorted(p for p in path.rglob("*") if p.suffix in SOURCE_SUFFIXES)
            elif path.exists():
                files.append(path)
        return files

    def messages(self) -> list[Message]:
        """This catalog's msgids: what its sources mark, less what `below` translates."""
        found = extract(self.source_files())
        if self.below is None:
            return found
        taken = {m.msgid for m in self.below.messages()}
        return [m for m in found if m.msgid not in taken]

    def msgids(self) -> list[str]:
        return [m.msgid for m in self.messages()]


# Either app's command rebuilds it (the same bytes); the .po names the kiosk's.
OCOP_CATALOG = Catalog(DOMAIN, LOCALE_DIR, (OCOP_DIR,), "OCOP domain (verdicts, states, ratings)")


def _string_args(node: ast.Call, count: int) -> list[str] | None:
    args = node.args[:count]
    if len(args) < count:
        return None
    if not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
        return None
    return [a.value for a in args]  # type: ignore[attr-defined]


def _call_name(node: ast.Call) -> str | None:
    return getattr(node.func, "id", None) or getattr(node.func, "attr", None)


def _template_msgids(text: str, path: Path) -> list[str]:
    """The constant first arguments of `_()` calls in a Jinja2 template (`_(name)` with a
    variable is translated at run time from a msgid marked N_ in Python)."""
    import jinja2  # only templates need it (the registry's console); the kiosk has none
    import jinja2.ext

    tree = jinja2.Environment().parse(text, name=path.name)
    found = jinja2.ext.extract_from_ast(tree, gettext_functions=("_",), babel_style=False)
    return [strings[0] for _, _, strings in found if strings and isinstance(strings[0], str)]


def extract(files: list[Path]) -> list[Message]:
    """Messages in order of first appearance; a msgid marked both ways is the plural one."""
    seen: dict[str, Message] = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".kv":
            for match in _KV_CALL.finditer(text):
                msgid = ast.literal_eval(match.group(1))
                seen.setdefault(msgid, Message(msgid))
            continue
        if path.suffix == ".html":
            for msgid in _template_msgids(text, path):
                seen.setdefault(msgid, Message(msgid))
            continue
        for node in ast.walk(ast.parse(text, str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = _call_name(node)
            plural = _string_args(node, 2) if name in PLURAL_KEYWORDS else None
            if plural is not None:
                one, many = plural
                if seen.get(one, Message(one)).plural not in (None, many):
                    raise ValueError(f"{path}: {one!r} has two plurals")
                seen[one] = Message(one, many)
                continue
            single = _string_args(node, 1)
            is_marker = getattr(node.func, "id", None) in SINGULAR_KEYWORDS or (
                getattr(node.func, "attr", None) == "tr"
            )
            if is_marker and single is not None:
                seen.setdefault(single[0], Message(single[0]))
    return list(seen.values())


# --- .po reading / writing ---------------------------------------------------------------


def _unquote(line: str) -> str:
    return str(ast.literal_eval(line))


def read_po(path: Path) -> dict[str, Entry]:
    """msgid -> Entry (header entry '' included). Handles multi-line strings, msgid_plural
    and msgstr[i]."""
    entries: dict[str, Entry] = {}
    msgid: str | None = None
    plural: str | None = None
    strs: dict[int, str] = {}
    target: str | int | None = None  # what a continuation line extends

    def finish() -> None:
        if msgid is not None and strs:
            entries[msgid] = Entry(tuple(strs[i] for i in sorted(strs)), plural)

    if not path.exists():
        return entries
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        indexed = re.match(r"msgstr\[(\d+)\]\s+(.*)", line)
        if line.startswith("msgid "):
            finish()
            msgid, plural, strs, target = _unquote(line[6:]), None, {}, "id"
        elif line.startswith("msgid_plural ") and msgid is not None:
            plural, target = _unquote(line[13:]), "plural"
        elif line.startswith("msgstr ") and msgid is not None:
            strs, target = {0: _unquote(line[7:])}, 0
        elif indexed and msgid is not None:
            target = int(indexed.group(1))
            strs[target] = _unquote(indexed.group(2))
        elif line.startswith('"') and msgid is not None and target is not None:
            if target == "id":
                msgid += _unquote(line)
            elif target == "plural" and plural is not None:
                plural += _unquote(line)
            elif isinstance(target, int):
                strs[target] += _unquote(line)
        elif not line or line.startswith("#"):
            finish()
            msgid, plural, strs, target = None, None, {}, None
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
        f"Plural-Forms: {PLURAL_FORMS[lang]}\n"
    )


def _new_entry(message: Message, lang: str, existing: dict[str, Entry]) -> Entry:
    """What the .po holds for `message`: its translation so far, in the entry's shape."""
    old = existing.get(message.msgid)
    if message.plural is None:
        msgstr = old.msgstr if old else ""
        return Entry((msgstr or (message.msgid if lang == "en" else ""),))
    forms = list(old.strs if old else ())[: nplurals(lang)]
    forms += [""] * (nplurals(lang) - len(forms))
    if lang == "en":  # English: the msgids are the forms
        defaults = [message.msgid, message.plural]
        forms = [f or defaults[min(i, 1)] for i, f in enumerate(forms)]
    return Entry(tuple(forms), message.plural)


def _entry_lines(msgid: str, entry: Entry) -> list[str]:
    lines = [f"msgid {_quote(msgid)}"]
    if entry.plural is None:
        return [*lines, f"msgstr {_quote(entry.msgstr)}"]
    lines.append(f"msgid_plural {_quote(entry.plural)}")
    return lines + [f"msgstr[{i}] {_quote(form)}" for i, form in enumerate(entry.strs)]


def write_po(
    path: Path,
    lang: str,
    messages: list[Message],
    existing: dict[str, Entry],
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
    # a plural's old singular twin ("{n} products") lives on as its msgid_plural
    used = {m.msgid for m in messages} | {m.plural for m in messages if m.plural}
    for message in messages:
        lines += ["", *_entry_lines(message.msgid, _new_entry(message, lang, existing))]
    for msgid, entry in existing.items():
        if msgid and msgid not in used and entry.msgstr:
            lines += ["", "#~ obsolete", *_entry_lines(msgid, entry)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def mo_bytes(entries: dict[str, Entry]) -> bytes:
    """GNU .mo format (what msgfmt writes), untranslated entries left out. A plural entry's
    key is msgid NUL msgid_plural, its value the forms joined by NUL (Python's gettext and
    GNU gettext read it so)."""
    items = sorted(
        (k if e.plural is None else f"{k}\0{e.plural}", "\0".join(e.strs))
        for k, e in entries.items()
        if all(e.strs) or k == ""
    )
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


def _plural_problems(
    lang: str, po: Path, messages: list[Message], entries: dict[str, Entry]
) -> list[str]:
    """A plural msgid must be a plural entry with every form of the language filled in."""
    found = []
    want = nplurals(lang)
    for message in messages:
        entry = entries.get(message.msgid)
        if message.plural is None or entry is None:
            continue
        if entry.plural != message.plural:
            found.append(
                f"{lang}: {message.msgid!r} needs msgid_plural {message.plural!r} in {po.name}"
            )
        elif len(entry.strs) != want or (lang != "vi" and not all(entry.strs)):
            filled = sum(1 for s in entry.strs if s)
            found.append(
                f"{lang}: {message.msgid!r} has {filled} of {want} plural form(s) "
                f"(msgstr[0..{want - 1}]) in {po.name}"
            )
    return found


def problems(catalogs: Sequence[Catalog], command: str) -> list[str]:
    """What `command --check` reports: msgids missing from a .po, Vietnamese left
    untranslated, .mo files not compiled from their .po."""
    found = []
    for catalog in catalogs:
        messages = catalog.messages()
        msgids = [m.msgid for m in messages]
        for lang in LANGUAGES:
            po, mo = catalog.po_path(lang), catalog.mo_path(lang)
            entries = read_po(po)
            missing = [m for m in msgids if m not in entries]
            if missing:
                found.append(
                    f"{lang}: {len(missing)} msgid(s) not in {po.name}, e.g. {missing[0]!r}"
                )
            found += _plural_problems(lang, po, messages, entries)
            if lang == "vi":
                empty = [m for m in msgids if m in entries and not all(entries[m].strs)]
                if empty:
                    found.append(f"vi: {len(empty)} untranslated in {po.name}, e.g. {empty[0]!r}")
            if not mo.exists() or mo.read_bytes() != mo_bytes(entries):
                found.append(f"{lang}: {mo} is stale; run {command}")
    return found


def build(catalogs: Sequence[Catalog]) -> None:
    for catalog in catalogs:
        messages = catalog.messages()
        for lang in LANGUAGES:
            po = catalog.po_path(lang)
            existing = read_po(po)
            existing.pop("", None)
            write_po(po, lang, messages, existing, catalog.title, catalog.command)
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
