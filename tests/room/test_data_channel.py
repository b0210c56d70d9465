"""The data channel: whatever a caller sends is parsed within bounds and logged as one line.

Caller packets are hostile input: nesting that would blow Python's recursion limit, sizes far
past a real packet, bytes that are not UTF-8, and names chosen to forge a line in the worker's
log ("...\\n12:00:00.000 ERROR journal verify FAILED"). Each must end as exactly one log record
on one line, with no exception escaping the handler.
"""

from __future__ import annotations

import inspect
import logging
import sys
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from livekit.agents.voice.room_io import RoomIO
from loguru import logger

from worker.logs import CONTINUATION, setup_logging
from worker.room.data_channel import (
    MAX_DEPTH,
    MAX_PACKET_BYTES,
    CallerMessage,
    DataRejected,
    MaskedTranscription,
    mask_room_transcripts,
    on_caller_data,
    parse_caller_message,
)

FORGED = "12:00:00.000 ERROR   call_x#3 worker.journaling: journal verify FAILED"


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """The worker's own log output (setup_logging, as `mediabloom worker` runs it)."""
    lines: list[str] = []
    setup_logging("DEBUG", sink=lines.append)
    yield lines
    logger.remove()
    logger.add(sys.stderr)
    logging.basicConfig(handlers=[], force=True)


def packet(data: bytes, topic: str = "mediabloom.control", identity: str = "caller-1") -> Any:
    return SimpleNamespace(data=data, topic=topic, participant=SimpleNamespace(identity=identity))


def assert_one_line_each(lines: list[str], expected: int) -> None:
    assert len(lines) == expected, lines
    for line in lines:
        body = line[:-1] if line.endswith("\n") else line
        assert "\n" not in body and "\r" not in body, body
        assert FORGED not in body.split("\n")[0][:40]


@pytest.mark.parametrize("data, words", [
    (b"[" * 5000, "nested deeper"),
    (b'{"a":' * 2000, "nested deeper"),
    (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "nested deeper"),
    (b" " * (MAX_PACKET_BYTES + 1), "larger than"),
    (b"\xff\x00not json", "not UTF-8"),
    (b'{"type": 5}', "type"),
    (b'{"type": NaN}', "NaN"),
    (b'{"type": "ok", "n": Infinity}', "Infinity"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"type": "ping"', "not JSON"),
    (b'{"type": ""}', "type"),
    (b'{"type": "x\\nERROR forged"}', "type"),
    (b'{"type": "' + b"a" * 65 + b'"}', "type"),
])
def test_bad_packets_are_rejected_in_one_line(data: bytes, words: str) -> None:
    started = time.perf_counter()
    with pytest.raises(DataRejected, match=words) as exc:
        parse_caller_message(data)
    assert time.perf_counter() - started < 0.5
    assert "\n" not in str(exc.value)


def test_good_packets_parse_into_the_model() -> None:
    nested = b'{"type": "hello", "s": "' + b"[" * 5000 + b'", "deep": ' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}"
    message = parse_caller_message(nested)
    assert isinstance(message, CallerMessage) and message.type == "hello"
    assert parse_caller_message(b'{"type": "mediabloom.ping", "extra": {"a": 1}}').type == "mediabloom.ping"


def test_the_handler_survives_a_recursion_bomb_and_logs_it(log_lines: list[str]) -> None:
    on_caller_data(packet(b"[" * 5000), "call_x")
    on_caller_data(packet(b'{"type": "ping"}'), "call_x")
    on_caller_data(packet(b"[" * 5000, topic="lk.chat"), "call_x")  # framework topics are not ours
    assert_one_line_each(log_lines, 2)
    assert "malformed data from caller-1 on 'mediabloom.control' ignored (5000 bytes): nested deeper" in log_lines[0]
    assert "ignored: type ping" in log_lines[1]


@pytest.mark.parametrize("identity, topic, data", [
    (f"bob\n{FORGED}", "t", b'{"type": "ping"}'),
    ("bob", f"t\r\n{FORGED}", b'{"type": "ping"}'),
    (f"bob\u2028{FORGED}", "t", b"junk"),
    ("bob\x1b[2K\r" + FORGED, "t\x1b[31m", b"junk"),
    ("bob", "t", b'{"type": "x", "note": "\\n' + FORGED.encode() + b'"}'),
])
def test_caller_text_never_starts_a_log_line(log_lines: list[str], identity: str, topic: str, data: bytes) -> None:
    on_caller_data(packet(data, topic=topic, identity=identity), "call_x")
    assert_one_line_each(log_lines, 1)
    assert "\x1b[2K" not in log_lines[0] and "\u2028" not in log_lines[0]


