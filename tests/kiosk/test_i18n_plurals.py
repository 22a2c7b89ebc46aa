"""Plural forms through gettext: msgid/msgid_plural entries in the kiosk catalogs, picked by
each language's Plural-Forms rule (English two forms, Vietnamese one), and the catalog check
that refuses a plural entry missing a form."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kiosk.i18n import build, plural_translator
from kiosk.viewmodels import ROUTE_COUNT, count_text, pin_message
from tests.conftest import REPO_ROOT


def test_english_has_one_and_other_forms_from_the_real_catalog():
    assert [count_text(n, "en", ROUTE_COUNT) for n in (0, 1, 2, 21)] == [
        "0 products",
        "1 product",
        "2 products",
        "21 products",
    ]
    assert pin_message("wrong", "en", attempts_left=1) == "Wrong PIN. 1 attempt left."
    assert pin_message("wrong", "en", attempts_left=2) == "Wrong PIN. 2 attempts left."


def test_vietnamese_has_one_form_for_every_number():
    assert {count_text(n, "vi", ROUTE_COUNT).split(" ", 1)[1] for n in (0, 1, 2, 5)} == {"sản phẩm"}
    assert count_text(0, "vi", ROUTE_COUNT) == "0 sản phẩm"
    assert pin_message("wrong", "vi", attempts_left=1) == "Sai mã PIN. Còn 1 lần thử."


def test_the_compiled_catalogs_hold_plural_entries():
    """The forms come from the .mo files, not from gettext's English fallback."""
    from kiosk.i18n import _translations

    vi, en = _translations("vi"), _translations("en")
    assert vi.plural(0) == vi.plural(1) == vi.plural(7) == 0  # nplurals=1; plural=0;
    assert (en.plural(0), en.plural(1), en.plural(2)) == (1, 0, 1)  # plural=(n != 1)
    assert vi._catalog[("{n} product", 0)] == "{n} sản phẩm"  # type: ignore[attr-defined]
    assert en._catalog[("{n} product", 1)] == "{n} products"  # type: ignore[attr-defined]
    for lang in ("vi", "en"):
        entry = build.read_po(build.KIOSK_CATALOG.po_path(lang))["{n} product"]
        assert entry.plural == "{n} products"
        assert len(entry.strs) == build.nplurals(lang) and all(entry.strs)
    assert plural_translator("en")("{n} product", "{n} products", 1) == "{n} product"


def test_extraction_knows_the_plural_keywords(tmp_path):
    source = tmp_path / "screen.py"
    source.write_text(
        "from kiosk.i18n import NP_, N_\n"
        'A = NP_("{n} apple", "{n} apples")\n'
        'B = ngettext("{n} pear", "{n} pears", 3)\n'
        'C = catalog.ngettext("{n} plum", "{n} plums", 3)\n'
        'D = N_("Hello")\n',
        encoding="utf-8",
    )
    assert build.extract([source]) == [
        build.Message("{n} apple", "{n} apples"),
        build.Message("{n} pear", "{n} pears"),
        build.Message("{n} plum", "{n} plums"),
        build.Message("Hello"),
    ]


def _catalog(tmp_path: Path, code: str) -> build.Catalog:
    source = tmp_path / "src" / "screen.py"
    source.parent.mkdir(exist_ok=True)
    source.write_text(code, encoding="utf-8")
    return build.Catalog("test", tmp_path / "locale", (source,), "test")


def _translate_vi(catalog: build.Catalog, old: str, new: str) -> None:
    po = catalog.po_path("vi")
    po.write_text(po.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def test_check_fails_when_a_plural_entry_misses_a_form(tmp_path):
    catalog = _catalog(tmp_path, 'X = NP_("{n} apple", "{n} apples")\n')
    build.build((catalog,))
    _translate_vi(catalog, 'msgstr[0] ""', 'msgstr[0] "{n} quả táo"')
    build.build((catalog,))
    assert build.problems((catalog,)) == []
    en = catalog.po_path("en")
    text = en.read_text(encoding="utf-8")
    assert 'msgstr[1] "{n} apples"' in text
    en.write_text(text.replace('msgstr[1] "{n} apples"\n', ""), encoding="utf-8")
    found = build.problems((catalog,))
    assert any("'{n} apple' has 1 of 2 plural form(s)" in p for p in found), found
    build.build((catalog,))  # the build puts the English form back
    assert build.problems((catalog,)) == []


def test_check_fails_when_a_plural_msgid_is_a_singular_entry(tmp_path):
    catalog = _catalog(tmp_path, 'X = N_("{n} apple")\n')
    build.build((catalog,))
    _translate_vi(catalog, 'msgstr ""', 'msgstr "{n} quả táo"')
    build.build((catalog,))
    assert build.problems((catalog,)) == []
    catalog.sources[0].write_text('X = NP_("{n} apple", "{n} apples")\n', encoding="utf-8")
    found = build.problems((catalog,))
    assert any("needs msgid_plural '{n} apples'" in p for p in found), found
    build.build((catalog,))  # the Vietnamese translation becomes the plural's one form
    assert build.problems((catalog,)) == []
    assert build.read_po(catalog.po_path("vi"))["{n} apple"].strs == ("{n} quả táo",)


def test_check_fails_when_a_vietnamese_plural_is_untranslated(tmp_path):
    catalog = _catalog(tmp_path, 'X = NP_("{n} apple", "{n} apples")\n')
    build.build((catalog,))
    found = build.problems((catalog,))
    assert any(p.startswith("vi: 1 untranslated") for p in found), found


def test_the_real_catalogs_pass_the_check_command():
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.i18n.build", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
