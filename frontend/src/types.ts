/** Shapes that cross the wire. TurnTrace mirrors worker/trace/records.py (`mediabloom schema trace`). */

export type AgentState = "initializing" | "idle" | "listening" | "thinking" | "speaking" | string;
export type Role = "user" | "agent";

export interface TranscriptSegment {
  id: string;
  role: Role;
  text: string;
  final: boolean;
  interrupted?: boolean;
  /** set when the agent's reply came from the text path (shown with a small marker) */
  typed?: boolean;
}

export interface ToolRun {
  call_id: string;
  name: string;
  arguments: Record<string, unknown>;
  ok: boolean;
  result?: Record<string, unknown> | null;
  error_code?: string | null;
  error?: string | null;
  attempts: number;
  duration_ms: number;
}

export interface Transition { turn: number; from_state: string; to_state: string; because: string }

export interface Latencies {
  eos_to_final_transcript?: number | null;
  end_of_turn_delay?: number | null;
  planner_ttft?: number | null;
  tts_first_audio?: number | null;
  eos_to_first_audio?: number | null;
  eos_source?: string;
}

export interface TurnTrace {
  call_id: string;
  turn: number;
  started_at: number;
  ended_at?: number | null;
  caller?: { final_transcript: string; speech_ended_at?: number | null } | null;
  planner: {
    engine: string;
    proposed: { call_id: string; tool: string; arguments: Record<string, unknown> }[];
    rejections: { call_id: string; tool: string; reason: string; by: string; state: string }[];
  };
  tools: ToolRun[];
  reply: { planned_text: string; spoken_text: string; interrupted: boolean };
  state: { before: { state: string }; after: { state: string; ended?: boolean }; transitions: Transition[] };
  latencies: Latencies;
}

/** GET /api/config: which transport this server offers. */
export interface ServerConfig {
  transport: "local" | "livekit";
  offer_url?: string;
  token_endpoint?: string;
  agent_name?: string;
}

/** Messages on the local mode's data channel (worker → browser). */
export type LocalMessage =
  | { type: "agent_state"; state: AgentState }
  | { type: "transcript"; id: string; role: Role; text: string; final: boolean; interrupted?: boolean }
  | { type: "trace"; record: TurnTrace }
  | { type: "ended"; reason: string };

/** Errors the widget explains to the caller; `kind` picks the message. */
export type CallErrorKind = "no_microphone" | "mic_denied" | "token_refused" | "connection_lost" | "server_gone" | "failed";

export class CallError extends Error {
  constructor(public kind: CallErrorKind, message: string) {
    super(message);
  }
}
