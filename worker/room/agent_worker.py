"""The LiveKit worker: LiveKit dispatches a job per room; each runs a call from `CallAssembly`.

In the room the session subscribes to the caller's microphone and publishes the agent's audio
(duplex, so barge-in works as on a phone line), publishes agent state and transcriptions the
standard LiveKit way (so stock frontends work unchanged), and each turn's trace goes to the
caller on the `mediabloom.trace` topic and to disk. Junk on the data channel is logged and
ignored. Scale-out is LiveKit's job (Cloud or a self-hosted cluster dispatching to workers).
"""

from __future__ import annotations

import time
from functools import partial

from livekit import rtc
from livekit.agents import AgentServer, JobContext, JobExecutorType, JobProcess
from livekit.agents.voice import room_io
from loguru import logger

from worker.call.assembly import CallAssembly
from worker.call.conversation import Conversation
from worker.call.typed_turn import typed_turn
from worker.call.engine_catalog import build_engines
from worker.phone.line import PhoneLine, caller_id_slot, phone_part
from worker.room.data_channel import mask_room_transcripts, on_caller_data
from worker.room.heard_gate import hold_until_heard
from worker.room.room_link import open_room_link
from worker.room.telemetry import setup_telemetry
from worker.room.trace_publisher import TracePublisher
from worker.settings import Settings, load_settings
from worker.transport.worker_ear import WorkerEar


def _load(server: AgentServer, max_calls: int) -> float:
    """Load as the share of call slots in use. LiveKit's default is host CPU, which a loaded
    2-core box keeps near 1.0 even when idle, so the server would never dispatch to it."""
    return len(server.active_jobs) / max_calls


def _prewarm(proc: JobProcess) -> None:
    settings = load_settings()
    proc.userdata["engines"] = build_engines(settings)


async def run_call(ctx: JobContext, settings: Settings) -> None:
    """Join the room, wait for the caller, assemble the call; it is closed at job shutdown."""
    await ctx.connect()
    caller = await ctx.wait_for_participant()
    call_id = f"call_{ctx.room.name}_{ctx.job.id[-8:]}"
    log = logger.bind(call_id=call_id, turn="-")
    publisher = TracePublisher(ctx.room, caller.identity)
    t0 = time.time()
    ear = WorkerEar(t0)  # per-turn latency on the audio the worker receives and publishes
    call = CallAssembly(settings, flow=settings.flow, today=settings.resolved_today(), data_dir=settings.data_dir,
                        call_id=call_id, sinks=[publisher], trace_t0=t0, true_eos=ear.true_eos,
                        heard_first_audio=ear.first_audible_after, ear_source=ear.source)
    await call.open()
    line = _phone_line(ctx, caller, call.conversation, call_id)

    async def cleanup(reason: str = "") -> None:
        if line is not None:
            await line.aclose()
        await call.close()
        log.info("call closed ({} trace messages published)", publisher.sent)

    ctx.add_shutdown_callback(cleanup)
    ctx.room.on("data_received", lambda packet: on_caller_data(packet, call_id))
    log.info("joined room {} for caller {}", ctx.room.name, caller.identity)
    options = room_io.RoomOptions(
        participant_identity=caller.identity, close_on_disconnect=True,
        # a phone call: when the agent ends the call, hang up the line
        delete_room_on_close=line is not None,
        # typed text (`lk.chat`) is a caller turn like speech: through the state machine first
        text_input=room_io.TextInputOptions(
            text_input_cb=lambda session, ev: typed_turn(session, call.conversation, ev.text)))
    link = await open_room_link(call.session, ctx.room, options, on_open=ctx.add_shutdown_callback)
    if link is None:
        ctx.shutdown("the caller left before the call started")
        return
    # the caller's words on lk.transcription, masked like every sink (a group of a card: all hidden)
    expected = call.conversation.expected
    mask_room_transcripts(link, hide_all=lambda: expected.slot == "card_group" or expected.group_again)
    ear.attach(call.session)  # in front of the room's audio, before the session's first frame
    hold_until_heard(call.session, link)  # outermost: a cancelled wait for the caller is harmless
    await call.start(
        record=False,
        # no RemoteSession host: livekit-agents would broadcast every session event to the
        # whole room on `lk.agent.session` (the caller's words and chat items in clear, a card
        # number included); transcripts and traces go out masked through our own sinks instead
        session_host=False,
    )


def _phone_line(ctx: JobContext, caller: rtc.RemoteParticipant, conv: Conversation, call_id: str) -> PhoneLine | None:
    """A caller that came through LiveKit SIP: caller id into the trace, keypad digits into the
    conversation, and the caller hanging up ends the job (its shutdown closes the journal)."""
    phone = phone_part(caller)
    if phone is None:
        return None
    conv.trace.on_phone_line(phone)
    known = caller_id_slot(phone.caller_number)
    if known is not None:
        conv.caller_identified(*known)
    logger.bind(call_id=call_id, turn="-").info("phone call to {} (caller id {})", phone.dialed_number or "?",
                                                "present" if phone.caller_number else "withheld")
    return PhoneLine(ctx.room, caller, call_id, keyed_turn=conv.keyed_turn, hung_up=ctx.shutdown)


def build_server(settings: Settings) -> AgentServer:
    """The worker: explicit dispatch by agent name, health endpoint on 127.0.0.1 by default."""
    setup_telemetry(settings.otlp_endpoint)
    server = AgentServer(
        host=settings.worker_host, port=settings.worker_port,
        job_executor_type=JobExecutorType.PROCESS, setup_fnc=_prewarm, num_idle_processes=1,
        initialize_process_timeout=90.0,
        drain_timeout=settings.worker_drain_timeout, load_threshold=1.0,
        load_fnc=partial(_load, max_calls=max(1, settings.worker_max_calls)),
        ws_url=settings.livekit_url, api_key=settings.livekit_api_key,
        api_secret=settings.livekit_api_secret.get_secret_value() if settings.livekit_api_secret else None,
    )

    server.rtc_session(entry, agent_name=settings.agent_name)
    return server


async def entry(ctx: JobContext) -> None:
    """One dispatched job (module level: job processes import it by name)."""
    await run_call(ctx, load_settings())


def run_worker(mode: str, settings: Settings) -> int:
    """`mediabloom worker dev|start`: hand over to livekit-agents' own CLI for the job loop."""
    import sys

    from livekit.agents import cli

    if not settings.livekit_api_key or not settings.livekit_api_secret:
        raise SystemExit("error: the worker needs LIVEKIT_API_KEY and LIVEKIT_API_SECRET (see .env.example).")
    import asyncio

    from worker.room.takeover import start_sweeps, sweep_once

    asyncio.run(sweep_once(settings, "at start"))
    start_sweeps(settings, settings.resume_sweep_seconds)
    server = build_server(settings)
    sys.argv = [sys.argv[0], mode]
    cli.run_app(server)
    return 0

