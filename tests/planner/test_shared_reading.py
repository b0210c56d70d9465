"""The caller's words are read once per turn: the call and the planner share one reading.

The call reads each turn to feed the state machine (`read_caller_turn`), the planner reads
the same turn to fill tool arguments; both go through `worker.reading.turn.read_turn`. The
counters sit below every path a reading can take (the tokeniser, the per-utterance slot pass,
the MiniLM forward pass), so a second reading anywhere would show up in them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.planner.driver import TextCall
from tests.planner.test_conversations import RENEWAL, TOUR
from tests.support.dates import SCENARIO_TODAY as TODAY
from tools.sandbox.core import Sandbox
from worker.engines.embeddings import SentenceEmbedder
from worker.reading import tokens
from worker.reading.context import Utterance
from worker.reading.turn import read_turn


class Readings:
    """How often each text was tokenised, slot-read and embedded."""

    def __init__(self) -> None:
        self.tokenised: Counter[str] = Counter()
        self.slot_passes: Counter[str] = Counter()
        self.embedded: Counter[str] = Counter()

    def of(self, line: str) -> tuple[int, int, int]:
        norm = tokens.normalise(line)  # the text the tokeniser sees (normalising is not counted)
        return self.tokenised[norm], self.slot_passes[norm], self.embedded[line]


@pytest.fixture
def readings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Readings]:
    seen = Readings()
    tokenise, post_init, embed = tokens.tokenise, Utterance.__post_init__, SentenceEmbedder.embed

    def counting_tokenise(text: str) -> list[tokens.Tok]:
        seen.tokenised[text] += 1
        return tokenise(text)

    def counting_post_init(self: Utterance) -> None:
        seen.slot_passes[self.text] += 1
        post_init(self)

    def counting_embed(self: SentenceEmbedder, texts: list[str], *args: Any, **kwargs: Any) -> Any:
        seen.embedded.update(texts)
        return embed(self, texts, *args, **kwargs)

    read_turn.cache_clear()
    monkeypatch.setattr(tokens, "tokenise", counting_tokenise)
    monkeypatch.setattr(Utterance, "__post_init__", counting_post_init)
    monkeypatch.setattr(SentenceEmbedder, "embed", counting_embed)
    yield seen
    read_turn.cache_clear()


@pytest.mark.parametrize(("flow", "lines"), [("real_estate", TOUR), ("insurance", RENEWAL)])
async def test_each_caller_turn_is_read_once_by_the_call_and_the_planner(
        sandbox: Sandbox, readings: Readings, flow: str, lines: list[str]) -> None:
    call = TextCall(flow, sandbox, TODAY)
    for line in lines:
        before = readings.of(line)
        turn = await call.say(line)
        after = readings.of(line)
        assert turn.reply, "the planner answered the turn"
        # tokenised and embedded exactly once; slots read at most once (a goodbye needs none)
        assert after[0] == before[0] + 1 and after[2] == before[2] + 1 and after[1] <= before[1] + 1, (
            f"{line!r}: (tokenised, slot passes, embedded) went from {before} to {after}")
        assert after[1] == before[1] + 1 or call.state == "done"
    assert call.state == "done"


def test_the_planner_gets_the_object_the_call_made() -> None:
    read_turn.cache_clear()
    made_by_call = read_turn("Sure, it's Dana Whitfield.", TODAY)
    again = read_turn("Sure, it's Dana Whitfield.", TODAY)
    assert again is made_by_call
    assert again.slots("name") is made_by_call.slots("name")
    assert made_by_call.slots("name").name == "Dana Whitfield"
