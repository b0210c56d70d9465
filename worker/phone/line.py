"""A room call that came in through LiveKit SIP: caller id, the keypad, and the caller hanging up.

LiveKit SIP joins the caller as a participant of kind SIP whose attributes carry the line
(`sip.phoneNumber` is the caller id, `sip.trunkPhoneNumber` the number dialed, `sip.callID`
the bridge's call id). The room worker calls `attach_phone` once the caller is in the room;
for any other participant it does nothing, so browser callers are unaffected.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from livekit import rtc
from loguru import logger

from worker.phone.keypad import Keypad
from worker.trace.records import PhonePart

CALLER_NUMBER = "sip.phoneNumber"
DIALED_NUMBER = "sip.trunkPhoneNumber"
SIP_CALL_ID = "sip.callID"


def caller_id_slot(number: str | None) -> tuple[str, str] | None:
    """A caller id as the phone slot holds it (ten digits, as a caller's spoken number is
    read) and as the agent says it back in groups ("415 555 0192"); None when withheld or
    not a North American number (the agent then asks for the number as usual)."""
    digits = "".join(c for c in number or "" if c.isdigit())
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    if len(digits) != 10:
        return None
    return digits, f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def is_phone_caller(participant: rtc.RemoteParticipant) -> bool:
    return participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_SIP


def phone_part(participant: rtc.RemoteParticipant) -> PhonePart | None:
    """The line a SIP participant called on, from its attributes; None for other participants."""
    if not is_phone_caller(participant):
        return None
    attrs = participant.attributes
    return PhonePart(caller_number=attrs.get(CALLER_NUMBER) or None, dialed_number=attrs.get(DIALED_NUMBER) or None,
                     sip_call_id=attrs.get(SIP_CALL_ID) or None)


class PhoneLine:
    """The phone side of one call: keypad events from the caller become keyed turns.

    `keyed_turn` is the conversation's entry for words that did not come through the
    microphone; `hung_up` is called once when the caller's participant leaves the room.
    """

    def __init__(self, room: rtc.Room, caller: rtc.RemoteParticipant, call_id: str,
                 keyed_turn: Callable[[str], Awaitable[None]], hung_up: Callable[[str], None],
                 keypad_timeout: float = 3.0) -> None:
        self.room = room
        self.caller_identity = caller.identity
        self.part = phone_part(caller)
        self.keypad = Keypad(keyed_turn, timeout=keypad_timeout, call_id=call_id)
        self._hung_up = hung_up
        self._ended = False
        self.log = logger.bind(call_id=call_id, turn="-")
        room.on("sip_dtmf_received", self._on_dtmf)
        room.on("participant_disconnected", self._on_left)

    def _on_dtmf(self, dtmf: rtc.SipDTMF) -> None:
        who = dtmf.participant.identity if dtmf.participant else None
        if who != self.caller_identity:
            return
        self.keypad.press(dtmf.digit)

    def _on_left(self, participant: rtc.RemoteParticipant) -> None:
        if participant.identity != self.caller_identity or self._ended:
            return
        self._ended = True
        reason = participant.disconnect_reason
        self.log.info("caller hung up ({})", rtc.DisconnectReason.Name(reason) if reason else "left the room")
        self._hung_up("caller hung up")

    async def aclose(self) -> None:
        self.room.off("sip_dtmf_received", self._on_dtmf)
        self.room.off("participant_disconnected", self._on_left)
        await self.keypad.aclose()
