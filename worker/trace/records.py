"""The per-turn trace record: one schema for disk, the data channel and the CLI.

A turn starts when the caller's words are committed (turn 0 is the greeting) and holds
everything the runtime did in answer: planner output, proposed and rejected tool calls, tool
runs, what was planned and what was actually spoken, the state before and after, and the
latency breakdown. Card numbers and secret arguments are redacted before a record is built.
`uv run mediabloom schema trace` prints the JSON Schema.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

SCHEMA_VERSION = 1


class Partial(BaseModel):
    text: str
    at: float = Field(description="seconds since the call started")


class CallerPart(BaseModel):
    final_transcript: str
    partials: list[Partial] = Field(default_factory=list)
    language: str | None = None
    confidence: float | None = None
    speech_started_at: float | None = Field(None, description="seconds since call start (VAD)")
    speech_ended_at: float | None = Field(None, description="seconds since call start (VAD)")
    true_speech_ended_at: float | None = Field(
        None, description="the last audible sample of the caller's audio (worker.transport.levels), when known")
    keyed: bool = Field(False, description="entered on the phone keypad (DTMF), not spoken")


class PhonePart(BaseModel):
    """The phone line of a call that came in through LiveKit SIP (absent for room and simulated calls)."""

    caller_number: str | None = Field(None, description="caller id: the SIP participant's sip.phoneNumber")
    dialed_number: str | None = Field(None, description="the number the caller dialed (sip.trunkPhoneNumber)")
    sip_call_id: str | None = Field(None, description="LiveKit's id of the SIP call (sip.callID)")


class ProposedCall(BaseModel):
    call_id: str
    tool: str
    arguments: dict[str, Any]


class Rejection(BaseModel):
    call_id: str
    tool: str
    reason: str
    by: Literal["state_machine", "validation"]
    state: str


class PlannerPart(BaseModel):
    engine: str
    model: str
    output_text: str = ""
    proposed: list[ProposedCall] = Field(default_factory=list)
    rejections: list[Rejection] = Field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ttft: float | None = Field(None, description="seconds, first planner step of the turn")


class ToolRun(BaseModel):
    call_id: str
    name: str
    arguments: dict[str, Any]
    ok: bool
    result: dict[str, Any] | None = None
    error_code: str | None = None
    error: str | None = None
    attempts: int = 1
    started_at: float
    duration_ms: float


class ReplyPart(BaseModel):
    planned_text: str = ""
    spoken_text: str = ""
    interrupted: bool = False
    segments: int = 0
    first_audio_at: float | None = Field(None, description="seconds since call start: first frame played (framework)")
    first_audible_at: float | None = Field(
        None, description="seconds since call start: first audible agent sample the caller received, when known")


class StateSummary(BaseModel):
    state: str
    phase: str
    speaker: str
    turn: int
    slots: dict[str, Any]
    in_flight: list[str]
    ended: bool
    confirmed: dict[str, str] = Field(default_factory=dict, description="slots the caller confirmed from a known "
                                      "value (e.g. phone from caller id) → where the value came from")


class StatePart(BaseModel):
    before: StateSummary
    after: StateSummary
    transitions: list[dict[str, Any]] = Field(default_factory=list)


class Latencies(BaseModel):
    """Seconds. `eos_to_first_audio` is THE turn latency, at the caller's ear when the transport
    can hear it: the caller's last audible sample → the first audible agent sample the caller
    received (`eos_source` / `first_audio_source` say "audio" then). A LiveKit room times it on
    the audio the worker receives and publishes ("audio_at_worker": the network and the caller's
    jitter buffer are left out; `worker.transport.worker_ear`). Otherwise it falls back to
    the VAD's end of speech and the first frame played. The framework's own figures stay beside
    it under names that say so (`*_framework`); they time buffer edges and the VAD, and read
    150-370 ms better than a listener hears."""

    eos_to_final_transcript: float | None = Field(None, description="VAD end of speech → final transcript (framework)")
    end_of_turn_delay: float | None = Field(None, description="VAD end of speech → turn committed (framework)")
    planner_ttft: float | None = None
    tts_first_audio: float | None = None
    eos_to_first_audio: float | None = Field(None, description="the turn at the caller's ear (see the class doc)")
    eos_source: Literal["audio", "audio_at_worker", "vad", "none"] = "none"
    first_audio_source: Literal["audio", "audio_at_worker", "frame", "none"] = "none"
    eos_to_first_frame_framework: float | None = Field(
        None, description="VAD end of speech → first agent frame played, as the framework times it")
    e2e_latency_framework: float | None = Field(None, description="livekit-agents' own `e2e_latency` metric")


class TurnTrace(BaseModel):
    schema_version: int = SCHEMA_VERSION
    call_id: str
    turn: int
    started_at: float = Field(description="seconds since call start")
    ended_at: float | None = None
    caller: CallerPart | None = None
    phone: PhonePart | None = None
    planner: PlannerPart
    tools: list[ToolRun] = Field(default_factory=list)
    reply: ReplyPart = Field(default_factory=ReplyPart)
    state: StatePart
    latencies: Latencies = Field(default_factory=Latencies)
