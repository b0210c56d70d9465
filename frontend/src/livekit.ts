/**
 * LiveKit mode: get a one-room token from the token endpoint, join, publish the microphone.
 * Everything else is LiveKit's standard agent protocol, so this is what any stock frontend
 * sees: agent state in the `lk.agent.state` attribute, transcripts as `lk.transcription`
 * text streams, typed text on `lk.chat`; plus the runtime's `mediabloom.trace` messages.
 */

import {
  ConnectionError,
  DisconnectReason,
  type Participant,
  type RemoteTrack,
  Room,
  RoomEvent,
  Track,
} from "livekit-client";

import { CallError, type TurnTrace } from "./types";
import { reach, type CallTransport, type TransportEvents } from "./transport";

const TRACE_TOPIC = "mediabloom.trace";
const AGENT_WAIT_MS = 30000;

export class LiveKitTransport implements CallTransport {
  private room: Room | null = null;
  private hangingUp = false;
  private micSid: string | undefined;
  /** resolves when the agent's session runs (its state attribute is set): text sent earlier would be lost */
  private agentReady: Promise<void>;
  private markAgentReady!: () => void;

  constructor(private tokenEndpoint: string, private agentName: string | undefined, private events: TransportEvents) {
    this.agentReady = new Promise((resolve) => (this.markAgentReady = resolve));
  }

  private agentState(state: string | undefined): void {
    if (!state) return;
    if (state !== "initializing") this.markAgentReady();
    this.events.agentState(state);
  }

  async start(mic: MediaStream | null): Promise<void> {
    const res = await reach(this.tokenEndpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(this.agentName ? { room_config: { agents: [{ agent_name: this.agentName }] } } : {}),
    });
    if (res.status === 401 || res.status === 403) {
      throw new CallError("token_refused", `The server refused a call token: ${await message(res)}`);
    }
    if (!res.ok) throw new CallError(res.status >= 500 ? "server_gone" : "failed", `Token request failed: ${await message(res)}`);
    const { server_url, participant_token } = (await res.json()) as { server_url: string; participant_token: string };

    const room = new Room({ adaptiveStream: false, dynacast: false });
    this.room = room;
    this.listen(room);
    try {
      await room.connect(server_url, participant_token);
    } catch (err) {
      const detail = err instanceof ConnectionError ? err.message : String(err);
      throw new CallError("server_gone", `Could not reach the LiveKit server (${detail}).`);
    }
    if (mic) {
      const [track] = mic.getAudioTracks();
      const pub = await room.localParticipant.publishTrack(track, { source: Track.Source.Microphone });
      this.micSid = pub.trackSid;
    }
  }

  private listen(room: Room): void {
    room.on(RoomEvent.TrackSubscribed, (track: RemoteTrack) => {
      if (track.kind === Track.Kind.Audio) this.events.agentAudio(new MediaStream([track.mediaStreamTrack]));
    });
    room.on(RoomEvent.ParticipantAttributesChanged, (changed: Record<string, string>, p: Participant) => {
      if (p !== room.localParticipant && "lk.agent.state" in changed) this.agentState(changed["lk.agent.state"]);
    });
    room.on(RoomEvent.ParticipantConnected, (p: Participant) => {
      this.agentState(p.attributes["lk.agent.state"]);
    });
    room.on(RoomEvent.DataReceived, (payload: Uint8Array, _p?: Participant, _k?: unknown, topic?: string) => {
      if (topic === TRACE_TOPIC) this.onTrace(new TextDecoder().decode(payload));
    });
    room.registerTextStreamHandler(TRACE_TOPIC, async (reader) => this.onTrace(await reader.readAll()));
    room.registerTextStreamHandler("lk.transcription", async (reader, who) => {
      const attrs = reader.info.attributes ?? {};
      const id = attrs["lk.segment_id"] ?? reader.info.id;
      const track = attrs["lk.transcribed_track_id"];
      const isUser = who.identity === room.localParticipant.identity || (track !== undefined && track === this.micSid);
      const role = isUser ? "user" : "agent";
      let text = "";
      for await (const chunk of reader) {
        text += chunk;
        this.events.transcript({ id, role, text, final: false });
      }
      this.events.transcript({ id, role, text, final: attrs["lk.transcription_final"] === "true" || role === "agent" });
    });
    room.on(RoomEvent.ParticipantDisconnected, (p: Participant) => {
      // the agent leaving is the end of the call (it said goodbye), not a lost connection
      if (p.isAgent && !this.hangingUp) {
        this.hangingUp = true;
        this.events.closed("ended", "the agent ended the call");
        void room.disconnect();
      }
    });
    room.on(RoomEvent.Disconnected, (reason?: DisconnectReason) => {
      if (this.hangingUp) return;
      if (reason === DisconnectReason.ROOM_DELETED) return this.events.closed("ended", "the call ended");
      this.events.closed("lost", reason === undefined ? "disconnected" : DisconnectReason[reason]);
    });
  }

  private onTrace(json: string): void {
    try {
      this.events.trace(JSON.parse(json) as TurnTrace);
    } catch {
      /* a malformed trace message is not worth breaking the call for */
    }
  }

  async sendText(text: string): Promise<void> {
    if (!this.room) throw new CallError("connection_lost", "Not connected.");
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new CallError("failed", "The agent did not join the call; retry in a moment.")), AGENT_WAIT_MS));
    await Promise.race([this.agentReady, timeout]);
    await this.room.localParticipant.sendText(text, { topic: "lk.chat" });
  }

  async hangup(): Promise<void> {
    this.hangingUp = true;
    await this.room?.disconnect();
  }
}

async function message(res: Response): Promise<string> {
  try {
    const body = await res.json();
    return body?.error?.message ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}
