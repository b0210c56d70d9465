"""A hesitation or a backchannel ("uh hmm", "um", "uh huh") answering "Who am I speaking
with?" is a sound, not a name: nothing is saved and the agent asks for the name again."""

from __future__ import annotations

import pytest

from tests.planner.driver import TextCall, effects
from tests.support.dates import SCENARIO_TODAY
from tools.sandbox.core import Sandbox


@pytest.mark.parametrize("sound", ["uh hmm", "Um.", "Hmm...", "uh huh", "Mm-hmm.", "Huh?", "Uh, hmm, uh."])
async def test_a_hesitation_is_never_saved_as_the_name(sandbox: Sandbox, sound: str) -> None:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    turn = await call.say(sound)
    assert "name" not in call.machine.s.slots and turn.tools == []
    assert turn.reply.endswith("Could I get your name, please?") and effects(sandbox)["opportunities"] == 0
    named = await call.say("Um, Dana Whitfield.")
    assert call.machine.s.slots["name"] == "Dana Whitfield" and "Dana" in named.reply
