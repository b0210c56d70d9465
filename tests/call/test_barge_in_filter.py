"""Backchannels said over the agent are let pass; words that change the conversation are not."""

from __future__ import annotations

import asyncio

import pytest
from livekit.agents import stt

from worker.call.barge_in import BargeInFilter, is_backchannel, means_go_on


@pytest.mark.parametrize("text", ["", "Mm-hmm.", "MMHMM", "mhm", "Uh-huh.", "Yeah.", "Yeah, yeah.", "Right.",
                                  "Okay.", "OK, right.", "(coughs)", "[BLANK_AUDIO]", "*cough*", "you", "I see.",
                                  "Mmmm", "NMM.", "M.H.M.", "Hmm, okay."])
def test_backchannels_and_written_sounds(text: str) -> None:
    assert is_backchannel(text)


@pytest.mark.parametrize("text", ["No, Thursday, not Tuesday.", "Yes, yes, book it.", "Wait.", "Stop.",
                                  "Actually, make it Berkeley.", "Did it go through?", "Yeah, but not Tuesday.",
                                  "No.", "Yes.", "Uh-uh.", "Mm-mm.", "Mm, no.", "Nine."])
def test_words_that_change_the_conversation(text: str) -> None:
    assert not is_backchannel(text)


def event(kind: stt.SpeechEventType, text: str = "") -> stt.SpeechEvent:
    alts = [stt.SpeechData(language="en", text=text)] if kind != stt.SpeechEventType.START_OF_SPEECH else []
    return stt.SpeechEvent(type=kind, alternatives=alts)


def run(filt: BargeInFilter, events: list[stt.SpeechEvent]) -> list[str]:
    async def go() -> list[str]:
        async def source():  # type: ignore[no-untyped-def]
            for e in events:
                yield e
        return [e.type.value + ":" + (e.alternatives[0].text if e.alternatives else "")
                async for e in filt.filter(source()) if not isinstance(e, str)]
    return asyncio.run(go())


S, F = stt.SpeechEventType.START_OF_SPEECH, stt.SpeechEventType.FINAL_TRANSCRIPT


def test_a_backchannel_over_the_agent_never_reaches_the_session() -> None:
    filt = BargeInFilter(agent_talking=lambda: True)
    assert run(filt, [event(S), event(F, "Mm-hmm.")]) == ["start_of_speech:"]
    assert filt.dropped == ["Mm-hmm."]


def test_a_backchannel_that_began_over_the_agent_is_dropped_even_if_the_reply_ended() -> None:
    state = {"talking": True}
    filt = BargeInFilter(agent_talking=lambda: state["talking"])

    async def go() -> list[str]:
        async def source():  # type: ignore[no-untyped-def]
            yield event(S)
            state["talking"] = False
            yield event(F, "Yeah.")
        return [e.type.value async for e in filt.filter(source()) if not isinstance(e, str)]

    assert asyncio.run(go()) == ["start_of_speech"]


def test_real_words_over_the_agent_and_any_words_after_it_go_through() -> None:
    over = BargeInFilter(agent_talking=lambda: True)
    assert run(over, [event(S), event(F, "No, Thursday, not Tuesday.")])[-1] == "final_transcript:No, Thursday, not Tuesday."
    after = BargeInFilter(agent_talking=lambda: False)
    assert run(after, [event(S), event(F, "Yeah.")])[-1] == "final_transcript:Yeah."
    assert over.dropped == after.dropped == []


def test_each_backchannel_dropped_asks_for_the_reply_to_resume_at_once() -> None:
    resumed: list[int] = []
    filt = BargeInFilter(agent_talking=lambda: True, on_backchannel=lambda: resumed.append(1))
    run(filt, [event(S), event(F, ""), event(S), event(F, "No, Thursday."), event(S), event(F, "Yeah.")])
    assert len(resumed) == 2 and filt.dropped == ["", "Yeah."]


@pytest.mark.parametrize("text, ends_short", [
    ("Mm-hmm.", True), ("MMHMM", True), ("M.H.M.", True), ("Yeah, yeah.", True), ("Okay.", True), ("Right.", True),
    ("", True), ("(coughs)", True), ("Um,", False), ("Uh", False), ("Hmm.", False), ("you", False),
    ("Okay,", False), ("Yeah -", False), ("Mm-mm.", False), ("No, Thursday.", False),
])
def test_only_an_acknowledgement_ends_at_the_short_pause(text: str, ends_short: bool) -> None:
    """Said over the agent, "Mm-hmm." or no words at all end at the short pause (the reply resumes
    sooner); a filler, "you" or words left open may open a turn, so they wait as before."""
    assert means_go_on(text) is ends_short
