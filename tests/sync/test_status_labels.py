"""Every sync state carries its label and tone (kiosk/sync/status.py), in both languages."""

from __future__ import annotations

from kiosk.sync.status import SyncState
from ocop.tone import Tone


def test_every_sync_state_has_a_label_in_both_languages_and_a_tone():
    for state in SyncState:
        assert isinstance(state.tone, Tone)
        assert state.label_vi and state.label_en == state.label
        assert state.label_vi != state.label_en, state
    # a failed round never looks fine
    assert all(s.tone.is_problem for s in SyncState if s.is_failure)
    assert SyncState("refused") is SyncState.REFUSED
