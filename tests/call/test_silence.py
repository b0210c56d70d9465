"""The silence watch decides when to reprompt and when to give up, through its callbacks only.

What must hold: no timer while the agent speaks or once the call is over; a reprompt after each
quiet spell up to the limit, then one give-up; the caller speaking resets the count; a give-up
in progress is not cancelled by the agent starting to speak its goodbye.
"""

from __future__ import annotations

import asyncio

from worker.call.silence import SilenceWatch

AFTER = 0.05


class Line:
    def __init__(self) -> None:
        self.over = False
        self.reprompts: list[int] = []
        self.gave_up: list[int] = []
        self.watch = SilenceWatch(AFTER, 2, over=lambda: self.over, reprompt=self.reprompts.append,
                                  give_up=self._give_up)

    async def _give_up(self, reprompts: int) -> None:
        self.watch.agent_state("speaking")  # the goodbye starts: this must not cancel us
        await asyncio.sleep(AFTER)
        self.gave_up.append(reprompts)


async def quiet(line: Line) -> None:
    line.watch.agent_state("listening")
    await asyncio.sleep(AFTER * 4)


async def test_reprompts_up_to_the_limit_then_gives_up_once() -> None:
    line = Line()
    await quiet(line)
    await quiet(line)
    assert line.reprompts == [1, 2] and line.gave_up == []
    await quiet(line)
    assert line.gave_up == [2]
    await quiet(line)  # stopped after giving up
    assert line.reprompts == [1, 2] and line.gave_up == [2]


async def test_the_caller_speaking_resets_the_count_and_the_agent_speaking_stops_the_timer() -> None:
    line = Line()
    await quiet(line)
    line.watch.caller_spoke()
    await quiet(line)
    assert line.reprompts == [1, 1]
    line.watch.agent_state("listening")
    line.watch.agent_state("speaking")
    await asyncio.sleep(AFTER * 4)
    assert line.reprompts == [1, 1] and line.gave_up == []


async def test_nothing_happens_once_the_call_is_over_or_the_watch_is_stopped() -> None:
    line = Line()
    line.over = True
    await quiet(line)
    line.over = False
    line.watch.agent_state("listening")
    line.watch.stop()
    await asyncio.sleep(AFTER * 4)
    assert line.reprompts == [] and line.gave_up == []


async def test_no_reprompt_while_the_caller_who_cut_the_agent_off_is_still_talking() -> None:
    """She interrupts: the agent's reply stops and it listens again while she goes on talking
    (a long correction). The timer starts when she stops, not when the agent did."""
    line = Line()
    line.watch.agent_state("speaking")
    line.watch.caller_talking(True)
    line.watch.agent_state("listening")  # the interrupted reply stopped
    await asyncio.sleep(AFTER * 4)
    assert line.reprompts == []
    line.watch.caller_talking(False)  # she is done and nothing follows
    await asyncio.sleep(AFTER * 4)
    assert line.reprompts == [1]
