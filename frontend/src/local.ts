/**
 * Local mode: a direct browser ↔ worker WebRTC link (no LiveKit server), in the spirit of
 * Pipecat's SmallWebRTC transport. One POST carries the offer (with every ICE candidate, no
 * trickle) and returns the answer; a data channel carries transcripts, agent state, traces
 * (worker → browser) and typed text and hang-up (browser → worker).
 */

import { CallError, type LocalMessage } from "./types";
import { reach, type CallTransport, type TransportEvents } from "./transport";

const GATHER_TIMEOUT_MS = 3000;
const HANGUP_WAIT_MS = 3000;

export class LocalTransport implements CallTransport {
  private pc: RTCPeerConnection | null = null;
  private channel: RTCDataChannel | null = null;
  private hangingUp = false;
  private closedOnce = false;
  private ended: (() => void) | null = null;

  constructor(private offerUrl: string, private events: TransportEvents) {}

  async start(mic: MediaStream | null): Promise<void> {
    const pc = new RTCPeerConnection({ iceServers: [] });
    this.pc = pc;
    if (mic) {
      for (const track of mic.getAudioTracks()) pc.addTransceiver(track, { direction: "sendrecv", streams: [mic] });
    } else {
      pc.addTransceiver("audio", { direction: "recvonly" });
    }
    const channel = pc.createDataChannel("mediabloom", { ordered: true });
    this.channel = channel;
    channel.onmessage = (e) => this.onMessage(String(e.data));
    channel.onclose = () => this.lost("The data channel closed.");
    pc.ontrack = (e) => this.events.agentAudio(e.streams[0] ?? new MediaStream([e.track]));
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "failed" || pc.connectionState === "disconnected") this.lost(`WebRTC ${pc.connectionState}`);
    };
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const res = await reach(this.offerUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sdp: pc.localDescription!.sdp, type: pc.localDescription!.type }),
    });
    if (!res.ok) throw new CallError(res.status >= 500 ? "failed" : "token_refused", await errorText(res, "The server refused the call"));
    const answer = (await res.json()) as RTCSessionDescriptionInit;
    await pc.setRemoteDescription(answer);
    await opened(channel, pc);
  }

  async sendText(text: string): Promise<void> {
    if (!this.channel || this.channel.readyState !== "open") throw new CallError("connection_lost", "Not connected.");
    this.channel.send(JSON.stringify({ type: "text", text }));
  }

  /** Ask the worker to end the call and wait (briefly) for its `ended`: the last turn's trace comes first. */
  async hangup(): Promise<void> {
    this.hangingUp = true;
    if (this.channel?.readyState === "open") {
      const ended = new Promise<void>((resolve) => {
        this.ended = resolve;
        setTimeout(resolve, HANGUP_WAIT_MS);
      });
      try {
        this.channel.send(JSON.stringify({ type: "hangup" }));
        await ended;
      } catch {
        /* closing anyway */
      }
    }
    this.channel?.close();
    this.pc?.close();
  }

  private onMessage(raw: string): void {
    let msg: LocalMessage;
    try {
      msg = JSON.parse(raw) as LocalMessage;
    } catch {
      return;
    }
    if (msg.type === "agent_state") this.events.agentState(msg.state);
    else if (msg.type === "transcript") this.events.transcript(msg);
    else if (msg.type === "trace") this.events.trace(msg.record);
    else if (msg.type === "ended") {
      if (this.ended) return this.ended();
      this.hangingUp = true;
      this.events.closed("ended", msg.reason);
      this.pc?.close();
    }
  }

  private lost(detail: string): void {
    if (this.hangingUp || this.closedOnce) return;
    this.closedOnce = true;
    this.events.closed("lost", detail);
    this.pc?.close();
  }
}

async function errorText(res: Response, fallback: string): Promise<string> {
  try {
    const body = await res.json();
    return body?.error?.message ?? fallback;
  } catch {
    return `${fallback} (HTTP ${res.status}).`;
  }
}

function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState === "complete") resolve();
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, GATHER_TIMEOUT_MS);
  });
}

function opened(channel: RTCDataChannel, pc: RTCPeerConnection): Promise<void> {
  if (channel.readyState === "open") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new CallError("connection_lost", "The audio link did not come up (no route to the worker).")), 10000);
    channel.addEventListener("open", () => {
      clearTimeout(timer);
      resolve();
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "failed") {
        clearTimeout(timer);
        reject(new CallError("connection_lost", "The audio link failed to connect."));
      }
    });
  });
}