def test_an_exception_text_cannot_forge_a_line_either(log_lines: list[str]) -> None:
    try:
        raise ValueError(f"bad\n{FORGED}")
    except ValueError:
        logger.exception("caller sent {}", f"x\n{FORGED}")
    lines = "".join(log_lines).splitlines()
    assert "caller sent x\\n12:00:00.000" in lines[0]  # escaped inside the record's own line
    assert all(line.startswith(CONTINUATION) for line in lines[1:])
    assert not any(line.startswith(FORGED) for line in lines)


@settings(max_examples=300, deadline=None)
@given(data=st.one_of(st.binary(max_size=2048), st.text(max_size=512).map(str.encode),
                      st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                                   lambda kids: st.lists(kids, max_size=4)
                                   | st.dictionaries(st.text(max_size=8), kids, max_size=4),
                                   max_leaves=30).map(lambda v: repr(v).encode())),
       identity=st.text(max_size=80), topic=st.text(max_size=80))
def test_fuzz_any_packet_is_one_log_record_and_never_raises(data: bytes, identity: str, topic: str) -> None:
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), format="{message}", level="DEBUG")
    try:
        on_caller_data(packet(data, topic=topic, identity=identity), "call_x")
    finally:
        logger.remove(sink)
    expected = 0 if topic in ("lk.chat", "lk.transcription", "lk.agent.request", "lk.rpc") else 1
    assert len(lines) == expected
    assert all("\n" not in line.rstrip("\n") for line in lines)


# ---------------------------------------------------------------- outgoing: the caller's transcripts
class Captured:
    def __init__(self) -> None:
        self.texts: list[str] = []
        self.flushed = 0
        self.participant: str | None = None

    async def capture_text(self, text: str) -> None:
        self.texts.append(text)

    def flush(self) -> None:
        self.flushed += 1

    def set_participant(self, identity: str | None) -> None:
        self.participant = identity


async def test_room_transcripts_are_masked_once_wrapped() -> None:
    inner = Captured()
    link = SimpleNamespace(_user_tr_output=inner)
    assert mask_room_transcripts(link) is True
    assert mask_room_transcripts(link) is False  # already wrapped: never twice
    out = link._user_tr_output
    assert isinstance(out, MaskedTranscription)
    for partial in ("my card is 4", "my card is 4 5 3 9", "my card is 4 5 3 9 1 4 8", "my card is 4539 1488 0343 6467"):
        await out.capture_text(partial)
    out.flush()
    out.set_participant("caller-2")  # everything else reaches the real output
    assert inner.texts == ["my card is 4", "my card is 4 5 3 9", "my card is ••••", "my card is ••••"]
    assert inner.flushed == 1 and inner.participant == "caller-2"
    assert mask_room_transcripts(SimpleNamespace()) is False  # no transcript output (text output off)


async def test_a_callers_group_of_a_card_never_crosses_the_data_channel() -> None:
    """Four digits a turn are under the interim limit, and four turns of them are the card: while
    the call expects a group of a card, every number the caller says is hidden."""
    inner = Captured()
    expected = SimpleNamespace(slot="card_group")
    link = SimpleNamespace(_user_tr_output=inner)
    assert mask_room_transcripts(link, hide_all=lambda: expected.slot == "card_group") is True
    out = link._user_tr_output
    for said in ("4 5", "4 5 3 9", "No, 4539."):
        await out.capture_text(said)
    expected.slot = "policy_number"  # not a group: the usual interim rule again
    await out.capture_text("It's 4821.")
    assert inner.texts == ["••••", "••••", "No, ••••.", "It's 4821."]


def test_livekit_still_keeps_the_callers_transcript_output_where_we_wrap_it() -> None:
    """`mask_room_transcripts` relies on a private attribute of livekit-agents' RoomIO; an
    upgrade that moves it must fail here, not leak silently."""
    source = inspect.getsource(RoomIO)
    assert "self._user_tr_output = _ParticipantTranscriptionOutput(" in source
    assert "await self._user_tr_output.capture_text(ev.transcript)" in source
