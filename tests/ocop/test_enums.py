"""EnumWithAttributes: the one way a state carries its label, tone or icon."""

from __future__ import annotations

import pytest

from kiosk.printing.queue import JobState
from kiosk.sync.status import SyncState
from ocop.clock import ClockState
from ocop.enums import EnumWithAttributes
from ocop.stamps.verdicts import Verdict
from ocop.tone import Tone


def test_members_are_found_by_value_and_carry_their_attributes_in_order():
    class Light(EnumWithAttributes):
        GREEN = ("green", Tone.OK, "go")
        RED = ("red", Tone.BAD, "stop")

        tone: Tone
        words: str

    assert Light("red") is Light.RED and Light.RED.value == "red"
    assert (Light.GREEN.tone, Light.GREEN.words) == (Tone.OK, "go")
    with pytest.raises(ValueError):
        Light("amber")


@pytest.mark.parametrize("attributes", [(Tone.OK,), (Tone.OK, "go", "extra")])
def test_a_member_without_all_its_attributes_fails_at_import(attributes):
    with pytest.raises(TypeError, match=r"member 'green': expected 2 attribute\(s\)"):

        class Light(EnumWithAttributes):
            GREEN = ("green", *attributes)

            tone: Tone
            words: str


def test_the_project_states_use_it():
    for state in (Verdict, SyncState, JobState, ClockState):
        assert issubclass(state, EnumWithAttributes)
        first = next(iter(state))
        assert state(first.value) is first
