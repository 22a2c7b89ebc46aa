"""The stamp page's verdict box reads everything from the Verdict member: a verdict added in
ocop/ (plus its translations) appears on the phone page without touching the registry."""

from __future__ import annotations

import re

import pytest

from ocop.i18n import translator
from ocop.stamps.verdicts import Verdict
from ocop.tone import Tone
from registry import pages


def test_every_tone_has_a_colour_in_the_stylesheet():
    for tone in Tone:
        assert re.search(rf"\.{tone.value}\{{background:var\(--\w+\)\}}", pages.CSS), tone


@pytest.mark.parametrize("verdict", list(Verdict), ids=lambda v: v.value)
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_verdict_box_says_the_verdict_in_the_visitors_language_first(verdict, lang):
    html = pages._verdict_box(verdict, lang)
    assert f'class="verdict {verdict.tone.value}"' in html
    assert f'data-verdict="{verdict.value}"' in html
    title = translator(lang)(verdict.title)
    assert f"<h1>{title}</h1>" in html.replace("&#x27;", "'")
    first, second = (
        (verdict.message_vi, verdict.message_en)
        if lang == "vi"
        else (verdict.message_en, verdict.message_vi)
    )
    text = html.replace("&#x27;", "'")
    assert text.index(first) < text.index(second)
