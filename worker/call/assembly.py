"""One call, assembled once: everything a call needs, opened in order and closed in reverse.

Every transport gets its call from here and provides only what is its own: audio in and out
(or a LiveKit room, whose RoomIO is the framework's own audio in/out) and extra trace sinks.
The simulated runner (`worker/simulate/runner.py`) and the LiveKit worker
(`worker/room/agent_worker.py`) are the two users today::

    async with CallAssembly(settings, flow="real_estate", today=today, data_dir=run_dir,
                            call_id=call_id, sinks=[data_channel]) as call:
        await call.start(audio_in=microphone, audio_out=speaker)
        await call.ended.wait()          # or drive the call, then `await call.stop()`

or, when the call outlives the function that starts it (a LiveKit job), `await call.open()`
and register `call.close` as the job's shutdown callback.

Opened in this order, closed in the reverse order, exactly once:

1. the engines (built once per process and shared by its calls: nothing to close);
2. the sandbox `<data_dir>/sandbox.db`, its absolute path journaled with `call_opened` so
   `resume` reopens the right one; the faults of `MB_SANDBOX_FAULTS` armed, one log line each;
3. the journal (`MB_JOURNAL_URL`) and the tool executor writing to it;
4. the trace file (`trace_path`, by default `<data_dir>/traces/<call_id>.jsonl`; created
   exclusively, see `worker/trace/sinks.py` for why) and the transport's own sinks;
5. the AgentSession (`session_options.build_session`), the writer of the call's events to the
   journal, and the `Conversation` (state machine, ledger, tool gate, agent).

Closing stops the session (its last turn reaches every sink), flushes the call's events to the
journal, drains the sinks, then closes the trace file, the journal and the sandbox. A failure
part-way through `open()` closes what was already opened and re-raises.

A third transport (the browser's local mode, WebRTC through aiortc) needs nothing else: it
subclasses livekit-agents' `AudioInput` / `AudioOutput` for its peer connection, implements
`TraceSink` (`publish`, `drain`) for its data channel, and passes them to `start()` and
`sinks=`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import AsyncExitStack
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any, Callable, Literal, Sequence

from livekit.agents import AgentSession
from livekit.agents.voice.io import AudioInput, AudioOutput
from livekit.agents.voice.transcription import TranscriptSynchronizer
from loguru import logger

from tools.executor import ToolExecutor
from tools.sandbox.core import Sandbox
from worker.call.conversation import CallOptions, Conversation
from worker.call.session_options import build_session
from worker.call.engine_catalog import Engines, build_engines
from worker.flow.library import load_flow
from worker.flow.machine import ConversationMachine
from worker.journaling import EventLog, Journal, open_journal
from worker.settings import Settings
from worker.trace.collector import TraceCollector
from worker.trace.records import CallerPart
from worker.trace.sinks import TraceFile, TraceSink


def new_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:12]


class CallAssembly:
    """Opens, starts and closes one call; see the module docstring for what and in which order.

    `trace_t0` is the wall time the trace counts from (a transport with its own call clock
    aligns the two); `true_eos` tells the trace when the caller's audio really ended (its last
    audible sample) and `heard_first_audio` when the caller first heard the agent's reply (its
    first audible sample), for transports that know them (the simulated caller does; a LiveKit
    room knows them at the worker, `ear_source="audio_at_worker"`). The opened parts are attributes:
    `engines`, `sandbox`, `journal`, `executor`, `session`, `conversation`.
    """

    engines: Engines
    sandbox: Sandbox
    journal: Journal
    executor: ToolExecutor
    session: AgentSession
    conversation: Conversation

    def __init__(self, settings: Settings, *, flow: str, today: date, data_dir: Path, call_id: str | None = None,
                 trace_path: Path | None = None, sinks: Sequence[TraceSink] = (), engines: Engines | None = None,
                 trace_t0: float | None = None,
                 true_eos: Callable[[CallerPart], float | None] | None = None,
                 heard_first_audio: Callable[[float], float | None] | None = None,
                 ear_source: Literal["audio", "audio_at_worker"] = "audio") -> None:
        self.settings = settings
        self.flow = flow
        self.today = today
        self.call_id = call_id or new_call_id()
        self.sandbox_path = (Path(data_dir) / "sandbox.db").resolve()
        self.trace_path = trace_path or Path(data_dir) / "traces" / f"{self.call_id}.jsonl"
        self.sinks = list(sinks)
        self._engines = engines
        self._trace_t0 = trace_t0
        self._true_eos = true_eos
        self._heard_first_audio = heard_first_audio
        self._ear_source = ear_source
        self.log = logger.bind(call_id=self.call_id, turn="-")
        self._stack = AsyncExitStack()
        self._opened = False
        self._closed = False
        self._close_lock = asyncio.Lock()

    # ------------------------------------------------------------ open
    async def open(self) -> "CallAssembly":
        if self._opened:
            raise RuntimeError(f"call {self.call_id} is already assembled (an assembly opens once)")
        self._opened = True
        try:
            await self._open()
        except BaseException:
            await self.close()
            raise
        return self

    async def _open(self) -> None:
        settings, stack = self.settings, self._stack
        self.engines = self._engines or build_engines(settings)

        self.sandbox_path.parent.mkdir(parents=True, exist_ok=True)
        self.sandbox = Sandbox.open(self.sandbox_path, self.today)
        stack.callback(self.sandbox.close)
        for fault in self.sandbox.faults.arm_spec(settings.sandbox_faults):
            self.log.warning("sandbox fault armed: {}", fault)

        self.journal = await open_journal(settings)
        stack.push_async_callback(self.journal.store.close)
        self.executor = ToolExecutor(sandbox=self.sandbox, store=self.journal.store,
                                     lease_s=settings.journal_lease_seconds)

        trace_file = TraceFile(self.trace_path)
        stack.push_async_callback(trace_file.drain)
        for sink in self.sinks:
            stack.push_async_callback(sink.drain)

        self.session = build_session(self.engines, settings)
        events = EventLog(self.journal.store, self.call_id)
        stack.push_async_callback(events.flush)
        machine = ConversationMachine(load_flow(self.flow))
        trace = TraceCollector(self.call_id, engine=self.engines.names["llm"], model=self.engines.planner_model,
                               state=machine.snapshot(), started_wall=self._trace_t0)
        trace.true_eos = self._true_eos
        trace.heard_first_audio = self._heard_first_audio
        trace.ear_source = self._ear_source
        trace.sinks += [trace_file.publish, *(sink.publish for sink in self.sinks)]
        options = CallOptions(flow=self.flow, today=self.today, sandbox=self.sandbox_path,
                              silence_reprompt_after=settings.silence_reprompt_after,
                              silence_max_reprompts=settings.silence_max_reprompts)
        self.conversation = Conversation(self.session, machine, trace, options, self.call_id,
                                         journal=events, executor=self.executor)
        stack.push_async_callback(self.stop)
        self.log.info("call assembled: flow {}, sandbox {}, trace {}", self.flow, self.sandbox_path, self.trace_path)

    # ------------------------------------------------------------ run
    async def start(self, audio_in: AudioInput | None = None, audio_out: AudioOutput | None = None,
                    **session_start: Any) -> None:
        """Start the session with the transport's audio.

        Local transports pass `audio_in` / `audio_out`; the output is wrapped in livekit-agents'
        `TranscriptSynchronizer`, so the chat history holds what the caller actually heard. A
        LiveKit room sets the session's input and output with its own RoomIO first
        (`worker.room.room_link`, which synchronizes transcripts itself) and passes neither; any
        other keyword goes to `AgentSession.start`.
        """
        if audio_in is not None:
            self.session.input.audio = audio_in
        if audio_out is not None:
            sync = TranscriptSynchronizer(next_in_chain_audio=audio_out, next_in_chain_text=None)
            self.session.output.audio = sync.audio_output
            self.session.output.transcription = sync.text_output
        await self.session.start(agent=self.conversation.agent, **session_start)

    @property
    def ended(self) -> asyncio.Event:
        """Set once the session has closed (the flow ended the call, or the caller left)."""
        return self.conversation.ended

    async def stop(self) -> None:
        """Close the session if it still runs (idempotent); the last turn reaches every sink."""
        conv = self.conversation
        conv.silence.stop()
        if not conv.ended.is_set():
            try:
                await self.session.aclose()
            except Exception as exc:  # noqa: BLE001 - closing must not hide the call's result
                self.log.warning("session close: {}", exc)
        conv.flush_trace()

    # ------------------------------------------------------------ close
    async def close(self) -> None:
        """Release everything opened, in reverse order; later calls do nothing."""
        async with self._close_lock:
            if self._closed:
                return
            self._closed = True
            started = time.monotonic()
            await self._stack.aclose()
            self.log.info("call closed in {:.0f} ms", (time.monotonic() - started) * 1000)

    async def __aenter__(self) -> "CallAssembly":
        return await self.open()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()
