"""Scenario files: a scripted caller for a simulated call, with expectations.

A scenario is YAML (format in the README). Each caller line is spoken text (voiced by the
offline TTS) or a WAV file, timed either after the agent stops speaking or as a barge-in into
the agent's next reply. A bad file stops at load time with one clear error that names the file
and the line, and loading costs bounded time and memory whatever the file holds: the YAML is
read within limits (`bounded_yaml`: size, UTF-8, nesting, alias expansion), every field has a
range (a `say:` line a speech engine can voice, finite non-negative timings), and every WAV is
opened and checked (16-bit PCM, complete) before the call starts rather than mid-call.
"""

from __future__ import annotations

import re
import wave
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tools.redact import escape_control
from worker.simulate.caller_lines import check_pauses
from worker.simulate.bounded_yaml import YamlLimitError, YamlLimits, line_of, load_with_lines, read_text, strip_lines
from worker.simulate.sounds import SoundKind
from worker.simulate.persona import Persona
from worker.simulate.voices import Voice

LIMITS = YamlLimits()
MAX_SAY_CHARS = 1_000
"""About a minute of speech: a caller line, not a speech (Piper voices it in one go)."""
MAX_LINES = 200
MAX_WAV_SECONDS = 120.0
WAV_RATES = (8_000, 48_000)

Seconds = Annotated[float, Field(ge=0.0, le=120.0, allow_inf_nan=False)]
"""A pause or an offset: finite, never negative, at most two minutes."""


class ScenarioError(ValueError):
    """A scenario file that cannot be run; the message names the file and line."""


class ToolExpectation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=100)
    args: dict[str, Any] = Field(default_factory=dict)
    """Arguments that must match (a subset of the call's arguments)."""
    ok: bool = True
    count: int | None = Field(None, ge=0, le=1_000)
    """Exact number of successful calls, when given."""


class Expectations(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tools: list[ToolExpectation] = Field(default_factory=list, max_length=100)
    state: str | None = Field(None, max_length=100)
    ended: bool | None = None
    effects: dict[Literal["bookings", "charges", "cases", "opportunities"], Annotated[int, Field(ge=0, le=1_000)]] = (
        Field(default_factory=dict))
    rejections: int | None = Field(None, ge=0, le=1_000)
    interrupted: bool | None = None
    """For a line: the agent reply it barged into was cut off."""
    turn: bool | None = None
    """For a line: whether it became a caller turn (False: a backchannel or a noise the agent
    let pass)."""
    resumed: bool | None = None
    """For a line said over the agent: its reply paused and then went on where it stopped."""
    turns: int | None = Field(None, ge=0, le=100)
    """For a line: how many caller turns it became (1: not cut off at a pause)."""
    says: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=list, max_length=20)
    """For a line: words the agent's reply to it must carry, as the caller heard it (case
    ignored): a receipt a barge-in cut from the previous reply is said again ("receipt number")."""


VOICE_NAME = r"^[a-z][a-z0-9+_-]{0,40}$"


def _check_voice(label: str) -> Voice:
    """The `Voice` a label names; ValueError (one sentence) for an engine or name it cannot be."""
    try:
        voice = Voice.parse(label)
    except (ValidationError, ValueError):
        raise ValueError(f"unknown caller voice {label!r}: use piper, espeak-ng:<voice> or flite:<voice>, "
                         "optionally @<speed>") from None
    if not re.match(VOICE_NAME, voice.name):
        raise ValueError(f"unknown caller voice {label!r}: a voice name is letters, digits, + _ or -")
    return voice


class Echo(BaseModel):
    """The caller is on a speakerphone: the agent's voice comes back into the caller's microphone."""

    model_config = ConfigDict(extra="forbid")
    level_db: float = Field(-25.0, ge=-60.0, le=0.0, allow_inf_nan=False)
    """How far below the agent's voice the echo is."""
    delay_ms: float = Field(150.0, ge=0.0, le=500.0, allow_inf_nan=False)


class CallerLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    say: str | None = Field(None, min_length=1, max_length=MAX_SAY_CHARS)
    wav: Path | None = None
    silence: Seconds | None = None
    """Say nothing for this many seconds (tests silence handling)."""
    sound: SoundKind | None = None
    """A noise instead of words (`cough`, `coughing`, `breath`, `noise`; see `worker.simulate.sounds`)."""
    voice: str | None = Field(None, max_length=60)
    """Who says a `say:` line, as `worker.simulate.voices.Voice` labels it: `piper`,
    `espeak-ng:en-us+f3`, `flite:slt@1.1` (default: the scenario's `voice`). `[pause 0.7]` inside
    `say:` is that many seconds of silence (`worker.simulate.caller_lines`)."""
    after_agent: Seconds | None = None
    barge_in: Seconds | None = None
    """Say the line this long after the agent's next audio starts (or, when the agent talked on
    over the previous line without stopping, this long after that line)."""
    expect: Expectations | None = None
    line: int = 0

    @model_validator(mode="after")
    def _one_of(self) -> "CallerLine":
        given = [k for k in ("say", "wav", "silence", "sound") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("each caller line needs exactly one of `say`, `wav`, `sound` or `silence`")
        if self.voice is not None and self.say is None:
            raise ValueError("`voice` only applies to a `say` line")
        if self.voice is not None:
            _check_voice(self.voice)
        if self.after_agent is not None and self.barge_in is not None:
            raise ValueError("use either `after_agent` or `barge_in`, not both")
        if self.say is not None:
            check_pauses(self.say)
        if self.after_agent is None and self.barge_in is None:
            self.after_agent = 0.6
        return self


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    flow: Literal["real_estate", "insurance"]
    today: date | None = None
    description: str = Field("", max_length=5_000)
    sandbox_faults: str | None = Field(None, max_length=200)
    """Faults the sandbox arms for this call, as `MB_SANDBOX_FAULTS` writes them (a slow tool:
    `payments.capture:timeout*2@2.5`); the call's settings win when they set some."""
    echo: Echo | None = None
    """The agent's own voice on the caller's line (`echo: {}` for the defaults: -25 dB, 150 ms)."""
    voice: str = Field("piper", max_length=60)
    """The caller's voice for `say:` lines that name none (a `Voice` label)."""

    @model_validator(mode="after")
    def _known_voice(self) -> "Scenario":
        _check_voice(self.voice)
        return self
    caller: list[CallerLine] = Field(default_factory=list, max_length=MAX_LINES)
    persona: Persona | None = None
    """A caller that answers what the agent asks from its facts, instead of scripted lines."""
    expect: Expectations = Field(default_factory=Expectations)
    max_seconds: float = Field(240.0, gt=0.0, le=3_600.0, allow_inf_nan=False)
    path: Path | None = None

    @model_validator(mode="after")
    def _caller_or_persona(self) -> "Scenario":
        if bool(self.caller) == (self.persona is not None):
            raise ValueError("a scenario needs either `caller` lines or a `persona`, not both")
        return self


def _one_line(text: str) -> str:
    return escape_control(" ".join(text.split("\n")))


def load_scenario(path: Path) -> Scenario:
    """Parse and validate a scenario file; WAV paths resolve relative to the file."""
    try:
        text = read_text(path, LIMITS)
        raw = load_with_lines(text, LIMITS)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the scenario ({exc.strerror})") from None
    except YamlLimitError as exc:
        raise ScenarioError(f"{path}, line {exc.line or 1}: {_one_line(exc.message)}") from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}, line 1: a scenario is a mapping with `name`, `flow` and `caller`")
    lines = raw.get("caller")
    if isinstance(lines, list):
        for entry in lines:
            if isinstance(entry, dict):
                entry["line"] = entry.get("__line__", 0)
    try:
        scenario = Scenario.model_validate({**strip_lines(raw), "path": path})
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        loc = tuple(p for p in err["loc"] if not isinstance(p, str) or not p.startswith("function-"))
        line = line_of(raw, loc) or 1
        field = ".".join(str(p) for p in loc) or "scenario"
        raise ScenarioError(f"{path}, line {line}: {_one_line(field)}: {_one_line(err['msg'])}") from None
    for entry in scenario.caller:
        if entry.wav is not None:
            wav = entry.wav if entry.wav.is_absolute() else path.parent / entry.wav
            problem = wav_problem(wav)
            if problem is not None:
                raise ScenarioError(f"{path}, line {entry.line}: wav file {_one_line(str(entry.wav))} {problem}")
            entry.wav = wav
    return scenario


def wav_problem(path: Path) -> str | None:
    """Why the runner could not play ``path`` (None when it can): checked from the header and
    the data's size, so a bad clip stops the load, not the call."""
    try:
        if not path.exists():
            return "does not exist"
        if not path.is_file():
            return "is not a regular file"
        with wave.open(str(path), "rb") as w:
            channels, width, rate, frames = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            problem = _format_problem(channels, width, rate, frames)
            if problem is None and _frames_present(w, frames) < frames:
                problem = f"is truncated: it announces {frames} frames but holds fewer"
            return problem
    except (wave.Error, EOFError) as exc:
        detail = str(exc) or "it ends inside its header"
        return f"is not a PCM WAV file ({_one_line(detail)}); only 16-bit PCM WAV is supported"
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"


def _format_problem(channels: int, width: int, rate: int, frames: int) -> str | None:
    if width != 2:
        return f"is {8 * width}-bit; only 16-bit PCM WAV is supported"
    if channels not in (1, 2):
        return f"has {channels} channels; only mono or stereo is supported"
    if not WAV_RATES[0] <= rate <= WAV_RATES[1]:
        return f"has a sample rate of {rate} Hz; {WAV_RATES[0]}–{WAV_RATES[1]} Hz is supported"
    if frames / rate > MAX_WAV_SECONDS:
        return f"lasts {frames / rate:.0f} s; a caller line is at most {MAX_WAV_SECONDS:.0f} s"
    return None


def _frames_present(w: wave.Wave_read, wanted: int, block: int = 65_536) -> int:
    """How many of the announced frames the file really holds (read in blocks: bounded memory)."""
    got = 0
    while got < wanted:
        chunk = w.readframes(min(block, wanted - got))
        if not chunk:
            break
        got += len(chunk) // (w.getsampwidth() * w.getnchannels())
    return got
