"""No sink shows the card: trace file, data-channel messages, room transcripts, logs, journal.

The insurance scenario's card, in every form a recogniser, a planner or a caller can give it
(digits with any separators, other scripts, words, "oh", "double eight", pairs, hesitations,
a misheard digit), goes through every text a call produces: growing partial transcripts, the
final, a number read across two turns, planned and spoken replies, proposed and run tool
arguments, results, rejections and errors, log records (message, bound fields, exceptions,
standard `logging`) and journal payloads. Each sink's output is then read by an independent
oracle (tests/support/card_leaks.py): none may show more than six digits of the card in a row.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from livekit.agents.voice import events as ev
from livekit.agents.voice import io
from loguru import logger

from tests.support.card_leaks import assert_no_card, digit_streams, leaks, texts_of
from tools.journal import Signer, open_store
from tools.redact import MASK
from worker.flow.library import load_flow
from worker.flow.machine import ConversationMachine
from worker.journaling import EventLog
from worker.logs import setup_logging
from worker.room.data_channel import MaskedTranscription
from worker.room.trace_publisher import TracePublisher
from worker.trace.collector import TraceCollector
from worker.trace.records import ToolRun, TurnTrace

ROOT = Path(__file__).resolve().parents[2]

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
         "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def scenario_card() -> str:
    """The card the insurance scenario's caller reads aloud (in words) in its script."""
    script = yaml.safe_load((ROOT / "scenarios" / "insurance_renewal.yaml").read_text())
    for line in script["caller"]:
        for stream in digit_streams(line.get("say") or ""):
            if len(stream) >= 13:
                return stream
    raise AssertionError("the insurance scenario reads no card")


CARD = scenario_card()


def _pair(two: str) -> str:
    a, b = int(two[0]), int(two[1])
    if a == 0:
        return f"oh {WORDS[b]}"
    if a == 1:
        return TEENS[b]
    return TENS[a] + ("" if b == 0 else f"-{WORDS[b]}")


def _doubled(card: str) -> str:
    out, i = [], 0
    while i < len(card):
        if i + 1 < len(card) and card[i] == card[i + 1]:
            out.append(f"double {WORDS[int(card[i])]}")
            i += 2
        else:
            out.append("oh" if card[i] == "0" else WORDS[int(card[i])])
            i += 1
    return " ".join(out)


def card_forms(card: str) -> dict[str, str]:
    g = [card[i : i + 4] for i in range(0, len(card), 4)]
    last = str((int(card[-1]) + 1) % 10)
    return {
        "digits": card,
        "grouped": " ".join(g),
        "dashed": "-".join(g),
        "dotted": ".".join(g),
        "slashed": "/".join(g),
        "bracketed": f"({g[0]}) {g[1]}-{g[2]}, {g[3]}",
        "spaced": " ".join(card),
        "comma-spaced": ", ".join(card),
        "words": ", ".join(" ".join(WORDS[int(d)] for d in grp) for grp in g).capitalize(),
        "oh-words": " ".join("oh" if d == "0" else WORDS[int(d)] for d in card),
        "double": _doubled(card),
        "pairs": " ".join(_pair(card[i : i + 2]) for i in range(0, len(card), 2)),
        "mixed": f"{g[0]} {' '.join(WORDS[int(d)] for d in g[1])} {g[2]} {' '.join(WORDS[int(d)] for d in g[3])}",
        "fullwidth": card.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        "arabic-indic": card.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
        "zero-width": "\u200b".join(g),
        "hesitant": f"{g[0]} uh {g[1]} um, {g[2]} {g[3]}",
        "misheard": " ".join(g)[:-1] + last,
    }


FORMS = card_forms(CARD)


def test_the_forms_are_the_card() -> None:
    """The oracle reads every form back as the card (or, misheard, all but its last digit)."""
    assert len(CARD) == 16
    for name, text in FORMS.items():
        assert leaks([text], CARD), name


