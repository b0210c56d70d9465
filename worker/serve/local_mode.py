"""`mediabloom demo`: the widget, the offline engines and a direct WebRTC link, on 127.0.0.1.

No LiveKit server and no keys: the browser POSTs its SDP offer (every candidate included, no
trickle) to /api/offer and gets the answer back; audio flows both ways over the peer
connection (duplex, so the caller can interrupt), and a data channel named `mediabloom`
carries JSON messages — worker → browser: `agent_state`, `transcript`, `trace`, `ended`;
browser → worker: `text` (a typed turn), `hangup`. Each call is assembled by `CallAssembly`
exactly like a simulated call or a LiveKit job; this module only adds the transport's
audio (`worker/transport/webrtc_local.py`) and its trace sink (the data channel).
In the spirit of Pipecat's SmallWebRTC transport.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdatachannel import RTCDataChannel
from livekit.agents.voice import events as ev
from loguru import logger
from pydantic import BaseModel, ValidationError

from worker.call.assembly import CallAssembly, new_call_id
from worker.call.typed_turn import typed_turn
from worker.call.engine_catalog import Engines
from worker.serve.widget_config import WidgetConfig, add_widget_config
from worker.settings import Settings
from worker.trace.records import TurnTrace
from worker.transport.clock import CallClock
from worker.transport.recording import CallRecorder
from worker.transport.webrtc_local import BrowserMicrophone, BrowserSpeaker, offer_loopback_only

OFFER_PATH = "/api/offer"
MAX_CALLS = 2
"""Two cores run about two real-time calls; a third caller is told so instead of stuttering."""


class Offer(BaseModel):
    sdp: str
    type: str


class ChannelLink:
    """The data channel as the call sees it: JSON out (queued until it opens), and a trace sink."""

    def __init__(self) -> None:
        self.channel: RTCDataChannel | None = None
        self._pending: list[str] = []
        self.sent = 0

    def attach(self, channel: RTCDataChannel) -> None:
        self.channel = channel

        @channel.on("open")
        def _flush() -> None:
            self._send_pending()

        if channel.readyState == "open":
            self._send_pending()

    def send(self, message: dict[str, Any]) -> None:
        self._pending.append(json.dumps(message, default=str))
        self._send_pending()

    def _send_pending(self) -> None:
        if self.channel is None or self.channel.readyState != "open":
            return
        while self._pending:
            self.channel.send(self._pending.pop(0))
            self.sent += 1

    # TraceSink
    def publish(self, turn: TurnTrace) -> None:
        self.send({"type": "trace", "record": turn.model_dump(mode="json")})

    async def drain(self) -> None:
        self._send_pending()


class LocalCall:
    """One browser's call: peer connection, data channel, and the assembled call."""

    def __init__(self, mode: "LocalMode", pc: RTCPeerConnection) -> None:
        self.mode = mode
        self.pc = pc
        self.call_id = new_call_id()
        self.link = ChannelLink()
        self.clock = CallClock()
        self.recorder = CallRecorder(sample_rate=24000, clock=self.clock)
        self.speaker = BrowserSpeaker(self.recorder)
        self.mic: BrowserMicrophone | None = None
        self.hung_up = asyncio.Event()
        self.started = asyncio.Event()
        """set once the session runs: typed text that arrives earlier waits for it"""
        self.log = logger.bind(call_id=self.call_id, turn="-")
        self.assembly: CallAssembly | None = None
        self._user_segment = 0

    async def answer(self, offer: Offer) -> RTCSessionDescription:
        pc = self.pc

        @pc.on("track")
        def _on_track(track: Any) -> None:
            if track.kind == "audio" and self.mic is None:
                self.mic = BrowserMicrophone(track, recorder=self.recorder)

        @pc.on("datachannel")
        def _on_channel(channel: RTCDataChannel) -> None:
            self.link.attach(channel)
            channel.on("message", self._on_message)

        @pc.on("connectionstatechange")
        def _on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                self.hung_up.set()

        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type=offer.type))
        pc.addTrack(self.speaker.track)
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription

    def _on_message(self, raw: Any) -> None:
        try:
            message = json.loads(raw)
            kind = message["type"]
        except (ValueError, KeyError, TypeError):
            self.log.warning("malformed data-channel message ignored ({} chars)", len(str(raw)))
            return
        if kind == "hangup":
            self.hung_up.set()
        elif kind == "text" and isinstance(message.get("text"), str):
            asyncio.get_event_loop().create_task(self._typed(message["text"][:2000]))
        else:
            self.log.info("data-channel message of type {!r} ignored", kind)

    async def _typed(self, text: str) -> None:
        await self.started.wait()
        if self.assembly is not None and not self.hung_up.is_set():
            await typed_turn(self.assembly.session, self.assembly.conversation, text)

    def _wire(self, call: CallAssembly) -> None:
        s, send = call.session, self.link.send

        def on_state(e: ev.AgentStateChangedEvent) -> None:
            send({"type": "agent_state", "state": e.new_state})

        def on_heard(e: ev.UserInputTranscribedEvent) -> None:
            if not e.transcript.strip():
                return
            send({"type": "transcript", "id": f"user-{self._user_segment}", "role": "user", "text": e.transcript,
                  "final": e.is_final})
            if e.is_final:
                self._user_segment += 1

        def on_item(e: ev.ConversationItemAddedEvent) -> None:
            item = e.item
            if getattr(item, "type", None) == "message" and item.role == "assistant" and item.text_content:
                send({"type": "transcript", "id": item.id, "role": "agent", "text": item.text_content, "final": True,
                      "interrupted": bool(item.interrupted)})

        s.on("agent_state_changed", on_state)
        s.on("user_input_transcribed", on_heard)
        s.on("conversation_item_added", on_item)

    async def run(self) -> None:
        settings = self.mode.settings
        try:
            async with CallAssembly(settings, flow=settings.flow, today=settings.resolved_today(),
                                    data_dir=self.mode.data_dir, call_id=self.call_id, sinks=[self.link],
                                    engines=self.mode.engines,
                                    trace_t0=self.clock.t0 + (time.time() - time.monotonic())) as call:
                self.assembly = call
                self._wire(call)
                await call.start(audio_in=self.mic, audio_out=self.speaker)
                self.started.set()
                ended = asyncio.ensure_future(call.ended.wait())
                hung_up = asyncio.ensure_future(self.hung_up.wait())
                await asyncio.wait({ended, hung_up}, return_when=asyncio.FIRST_COMPLETED)
                for f in (ended, hung_up):
                    f.cancel()
                reason = "caller hung up" if self.hung_up.is_set() else "completed"
                if not call.ended.is_set():
                    await call.conversation.end(reason)
                await call.stop()
                wav = await asyncio.to_thread(self.recorder.write, call.trace_path.with_suffix(".wav"))
                self.log.info("recording: {}", wav)
                self.link.send({"type": "ended", "reason": reason})  # the recording is there once the page hears this
                await asyncio.sleep(0.2)  # let the last messages leave before the link closes
        except Exception:  # noqa: BLE001 - one broken call must not take the demo down
            self.log.exception("local call failed")
            self.link.send({"type": "ended", "reason": "the call failed on the server; see its log"})
        finally:
            await self.pc.close()
            self.mode.calls.discard(self)
            self.log.info("local call closed ({} data-channel messages sent)", self.link.sent)


