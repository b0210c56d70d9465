"""What a call writes to its journal about itself: one `CallEventRecord` per call event.

Defined once, here: the ledger (`worker/call/ledger.py`) writes these records and `replay` and
`resume` read them back, so the three cannot drift apart. A record holds the event, and what
the state machine made of it: the transitions it caused, or the decision on a proposed tool
call. Records are scrubbed (card numbers masked) before they reach the journal, so a replayed
`ToolProposed` carries masked arguments.

The module depends on the state machine's models only, so that the journal's readers
(`replay`, `resume`) need no session, engine or LiveKit import.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Union

from pydantic import BaseModel, Field

from worker.flow.machine import (
    AgentSpeechStarted,
    AgentSpoke,
    CallEnded,
    CallerIdentified,
    CallerSpeechStarted,
    CallerTurn,
    Decision,
    ToolFinished,
    ToolProposed,
    Transition,
)


class CallOpened(BaseModel):
    """The first record of every call: which flow, which day, and which sandbox it runs on."""

    kind: Literal["call_opened"] = "call_opened"
    flow: str
    today: date
    sandbox: str | None = Field(None, description="absolute path of the call's sandbox (resume reopens it)")


CallEvent = Annotated[
    Union[CallOpened, CallerSpeechStarted, CallerTurn, AgentSpeechStarted, AgentSpoke, ToolProposed,
          ToolFinished, CallEnded, CallerIdentified],
    Field(discriminator="kind"),
]


class CallEventRecord(BaseModel):
    """One journaled call event and the machine's answer to it.

    `decision` is set for a `ToolProposed` (accepted or not); `transitions` for every event the
    machine folded in (empty when nothing moved). `CallOpened` has neither.
    """

    event: CallEvent
    transitions: list[Transition] = Field(default_factory=list)
    decision: Decision | None = None