def prefixes(text: str) -> list[str]:
    """What a streaming recogniser shows while the form is being said: growing prefixes."""
    if " " not in text.strip():
        return [text[:k] for k in range(1, len(text) + 1)]
    words = text.split(" ")
    return [" ".join(words[:k]) for k in range(1, len(words) + 1)]


def halves(text: str) -> tuple[str, str]:
    """``text`` cut in two between words (or, with no spaces, between characters)."""
    words = text.split(" ")
    if len(words) > 1:
        return " ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2 :])
    return text[: len(text) // 2], text[len(text) // 2 :]


class FakeRoom:
    """Just enough of `rtc.Room` for `TracePublisher`: records every payload it is given."""

    def __init__(self) -> None:
        self.payloads: list[str] = []
        self.local_participant = self

    async def publish_data(self, payload: str, **_: Any) -> None:
        self.payloads.append(payload)

    async def stream_text(self, **_: Any) -> Any:
        room = self

        class Writer:
            async def write(self, text: str) -> None:
                room.payloads.append(text)

            async def aclose(self) -> None:
                return None

        return Writer()


class CapturedText(io.TextOutput):
    """What LiveKit's room output would publish on `lk.transcription`."""

    def __init__(self) -> None:
        super().__init__(label="captured", next_in_chain=None)
        self.texts: list[str] = []

    async def capture_text(self, text: str) -> None:
        self.texts.append(text)

    def flush(self) -> None:
        return None


def message(text: str, started: float, stopped: float) -> Any:
    return SimpleNamespace(text_content=text, transcript_confidence=0.9, interrupted=False,
                           metrics={"started_speaking_at": started, "stopped_speaking_at": stopped})


async def drive_call(collector: TraceCollector, state: Any, transcripts: io.TextOutput, form: str) -> None:
    """One call's worth of texts holding ``form``, fed to the collector as a session would."""
    t0 = collector.t0

    async def say(final: str, at: float) -> None:
        for k, partial in enumerate(prefixes(final)):
            collector.on_transcribed(ev.UserInputTranscribedEvent(transcript=partial, is_final=False,
                                                                  created_at=t0 + at + 0.05 * k))
            await transcripts.capture_text(partial)
        collector.on_transcribed(ev.UserInputTranscribedEvent(transcript=final, is_final=True))
        await transcripts.capture_text(final)
        transcripts.flush()
        collector.caller_turn(message(final, t0 + at, t0 + at + 3.0), state)

    await say(f"Sure, my card is {form}.", 10.0)
    first, second = halves(form)  # a reply streamed in two pieces
    collector.on_planned_text(f"Let me read that back: {first}")
    collector.on_planned_text(second)
    collector.on_agent_message(SimpleNamespace(text_content=f"You said {form}.", interrupted=False, metrics={}))
    collector.on_proposed("fc_1", "charge_card", {"card_number": form, "note": f"card {form}"})
    collector.on_rejected("fc_1", "charge_card", f"card {form} was declined", "validation", "collect_card")
    collector.on_tool_run(ToolRun(call_id="fc_2", name="create_case", arguments={"summary": f"paid with {form}",
                                  "card_number": form, form: [form]}, ok=False, result={"echo": form},
                                  error=f"backend said {form}", started_at=12.0, duration_ms=3.0))
    # the same number read across two turns, and a partial that runs past the final
    await say(f"it's {first}", 20.0)
    await say(f"{second} thanks", 30.0)
    collector.finish_turn(state)


@pytest.mark.parametrize("form", list(FORMS.values()), ids=list(FORMS))
async def test_trace_file_data_messages_and_room_transcripts_hide_the_card(tmp_path: Path, form: str) -> None:
    state = ConversationMachine(load_flow("insurance")).snapshot()
    collector = TraceCollector("call_x", engine="offline", model="m", state=state)
    trace_path = tmp_path / "trace.jsonl"
    room = FakeRoom()
    publisher = TracePublisher(room, "caller")  # type: ignore[arg-type]
    with trace_path.open("w") as trace_file:
        collector.sinks += [lambda t: (trace_file.write(t.model_dump_json() + "\n"), trace_file.flush()),
                            publisher.publish]
        published = CapturedText()
        await drive_call(collector, state, MaskedTranscription(published), form)
        await publisher.drain()

    lines = trace_path.read_text().splitlines()
    turns = [TurnTrace.model_validate_json(line) for line in lines]
    assert len(turns) == 4 and len(room.payloads) == 4  # greeting + three caller turns, every one sent
    assert all(t.caller.partials for t in turns[1:] if t.caller)
    assert_no_card([s for line in lines for s in texts_of(json.loads(line))], CARD, "trace.jsonl")
    assert_no_card([s for p in room.payloads for s in texts_of(json.loads(p))], CARD, "data messages")
    assert_no_card(published.texts, CARD, "lk.transcription")
    assert_no_card([p.text for t in turns if t.caller for p in t.caller.partials], CARD, "partials")
    # the masks are there (nothing was simply dropped), and the turns that said it are marked for the recording
    assert MASK in turns[1].caller.final_transcript  # type: ignore[union-attr]
    assert len(collector.secret_speech) >= 2


def test_logs_hide_the_card_in_every_field() -> None:
    lines: list[str] = []
    setup_logging("DEBUG", sink=lines.append)
    try:
        for name, form in FORMS.items():
            logger.bind(call_id=f"call {form}", turn=1).info("caller: Sure, my card is {}.", form)
            logger.info("caller line {}: {}", 3, form)
            logging.getLogger("livekit.agents").warning("stt heard %s", form)
            try:
                raise ValueError(f"bad card {form}")
            except ValueError:
                logger.exception("tool crashed on {}", name)
        setup_logging("DEBUG", json=True, sink=lines.append)
        logger.bind(call_id=FORMS["digits"]).info("json {}", FORMS["words"])
        try:
            raise ValueError(f"bad card {FORMS['grouped']}")
        except ValueError:
            logger.exception("json exception")
    finally:
        logger.remove()
        logger.add(sys.stderr)
        logging.basicConfig(handlers=[], force=True)
    assert len(lines) == 4 * len(FORMS) + 2
    assert_no_card(lines, CARD, "log output")
    assert sum(MASK in line for line in lines) >= 4 * len(FORMS)


async def test_journal_entries_and_idempotency_results_hide_the_card(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    store = await open_store(f"sqlite:///{db}", Signer(b"k" * 32))
    try:
        events = EventLog(store, "call_x")
        for name, form in FORMS.items():
            events.record({"event": {"kind": "caller_turn", "text": f"my card is {form}"}, form: [form, name]})
            await store.append("call_x", "step_succeeded", tool="charge_card", step="authorize",
                               payload={"output": {"card_number": form, "note": form}})
        await events.flush()
        claim = await store.claim("call_x", "key-1", "charge_card", "h" * 64, "me", 60.0)
        assert claim is not None
        await store.finish("call_x", "key-1", "me", "succeeded", {"echo": FORMS["grouped"], "card_number": CARD})
        entries = await store.entries("call_x")
    finally:
        await store.close()
    assert len(entries) >= 2 * len(FORMS)  # (the store may add its own, e.g. a seal)
    assert_no_card([s for e in entries for s in texts_of(e.payload)], CARD, "journal entries")
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("journal.db*")).decode("utf-8", "replace")
    assert_no_card(raw.split("\n"), CARD, "journal file bytes")
    assert sum(MASK in s for e in entries for s in texts_of(e.payload)) >= 2 * len(FORMS)


def test_the_oracle_would_see_a_leak() -> None:
    """The checks above are not vacuous: clear forms, and a card spread over partials, fail."""
    for name, form in FORMS.items():
        with pytest.raises(AssertionError):
            assert_no_card([f"x {form} y"], CARD, name)
    with pytest.raises(AssertionError, match="together"):
        assert_no_card([CARD[:6], CARD[6:12], CARD[12:]], CARD, "pieces")