class LocalMode:
    """The demo server's state: shared engines, the data dir, and the calls in progress."""

    def __init__(self, settings: Settings, engines: Engines, data_dir: Path) -> None:
        self.settings = settings
        self.engines = engines
        self.data_dir = data_dir
        self.calls: set[LocalCall] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def offer(self, request: web.Request) -> web.Response:
        try:
            offer = Offer.model_validate(await request.json())
        except (ValueError, ValidationError):
            return web.json_response({"error": {"code": "invalid_offer", "message": "POST {sdp, type} as JSON."}}, status=400)
        if len(self.calls) >= MAX_CALLS:
            return web.json_response({"error": {"code": "busy", "message": "The demo is already on two calls; retry later."}},
                                     status=503)
        call = LocalCall(self, RTCPeerConnection(RTCConfiguration(iceServers=[])))
        answer = await call.answer(offer)
        self.calls.add(call)
        task = asyncio.get_event_loop().create_task(call.run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        call.log.info("local call answered")
        return web.json_response({"sdp": answer.sdp, "type": answer.type, "call_id": call.call_id},
                                 headers={"Cache-Control": "no-store"})

    async def shutdown(self, _: web.Application | None = None) -> None:
        for call in list(self.calls):
            call.hung_up.set()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)


LOCAL_MODE_KEY = web.AppKey("local_mode", LocalMode)


def create_local_app(settings: Settings, engines: Engines, *, frontend_dir: Path, data_dir: Path) -> web.Application:
    """The demo's aiohttp app: config, offer, health, and the built widget."""
    offer_loopback_only()
    mode = LocalMode(settings, engines, data_dir)
    app = web.Application(client_max_size=256 * 1024)
    app[LOCAL_MODE_KEY] = mode

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "calls": len(mode.calls)})

    app.router.add_get("/healthz", healthz)
    add_widget_config(app, WidgetConfig(transport="local", offer_url=OFFER_PATH))
    app.router.add_post(OFFER_PATH, mode.offer)
    index = frontend_dir / "index.html"

    async def index_page(_: web.Request) -> web.FileResponse:
        return web.FileResponse(index)

    app.router.add_get("/", index_page)
    app.router.add_static("/", frontend_dir, show_index=False, follow_symlinks=False)
    app.on_shutdown.append(mode.shutdown)
    return app


def run_demo(settings: Settings, host: str, port: int, frontend_dir: Path) -> int:
    """`mediabloom demo`: load the engines once, serve until Ctrl-C, print the URL to open."""
    from worker.call.engine_catalog import build_engines

    if not (frontend_dir / "index.html").is_file():
        print(f"error: the widget is not built ({frontend_dir}/index.html is missing): "
              "run `cd frontend && npm ci && npm run build` first")
        return 2
    logger.info("loading the offline engines…")
    engines = build_engines(settings)
    app = create_local_app(settings, engines, frontend_dir=frontend_dir, data_dir=settings.data_dir)
    url = f"http://{host}:{port}/"
    print(f"\n  MediaBloom demo (local mode, no server, no keys): open {url} and press Call\n"
          f"  traces: {settings.data_dir / 'traces'} — `uv run mediabloom trace CALL_ID`; Ctrl-C to stop\n", flush=True)
    web.run_app(app, host=host, port=port, print=None, access_log=None)
    return 0
