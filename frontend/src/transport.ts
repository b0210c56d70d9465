/** What the widget needs from a call transport (LiveKit room or local WebRTC link). */

import { CallError, type AgentState, type TranscriptSegment, type TurnTrace } from "./types";

export interface TransportEvents {
  agentState(state: AgentState): void;
  transcript(segment: TranscriptSegment): void;
  trace(record: TurnTrace): void;
  /** the agent's audio arrived: play it and measure it */
  agentAudio(stream: MediaStream): void;
  /** the call ended without the caller hanging up (`lost`) or because the agent ended it */
  closed(reason: "lost" | "ended", detail?: string): void;
}

export interface CallTransport {
  /** connect and send the microphone (null: text only) */
  start(mic: MediaStream | null): Promise<void>;
  sendText(text: string): Promise<void>;
  hangup(): Promise<void>;
}

/** fetch() that turns "nobody answers" into a CallError("server_gone"). */
export async function reach(url: string, init?: RequestInit, timeoutMs = 8000): Promise<Response> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    return await fetch(url, { ...init, signal: ctl.signal });
  } catch {
    throw new CallError("server_gone", "The call server cannot be reached. Check that it is running, then retry.");
  } finally {
    clearTimeout(timer);
  }
}
