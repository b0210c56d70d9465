"""Audio for and from the SIP caller: caller lines at the codec's rate, and what was heard.

Measured on samples, as a listener hears it (GUIDE): a 5 ms window is sound when its peak is
above 300 on 16-bit audio.
"""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
from livekit import rtc

from worker.engines.piper_tts import synthesize_pcm

REPO = Path(__file__).resolve().parents[2]
LOUD = 300
WINDOW_S = 0.005


def resample(pcm: np.ndarray, rate: int, to: int) -> np.ndarray:
    """int16 mono `pcm` at `rate` → `to` Hz (LiveKit's own resampler)."""
    if rate == to:
        return pcm
    res = rtc.AudioResampler(rate, to, num_channels=1, quality=rtc.AudioResamplerQuality.HIGH)
    frames = res.push(bytearray(pcm.astype(np.int16).tobytes())) + res.flush()
    return np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in frames]) if frames else pcm[:0]


def write_wav(path: Path, pcm: np.ndarray, rate: int) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype(np.int16).tobytes())
    return path


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16), w.getframerate()


def caller_line(text: str, rate: int, path: Path) -> Path:
    """The caller's line in the offline Piper voice, at the codec's rate, with 0.3 s lead-in."""
    pcm, piper_rate = synthesize_pcm(text)
    line = resample(pcm, piper_rate, rate)
    return write_wav(path, np.concatenate([np.zeros(int(0.3 * rate), dtype=np.int16), line]), rate)


def loud_windows(pcm: np.ndarray, rate: int) -> np.ndarray:
    """Start times (s) of every loud 5 ms window."""
    win = max(1, int(rate * WINDOW_S))
    n = len(pcm) // win
    if n == 0:
        return np.zeros(0)
    peaks = np.abs(pcm[: n * win].reshape(n, win).astype(np.int32)).max(axis=1)
    return np.nonzero(peaks > LOUD)[0] * win / rate


def first_sound(pcm: np.ndarray, rate: int, after: float, before: float = float("inf")) -> float | None:
    loud = loud_windows(pcm, rate)
    hits = loud[(loud >= after) & (loud < before)]
    return float(hits[0]) if len(hits) else None


def last_sound(pcm: np.ndarray, rate: int, before: float) -> float | None:
    loud = loud_windows(pcm, rate)
    hits = loud[loud < before]
    return float(hits[-1]) + WINDOW_S if len(hits) else None


def run_caller(plan: dict, out: Path, timeout: float = 240.0) -> dict:
    """Run the SIP caller process (tests/sip/phone_caller.py) with `plan`; returns its caller.json."""
    out.mkdir(parents=True, exist_ok=True)
    plan = {**plan, "out": str(out)}
    (out / "plan.json").write_text(json.dumps(plan))
    with (out / "caller.log").open("wb") as log:
        done = subprocess.run([sys.executable, "-m", "tests.sip.phone_caller", str(out / "plan.json")], cwd=REPO,
                              stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False)
    assert done.returncode == 0, (out / "caller.log").read_text(errors="replace")[-3000:]
    return json.loads((out / "caller.json").read_text())
