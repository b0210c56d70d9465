"""A real SIP caller (PJSUA2, null sound device) that dials LiveKit SIP over 127.0.0.1.

Run as its own process (`python -m tests.sip.phone_caller PLAN.json`): PJSIP's media clock
thread calls back into Python, and keeping it out of pytest's process keeps both simple.
The plan is a list of steps, run in order and reacting to what the caller hears:

- `{"wait_quiet": Q, "timeout": T}`: wait until the agent has spoken (after this step began)
  and then been quiet Q s;
- `{"wait_end": T}`: wait up to T s for the other side to hang up;
- `{"say": "file.wav"}`: play a WAV at the codec's rate (16-bit mono) into the call;
- `{"keys": "4242#"}`: press keys (RFC 2833 telephone events);
- `{"pause": S}`; `{"hangup": true}`.

Everything heard is recorded at the port's rate against the same clock as what was said, and
written to `<out>/heard.wav` and `<out>/said.wav` (one sample per sample, silence where
nothing was sent or received) with `<out>/caller.json`: when the call was answered, the
end of each line said, and the steps' outcomes. Times are seconds from the INVITE.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pjsua2 as pj

FRAME_MS = 20
LOUD = 300
"""A 5 ms window whose peak is above this counts as sound (GUIDE: measure on samples)."""


class Mouth(pj.AudioMediaPort):
    """What the caller says: queued PCM, silence when the queue is empty."""

    def __init__(self, rate: int) -> None:
        super().__init__()
        self.rate = rate
        self.samples = rate * FRAME_MS // 1000
        self.queue = np.zeros(0, dtype=np.int16)
        self.lock = threading.Lock()
        self.sent: list[np.ndarray] = []

    def onFrameRequested(self, frame: pj.MediaFrame) -> None:  # noqa: N802 - PJSUA2's name
        with self.lock:
            chunk, self.queue = self.queue[: self.samples], self.queue[self.samples:]
        if len(chunk) < self.samples:
            chunk = np.concatenate([chunk, np.zeros(self.samples - len(chunk), dtype=np.int16)])
        self.sent.append(chunk)
        frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
        frame.buf = pj.ByteVector(chunk.tobytes())
        frame.size = len(chunk) * 2

    def say(self, pcm: np.ndarray) -> float:
        """Queue `pcm`; returns how long until it has all been sent (seconds)."""
        with self.lock:
            self.queue = np.concatenate([self.queue, pcm])
            return len(self.queue) / self.rate


class Ear(pj.AudioMediaPort):
    """What the caller hears, one frame per clock tick."""

    def __init__(self, rate: int) -> None:
        super().__init__()
        self.rate = rate
        self.frames: list[np.ndarray] = []
        self.lock = threading.Lock()

    def onFrameReceived(self, frame: pj.MediaFrame) -> None:  # noqa: N802 - PJSUA2's name
        data = bytes(frame.buf) if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO else b""
        n = self.rate * FRAME_MS // 1000
        pcm = np.frombuffer(data, dtype=np.int16) if len(data) == n * 2 else np.zeros(n, dtype=np.int16)
        with self.lock:
            self.frames.append(pcm.copy())

    def audio(self) -> np.ndarray:
        with self.lock:
            return np.concatenate(self.frames) if self.frames else np.zeros(0, dtype=np.int16)


def _fmt(rate: int) -> pj.MediaFormatAudio:
    fmt = pj.MediaFormatAudio()
    fmt.type = pj.PJMEDIA_TYPE_AUDIO
    fmt.clockRate = rate
    fmt.channelCount = 1
    fmt.bitsPerSample = 16
    fmt.frameTimeUsec = FRAME_MS * 1000
    return fmt


class Call(pj.Call):
    def __init__(self, account: pj.Account, caller: "Caller") -> None:
        super().__init__(account)
        self.caller = caller

    def onCallState(self, prm: pj.OnCallStateParam) -> None:  # noqa: N802
        info = self.getInfo()
        self.caller.state = info.stateText
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED and self.caller.answered_at is None:
            self.caller.answered_at = self.caller.now()
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.caller.ended_at = self.caller.now()
            self.caller.end_reason = f"{info.lastStatusCode} {info.lastReason}"

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:  # noqa: N802
        info = self.getInfo()
        for i, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                audio = self.getAudioMedia(i)
                audio.startTransmit(self.caller.ear)
                self.caller.mouth.startTransmit(audio)
                self.caller.media_at = self.caller.media_at or self.caller.now()


class Caller:
    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.rate = int(plan.get("rate", 8000))
        self.t0 = time.monotonic()
        self.answered_at: float | None = None
        self.media_at: float | None = None
        self.ended_at: float | None = None
        self.end_reason = ""
        self.state = "NULL"
        self.log: list[dict[str, Any]] = []
        self.ep = pj.Endpoint()
        self.ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.logConfig.level = 3
        cfg.logConfig.consoleLevel = 3
        cfg.medConfig.clockRate = self.rate
        cfg.medConfig.sndClockRate = self.rate
        cfg.medConfig.hasIoqueue = True
        cfg.medConfig.noVad = True
        cfg.medConfig.ecTailLen = 0
        self.ep.libInit(cfg)
        tcfg = pj.TransportConfig()
        tcfg.boundAddress = "127.0.0.1"
        tcfg.port = 0
        self.ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        self.ep.libStart()
        self.ep.audDevManager().setNullDev()
        for codec in self.ep.codecEnum2():
            self.ep.codecSetPriority(codec.codecId, 0)
        self.ep.codecSetPriority(plan.get("codec", "PCMU/8000"), 255)
        acfg = pj.AccountConfig()
        acfg.idUri = f"sip:{plan['from']}@127.0.0.1"
        acfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
        self.account = pj.Account()
        self.account.create(acfg)
        self.ear = Ear(self.rate)
        self.ear.createPort("ear", _fmt(self.rate))
        self.mouth = Mouth(self.rate)
        self.mouth.createPort("mouth", _fmt(self.rate))
        self.call = Call(self.account, self)

    def now(self) -> float:
        return round(time.monotonic() - self.t0, 4)

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.ep.libHandleEvents(10)

    def heard_quiet_for(self, since: float) -> float:
        """Seconds since the last loud 5 ms window heard after `since` (s of recording); inf if none."""
        audio = self.ear.audio()
        win = self.rate // 200
        n = len(audio) // win
        first = int(since * self.rate) // win
        if n <= first:
            return float("inf")
        peaks = np.abs(audio[first * win: n * win].reshape(n - first, win).astype(np.int32)).max(axis=1)
        loud = np.nonzero(peaks > LOUD)[0]
        return float("inf") if len(loud) == 0 else (n - first - 1 - int(loud[-1])) * win / self.rate

    def heard_seconds(self) -> float:
        with self.ear.lock:
            return len(self.ear.frames) * FRAME_MS / 1000

    def run(self) -> None:
        prm = pj.CallOpParam(True)
        self.call.makeCall(self.plan["uri"], prm)
        for step in self.plan["steps"]:
            if self.ended_at is not None:
                self.log.append({"step": step, "skipped": "call ended"})
                continue
            at = self.now()
            if "wait_end" in step:
                deadline = time.monotonic() + float(step["wait_end"])
                while time.monotonic() < deadline and self.ended_at is None:
                    self.pump(0.05)
                self.log.append({"step": step, "at": at, "ok": self.ended_at is not None, "done": self.now()})
            elif "wait_quiet" in step:
                deadline = time.monotonic() + float(step.get("timeout", 30))
                ok = False
                since = self.heard_seconds()
                while time.monotonic() < deadline and self.ended_at is None:
                    self.pump(0.05)
                    quiet = self.heard_quiet_for(since)
                    if quiet != float("inf") and quiet >= float(step["wait_quiet"]):
                        ok = True
                        break
                self.log.append({"step": step, "at": at, "ok": ok, "done": self.now()})
            elif "say" in step:
                with wave.open(step["say"], "rb") as w:
                    assert w.getframerate() == self.rate and w.getsampwidth() == 2 and w.getnchannels() == 1
                    pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
                lasts = self.mouth.say(pcm)
                self.pump(lasts + 0.05)
                self.log.append({"step": step, "at": at, "ended": self.now()})
            elif "keys" in step:
                for key in step["keys"]:
                    self.call.dialDtmf(key)
                    self.pump(float(step.get("gap", 0.25)))
                self.log.append({"step": step, "at": at, "done": self.now()})
            elif "pause" in step:
                self.pump(float(step["pause"]))
                self.log.append({"step": step, "at": at})
            elif "hangup" in step:
                self.call.hangup(pj.CallOpParam(True))
                self.pump(1.0)
                self.log.append({"step": step, "at": at})
        self.pump(0.5)

    def write(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        heard = self.ear.audio()
        said = np.concatenate(self.mouth.sent) if self.mouth.sent else np.zeros(0, dtype=np.int16)
        for name, pcm in (("heard.wav", heard), ("said.wav", said)):
            with wave.open(str(out / name), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(self.rate)
                w.writeframes(pcm.tobytes())
        (out / "caller.json").write_text(json.dumps({
            "rate": self.rate, "answered_at": self.answered_at, "media_at": self.media_at, "ended_at": self.ended_at,
            "end_reason": self.end_reason, "state": self.state, "steps": self.log,
        }, indent=1))

    def close(self) -> None:
        try:
            self.ear.__disown__() if hasattr(self.ear, "__disown__") else None
            self.ep.hangupAllCalls()
            self.pump(0.3)
        finally:
            self.ep.libDestroy()


def main() -> int:
    plan = json.loads(Path(sys.argv[1]).read_text())
    caller = Caller(plan)
    try:
        caller.run()
    finally:
        caller.write(Path(plan["out"]))
    print(json.dumps({"answered_at": caller.answered_at, "ended_at": caller.ended_at, "end": caller.end_reason}))
    sys.stdout.flush()
    import os

    os._exit(0)  # PJSIP's destructors and Python's GC disagree at exit; the results are on disk


if __name__ == "__main__":
    sys.exit(main())
