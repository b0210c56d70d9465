"""A card taken four digits at a time shows in no sink: each group is under the six digits that
final-text masking allows, so the group questions and the caller's answers to them are hidden
whole (the trace, the journal, the log line); four groups in the clear would add up to the card."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from livekit.agents import llm
from livekit.agents.voice import events as ev
from loguru import logger

from tests.support.card_leaks import digit_streams
from tests.support.dates import SCENARIO_TODAY
from tools.redact import MASK, asks_for_card_group, mask_card_numbers
from worker.call.conversation import Conversation
from worker.call.heard_words import HeardWords
from worker.call.ledger import Ledger
from worker.engines.whisper_hints import ExpectedAnswer
from worker.flow.library import load_flow
from worker.flow.machine import CallerTurn, ConversationMachine
from worker.planner import card_groups
from worker.planner.replies import OTHER_WAY
from worker.trace.collector import TraceCollector
from worker.trace.records import TurnTrace

GROUPS = ["4539", "1488", "0343", "6467"]
SAID = ["four five three nine.", "1488.", "Oh, three four three.", "six four six seven"]


def _digits_shown(texts: list[str]) -> str:
    """Every digit shown, except the "four" of "... four digits?" (a question, not a group)."""
    return "".join(s for t in texts for s in digit_streams(t.replace("four digits", "digits")))


def test_the_agents_group_questions_hide_the_group_said_back() -> None:
    asked = card_groups.group_question(["4539"])
    assert asks_for_card_group(asked) and "4 5 3 9" in asked
    assert mask_card_numbers(asked) == f"{MASK}. What are the second four digits?"
    assert mask_card_numbers(card_groups.START) == card_groups.START  # nothing to hide, nothing lost
    assert not asks_for_card_group("What are the four digits of your policy number?")


def test_the_trace_hides_every_group_of_the_card() -> None:
    machine = ConversationMachine(load_flow("insurance"))
    collector = TraceCollector("call_g", engine="offline", model="m", state=machine.snapshot())
    turns: list[TurnTrace] = []
    collector.sinks.append(turns.append)
    t0 = collector.t0
    for k, (group, said) in enumerate(zip(GROUPS, SAID)):
        collector.on_transcribed(ev.UserInputTranscribedEvent(transcript=said[:9], is_final=False, created_at=t0 + k))
        collector.caller_turn(SimpleNamespace(text_content=said, transcript_confidence=0.9, interrupted=False,
                                              metrics={}), machine.snapshot(), card_group=True)
        reply = card_groups.group_question(GROUPS[:k + 1])
        collector.on_planned_text(reply)
        collector.on_agent_message(SimpleNamespace(text_content=reply, interrupted=False, metrics={}))
    collector.finish_turn(machine.snapshot())
    texts = [s for t in turns for s in (
        t.reply.planned_text, t.reply.spoken_text, t.planner.output_text or "",
        *((t.caller.final_transcript, *(p.text for p in t.caller.partials)) if t.caller else ()))]
    callers = [t for t in turns if t.caller is not None]  # after the opening turn
    assert len(callers) == 4 and _digits_shown(texts) == ""
    assert all(t.caller is not None and MASK in t.caller.final_transcript for t in callers)
    assert callers[0].reply.spoken_text == f"{MASK}. What are the second four digits?"


def test_the_journal_hides_the_callers_group_but_the_machine_reads_it() -> None:
    recorded: list[dict[str, Any]] = []
    journal = SimpleNamespace(record=lambda payload, turn=None: recorded.append(payload))
    machine = ConversationMachine(load_flow("insurance"))
    collector = TraceCollector("call_g", engine="offline", model="m", state=machine.snapshot())
    ledger = Ledger(machine, collector, journal)  # type: ignore[arg-type]
    ledger.apply(CallerTurn(text="No, four five three nine."), secret_text=True)
    ledger.apply(CallerTurn(text="Sure, 4821."))
    texts = [r["event"]["text"] for r in recorded]
    assert texts == [f"No, {MASK}.", "Sure, 4821."]
    assert machine.s.turn == 2  # the machine folded both in


def _agent_cut(text: str) -> SimpleNamespace:
    return SimpleNamespace(type="message", role="assistant", text_content=text, interrupted=True, metrics={})


def test_a_group_said_back_and_cut_before_its_question_is_hidden_in_the_trace() -> None:
    machine = ConversationMachine(load_flow("insurance"))
    collector = TraceCollector("call_g", engine="offline", model="m", state=machine.snapshot())
    turns: list[TurnTrace] = []
    collector.sinks.append(turns.append)
    collector.caller_turn(SimpleNamespace(text_content="4539.", transcript_confidence=0.9, interrupted=False,
                                          metrics={}), machine.snapshot(), card_group=True)
    collector.on_planned_text(card_groups.group_question(["4539"]))
    collector.on_agent_message(_agent_cut("4 5 3 9. What are"))  # the caller cut in: "four digits?" unsaid
    collector.finish_turn(machine.snapshot())
    reply = turns[-1].reply
    assert reply.interrupted and reply.spoken_text == f"{MASK}. What are" and _digits_shown([reply.spoken_text]) == ""


def _call_parts() -> tuple[SimpleNamespace, list[dict[str, Any]], list[TurnTrace]]:
    """What `Conversation._on_item` and `caller_turn` touch, without a session."""
    recorded: list[dict[str, Any]] = []
    journal = SimpleNamespace(record=lambda payload, turn=None: recorded.append(payload))
    machine = ConversationMachine(load_flow("insurance"))
    collector = TraceCollector("call_g", engine="offline", model="m", state=machine.snapshot())
    turns: list[TurnTrace] = []
    collector.sinks.append(turns.append)
    call = SimpleNamespace(machine=machine, trace=collector, ledger=Ledger(machine, collector, journal),  # type: ignore[arg-type]
                           expected=ExpectedAnswer(), _planned="", log=logger, _closing=False, call_id="call_g",
                           options=SimpleNamespace(today=SCENARIO_TODAY), heard=HeardWords(),
                           silence=SimpleNamespace(caller_spoke=lambda: None))
    call._slot_asked = lambda text: Conversation._slot_asked(call, text)  # type: ignore[arg-type]
    call._slot_expected = lambda heard, cut: Conversation._slot_expected(call, heard, cut)  # type: ignore[arg-type]
    return call, recorded, turns


def _logged(run: Any) -> list[str]:
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), format="{message}")
    try:
        run()
    finally:
        logger.remove(sink)
    return lines


def test_a_group_said_back_and_cut_shows_in_neither_the_journal_nor_the_log() -> None:
    call, recorded, _ = _call_parts()
    call._planned = card_groups.group_question(["4539"])
    lines = _logged(lambda: Conversation._on_item(call, SimpleNamespace(item=_agent_cut("4 5 3 9. What are"))))  # type: ignore[arg-type]
    assert [r["event"]["text"] for r in recorded] == [f"{MASK}. What are"]
    assert any("agent (interrupted)" in line for line in lines) and _digits_shown(lines) == ""
    assert call.machine.s.last_agent_text == "4 5 3 9. What are"  # the machine still reads what was said
    assert call.expected.slot == "card_group"  # the caller's answer to it is hidden too


async def test_a_group_said_after_the_offer_of_another_way_is_hidden_like_the_group() -> None:
    call, recorded, turns = _call_parts()
    for said in (card_groups.group_question(["4539"]), OTHER_WAY):  # the second group misheard twice: the offer
        call._planned = said
        Conversation._on_item(call, SimpleNamespace(item=SimpleNamespace(  # type: ignore[arg-type]
            type="message", role="assistant", text_content=said, interrupted=False, metrics={})))
    assert call.expected.group_again  # the planner reads the answer as the group, so do the sinks
    assert call.expected.slot is None  # (not the decoder: the answer may be a "yes" to the callback)
    answer = "One. Four. Eight. Eight."
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), format="{message}")
    try:
        await Conversation.caller_turn(call, llm.ChatMessage(role="user", content=[answer]))  # type: ignore[arg-type]
    finally:
        logger.remove(sink)
    call.trace.finish_turn(call.machine.snapshot())
    callers = [r["event"]["text"] for r in recorded if r["event"].get("type") == "caller_turn"
               or "confidence" in r["event"]]
    assert callers and _digits_shown(callers) == ""
    said = [line for line in lines if "caller:" in line]
    assert said and _digits_shown(said) == ""
    assert turns[-1].caller is not None and _digits_shown([turns[-1].caller.final_transcript]) == ""


async def test_part_of_a_card_said_to_the_card_question_is_hidden_like_a_group() -> None:
    """ "4111 1111 1111" (the caller paused): under the 13 digits of a card, it starts the group
    collection; with the last four said back at the confirmation it would be the card."""
    call, recorded, turns = _call_parts()
    asked = "Which card would you like to pay with? Please read me the number."
    call._planned = asked
    Conversation._on_item(call, SimpleNamespace(item=SimpleNamespace(  # type: ignore[arg-type]
        type="message", role="assistant", text_content=asked, interrupted=False, metrics={})))
    assert call.expected.slot == "card_number"
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), format="{message}")
    try:
        for said in ("4111 1111 1111.", "It's 4111 1111 1111 1111."):
            await Conversation.caller_turn(call, llm.ChatMessage(role="user", content=[said]))  # type: ignore[arg-type]
    finally:
        logger.remove(sink)
    call.trace.finish_turn(call.machine.snapshot())
    journaled = [r["event"]["text"] for r in recorded if "confidence" in r["event"]]
    assert journaled == [f"{MASK}.", "It's •••• 1111."]  # a whole card keeps its usual mask
    assert [line.strip() for line in lines if "caller:" in line][0] == f"caller: {MASK}."  # (the log's own mask does the card)
    finals = [t.caller.final_transcript for t in turns if t.caller is not None]
    assert finals[0] == f"{MASK}."
