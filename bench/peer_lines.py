"""The caller lines of `bench turns`, voiced once and shared by the runtime and both peers.

Why: a comparison means little unless every system hears the same audio. Each `say:`/`sound:`
line of a scenario is voiced here once, exactly as `worker.simulate.runner` would voice it
(Piper lines with the agent's own voice as is, other voices through `worker.simulate.voices`,
`[pause N]` markup as digital silence), resampled to the 16 kHz the simulated microphone plays
(`worker.transport.pcm.resample_mono`, the same call `SimulatedCallerInput` makes), and written
as a 16-bit WAV, once (soxr dithers, so even two resamplings of one line differ by ±1 LSB).
The runtime then plays the scenario with `wav:` lines, the bare livekit-agents
peer reads the same files, and the Pipecat peer (another virtual environment) reads them through
the JSON plan `PeerPlan`, so all three microphones receive byte-identical samples.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from worker.engines.piper_tts import synthesize_pcm
from worker.flow.library import load_flow
from worker.simulate.caller_lines import voice_line
from worker.simulate.runner import read_wav
from worker.simulate.scenario import CallerLine, Scenario
from worker.simulate.sounds import make_sound
from worker.simulate.voices import Voice, speak
from worker.transport.pcm import resample_mono, to_int16_mono

__all__ = ["FIXED_REPLY", "MIC_RATE", "PeerLine", "PeerPlan", "voice_scenario", "write_wav"]

MIC_RATE = 16_000
"""The simulated microphone's rate (`SimulatedCallerInput`'s default): lines are stored at it."""

FIXED_REPLY = "Which day would suit you for the tour?"
"""What both peers answer to every caller turn: one short clause, so sentence and clause
splitting cannot make one peer's first audio shorter than the other's."""


class PeerLine(BaseModel):
    """One caller line as the peers play it: a 16 kHz WAV, or silence, after the agent's reply."""

    line: int
    """The line's number in the scenario file (for reading the results)."""
    wav: Path | None = None
    silence: float | None = None
    after_agent: float = 0.0
    """Seconds the agent must have been quiet (after replying) before the line is said."""


class PeerPlan(BaseModel):
    """What a peer plays in one call: the agent's greeting, then the caller lines in order."""

    scenario: str
    greeting: str
    reply: str = FIXED_REPLY
    lines: list[PeerLine]


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """Write int16 mono `samples` as a 16-bit WAV."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.ascontiguousarray(samples, dtype=np.int16).tobytes())
    return path


def _voice(line: CallerLine, default_voice: str | None) -> tuple[np.ndarray, int]:
    """The line's audio exactly as `SimulatedCall._voice` makes it."""
    if line.wav is not None:
        return read_wav(line.wav)
    if line.sound is not None:
        return make_sound(line.sound)
    if "[pause" in (line.say or "").lower():
        return voice_line(line.say or "", line.voice or default_voice)
    voice = Voice.parse(line.voice or default_voice)
    if voice == Voice(engine="piper", name="joe"):
        return synthesize_pcm(line.say or "")
    audio = speak(voice, line.say or "")
    return (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16), 16000


def voice_scenario(scenario: Scenario, out_dir: Path) -> tuple[Scenario, PeerPlan]:
    """Voice every spoken line of `scenario` once into `out_dir`.

    Returns the scenario with those lines turned into `wav:` lines (what the runtime plays) and
    the plan the peers play. Lines said over the agent (`barge_in:`) are not in the plan: the
    peers measure turns, not barge-in (that is `bench bargein`).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    lines: list[CallerLine] = []
    plan: list[PeerLine] = []
    for i, line in enumerate(scenario.caller):
        if line.silence is not None:
            lines.append(line)
            plan.append(PeerLine(line=line.line, silence=line.silence, after_agent=line.after_agent or 0.0))
            continue
        pcm, rate = _voice(line, scenario.voice)
        samples = resample_mono(to_int16_mono(pcm), rate, MIC_RATE)
        path = write_wav(out_dir / f"{scenario.name}-{i:02d}.wav", samples, MIC_RATE)
        lines.append(line.model_copy(update={"say": None, "sound": None, "voice": None, "wav": path}))
        if line.barge_in is None:
            plan.append(PeerLine(line=line.line, wav=path, after_agent=line.after_agent or 0.0))
    voiced = scenario.model_copy(update={"caller": lines})
    return voiced, PeerPlan(scenario=scenario.name, greeting=load_flow(scenario.flow).greeting, lines=plan)
