"""The room's data channel, both ways: what a caller may send, and the caller's transcripts.

In: anything a participant publishes is caller-chosen bytes. They are parsed here with every
bound checked before the JSON parser runs (size, nesting depth, UTF-8, no NaN), into one
pydantic model (`CallerMessage`), so a packet of 5,000 `[` is a one-line rejection instead of a
`RecursionError`, and a packet never costs more than its (bounded) size to look at. Nothing a
caller sends changes the call yet: accepted messages are logged and ignored. Caller-chosen
text in those log lines (identity, topic, type) is clipped here and has its control characters
escaped by the log formatter (`worker.logs`), so it cannot forge a line of the worker's log.

Out: LiveKit publishes the caller's own words on `lk.transcription` (interim and final) for
stock frontends. Those texts pass through `tools.redact` like every other sink: interim text
with more than six digits is hidden, so a card read aloud never crosses the data channel; while
the caller answers a question for one group of a card (`hide_all`: the call expects a
"card_group"), every number is hidden, since four groups of four, one a turn, are the card.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from livekit import rtc
from livekit.agents.voice import io
from loguru import logger
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tools.redact import hide_numbers, mask_interim

#: LiveKit's reliable packets stay under ~15 KiB; anything bigger is not from a real client.
MAX_PACKET_BYTES = 15_360
#: Deeper than this is not a message anyone means to send.
MAX_DEPTH = 16
#: Caller-chosen names are clipped to this many characters in logs.
MAX_LOGGED = 64
#: Topics the framework itself uses; packets on them are not meant for the runtime.
CALLER_TOPICS_IGNORED = frozenset({"lk.chat", "lk.transcription", "lk.agent.request", "lk.rpc"})


class DataRejected(ValueError):
    """A caller packet that is not a message; the text says why in a few words."""


class CallerMessage(BaseModel):
    """What the runtime accepts from a caller on the data channel: a JSON object with a `type`."""

    model_config = ConfigDict(extra="allow", frozen=True)
    type: str = Field(min_length=1, max_length=MAX_LOGGED, pattern=r"^[A-Za-z0-9_.:\-]+$")


def nesting_depth(text: str, limit: int) -> int:
    """Deepest `[`/`{` nesting outside JSON strings, counting stops just past ``limit``."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def _no_constants(name: str) -> Any:
    raise DataRejected(f"{name} is not a JSON number")


def parse_caller_message(data: bytes) -> CallerMessage:
    """Bytes from a caller → a `CallerMessage`, or `DataRejected` naming the first bound broken."""
    if len(data) > MAX_PACKET_BYTES:
        raise DataRejected(f"larger than {MAX_PACKET_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DataRejected("not UTF-8") from None
    if nesting_depth(text, MAX_DEPTH) > MAX_DEPTH:
        raise DataRejected(f"nested deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise DataRejected(f"not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(value, dict):
        raise DataRejected("not a JSON object")
    try:
        return CallerMessage.model_validate(value)
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(p) for p in err["loc"]) or "message"
        raise DataRejected(f"{field}: {err['msg']}") from None


def clip(text: str) -> str:
    """A caller-chosen name, short enough for one log line."""
    return text if len(text) <= MAX_LOGGED else text[:MAX_LOGGED] + "…"


def on_caller_data(packet: rtc.DataPacket, call_id: str) -> None:
    """Callers may send data; nothing they send can crash the job or forge a log line."""
    if packet.topic in CALLER_TOPICS_IGNORED:
        return
    who = clip(packet.participant.identity) if packet.participant else "?"
    topic = clip(packet.topic or "")
    log = logger.bind(call_id=call_id)
    try:
        message = parse_caller_message(packet.data)
    except DataRejected as exc:
        log.warning("malformed data from {} on {!r} ignored ({} bytes): {}", who, topic, len(packet.data), exc)
        return
    log.info("data from {} on {!r} ignored: type {}", who, topic, message.type)


class MaskedTranscription(io.TextOutput):
    """A text output that passes the caller's transcript on masked as interim text (every number
    hidden while `hide_all()` says the caller is answering for a group of a card)."""

    def __init__(self, inner: io.TextOutput, hide_all: Callable[[], bool] | None = None) -> None:
        super().__init__(label="MaskedTranscription", next_in_chain=None)
        self.inner = inner
        self.hide_all = hide_all

    async def capture_text(self, text: str) -> None:
        hide = self.hide_all is not None and self.hide_all()
        await self.inner.capture_text(hide_numbers(text) if hide else mask_interim(text))

    def flush(self) -> None:
        self.inner.flush()

    def __getattr__(self, name: str) -> Any:  # set_participant, set_track, aclose ...
        return getattr(self.inner, name)


def mask_room_transcripts(link: Any, hide_all: Callable[[], bool] | None = None) -> bool:
    """Mask what LiveKit's room I/O (`link`, a started `RoomIO`) publishes of the caller's words.

    livekit-agents 1.8.9 keeps that output in `RoomIO._user_tr_output` (no public hook);
    tests/room checks the attribute exists, so an upgrade that moves it fails loudly there.
    `hide_all`: whether every number is to be hidden now (see `MaskedTranscription`).
    Returns whether there was an output to wrap.
    """
    inner = getattr(link, "_user_tr_output", None)
    if inner is None or isinstance(inner, MaskedTranscription):
        return False
    link._user_tr_output = MaskedTranscription(inner, hide_all)
    return True
