"""Caller voices the product has never heard: espeak-ng, flite and Piper at several speeds.

Why it exists: the shipped scenarios speak with the agent's own Piper voice, which Whisper
hears almost perfectly; real callers do not sound like that. A `Voice` names an engine, a
voice of that engine and a speed, and `speak()` renders a line to 16 kHz mono float32, the
recogniser's input. espeak-ng and flite are Debian programs run as subprocesses (no Python
binding needed, ~15-50 ms a line); Piper runs in-process through `engines.piper_tts`.

Speed means one thing for every engine: 1.0 is the engine's default pace, 1.25 is 25 %
faster (espeak-ng words per minute, flite's and Piper's duration stretch / length scale
are scaled by its inverse).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Literal

import numpy as np
from livekit import rtc
from pydantic import BaseModel, ConfigDict, Field

from worker.engines.whisper_decode import SAMPLE_RATE, frames_to_float

__all__ = ["CALLER_VOICES", "Voice", "VoiceUnavailable", "speak"]

Engine = Literal["espeak-ng", "flite", "piper"]
_ESPEAK_DEFAULT_WPM = 175


class VoiceUnavailable(RuntimeError):
    """The engine's program is not installed (Debian `espeak-ng` / `flite`)."""


class Voice(BaseModel):
    """One synthetic caller voice: engine + that engine's voice name + relative speed."""

    model_config = ConfigDict(frozen=True)

    engine: Engine
    name: str = Field(description="espeak-ng voice (en-us, en-gb+f3 ...), flite voice (kal, slt, rms, awb), "
                                  "or 'joe' for the product's Piper voice")
    speed: float = Field(1.0, gt=0.3, lt=3.0, description="1.0 = the engine's default pace")

    @property
    def label(self) -> str:
        """Short id for reports: `espeak-ng:en-gb+f3@0.85`."""
        return f"{self.engine}:{self.name}@{self.speed:g}"

    @classmethod
    def parse(cls, label: str) -> Voice:
        """The inverse of `label` (speed optional): `flite:slt`, `espeak-ng:en-us@1.2`."""
        engine, _, rest = label.partition(":")
        name, _, speed = rest.partition("@")
        return cls(engine=engine, name=name or "joe", speed=float(speed) if speed else 1.0)  # type: ignore[arg-type]


#: The default multi-voice set: three engines, seven voices, speeds from 0.85 to 1.2.
CALLER_VOICES: tuple[Voice, ...] = (
    Voice(engine="espeak-ng", name="en-us", speed=1.0),
    Voice(engine="espeak-ng", name="en-gb+f3", speed=0.85),
    Voice(engine="espeak-ng", name="en-us+m3", speed=1.2),
    Voice(engine="flite", name="slt", speed=1.0),
    Voice(engine="flite", name="rms", speed=1.1),
    Voice(engine="flite", name="awb", speed=0.9),
    Voice(engine="flite", name="kal", speed=1.0),
    Voice(engine="piper", name="joe", speed=1.0),
)


def speak(voice: Voice, text: str) -> np.ndarray:
    """Render `text` in `voice` as 16 kHz mono float32 in [-1, 1]."""
    if voice.engine == "piper":
        from worker.engines.piper_tts import synthesize_pcm

        pcm, rate = synthesize_pcm(text, length_scale=1.0 / voice.speed)
        return _to_16k(pcm, rate)
    if voice.engine == "espeak-ng":
        wav = _run(["espeak-ng", "--stdout", "-v", voice.name,
                    "-s", str(round(_ESPEAK_DEFAULT_WPM * voice.speed)), text])
        return _wav_to_16k(wav)
    with tempfile.TemporaryDirectory(prefix="mb-flite-") as tmp:
        out = Path(tmp) / "line.wav"
        _run(["flite", "-voice", voice.name, "--setf", f"duration_stretch={1.0 / voice.speed:.3f}",
              "-t", text, "-o", str(out)])
        return _wav_to_16k(out.read_bytes())


def _run(cmd: list[str]) -> bytes:
    if shutil.which(cmd[0]) is None:
        raise VoiceUnavailable(f"{cmd[0]} is not installed (Debian package {cmd[0]!r})")
    return subprocess.run(cmd, check=True, capture_output=True, timeout=60).stdout


def _wav_to_16k(data: bytes) -> np.ndarray:
    """espeak-ng writes a streaming WAV whose header sizes are 0xFFFFFFFF: read frames by bytes."""
    with wave.open(io.BytesIO(data)) as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
        header = len(data) - w.getnframes() * width * channels if w.getnframes() < 2**31 else None
    if width != 2:
        raise ValueError(f"expected 16-bit PCM, got {width * 8}-bit")
    body = data[header:] if header is not None and header > 0 else data[44:]
    pcm = np.frombuffer(body[: len(body) // 2 * 2], dtype=np.int16)
    if channels > 1:
        pcm = pcm.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return _to_16k(pcm, rate)


def _to_16k(pcm: np.ndarray, rate: int) -> np.ndarray:
    return frames_to_float(rtc.AudioFrame(pcm.astype(np.int16).tobytes(), rate, 1, pcm.size))
