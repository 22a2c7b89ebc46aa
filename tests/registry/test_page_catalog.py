"""The registry's page text catalog (registry/i18n): complete, compiled, and its --check
really fails when a translation is missing. The command runs as a shopper's page relies on
it: `python -m registry.i18n.build --check` in a subprocess."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys

from ocop.i18n import catalogs
from ocop.i18n import translator as ocop_translator
from registry.i18n import build, translator
from tests.registry.server import REPO_ROOT

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def test_check_command_passes_on_the_committed_catalogs():
    done = subprocess.run(
        [sys.executable, "-m", "registry.i18n.build", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert build.problems() == []


def _copy(tmp_path) -> catalogs.Catalog:
    """The registry's catalog with its locale directory copied to tmp_path."""
    locale = tmp_path / "locale"
    shutil.copytree(build.REGISTRY_CATALOG.locale_dir, locale)
    return dataclasses.replace(build.REGISTRY_CATALOG, locale_dir=locale)


def test_check_fails_on_an_untranslated_vietnamese_string(tmp_path):
    catalog = _copy(tmp_path)
    po = catalog.po_path("vi")
    po.write_text(
        po.read_text(encoding="utf-8").replace('msgstr "Tra cứu"', 'msgstr ""'), encoding="utf-8"
    )
    found = catalogs.problems([catalog], build.COMMAND)
    assert any("untranslated" in p and "'Look up'" in p for p in found), found
    assert any("stale" in p for p in found), found  # the .mo no longer matches the .po


def test_check_fails_on_a_msgid_missing_from_the_catalog(tmp_path):
    catalog = _copy(tmp_path)
    page = tmp_path / "new_page.py"
    page.write_text('def f(_):\n    return _("A sentence nobody translated")\n')
    catalog = dataclasses.replace(catalog, sources=(*catalog.sources, page))
    found = catalogs.problems([catalog], build.COMMAND)
    assert any("not in ocop_registry.po" in p and "nobody translated" in p for p in found), found


def test_a_console_template_string_is_extracted_and_must_be_translated(tmp_path):
    catalog = _copy(tmp_path)
    template = tmp_path / "new_page.html"
    template.write_text(
        '{% extends "base.html" %}{% block content %}'
        '<p>{{ _("A template sentence nobody translated", name=x) }}</p>'
        "<p>{{ _(variable) }}</p>{% endblock %}"
    )
    catalog = dataclasses.replace(catalog, sources=(*catalog.sources, template))
    assert "A template sentence nobody translated" in catalog.msgids()
    found = catalogs.problems([catalog], build.COMMAND)
    assert any("not in ocop_registry.po" in p and "template sentence" in p for p in found), found


def test_every_console_page_string_is_in_the_catalog():
    # The console's templates and N_-marked labels share the public pages' catalog.
    msgids = build.REGISTRY_CATALOG.msgids()
    for msgid in ("Skip to content", "Signed in as {name}", "Catalog", "Administrator"):
        assert msgid in msgids
        assert translator("vi")(msgid) != msgid


def test_vietnamese_strings_keep_the_placeholders_and_are_written_in_vietnamese():
    entries = catalogs.read_po(build.REGISTRY_CATALOG.po_path("vi"))
    msgids = build.REGISTRY_CATALOG.msgids()
    for msgid in msgids:
        assert sorted(PLACEHOLDER.findall(entries[msgid].msgstr)) == sorted(
            PLACEHOLDER.findall(msgid)
        )
    # Proper diacritics, not ASCII Vietnamese: most strings carry a marked letter.
    marked = [m for m in msgids if re.search(r"[à-ỹđĐ]", entries[m].msgstr)]
    assert len(marked) > 0.8 * len(msgids)


def test_the_registry_translator_falls_back_to_the_domain_catalog():
    vi = translator("vi")
    assert vi("Look up") == "Tra cứu"
    assert vi("Clock OK") == ocop_translator("vi")("Clock OK") != "Clock OK"  # ocop.po
    assert translator("en")("Look up") == "Look up"
    assert translator("xx")("Look up") == "Look up"
