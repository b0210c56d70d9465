/**
 * The calling widget: call / hang-up, microphone permission and level, the agent's state,
 * the live transcript of both sides, a text box, the trace panel, and clear errors with a
 * retry. It asks the server which transport to use (GET /api/config) and drives it through
 * the `CallTransport` interface only.
 */

import { LevelMeter, LevelProbe } from "./levels";
import { LiveKitTransport } from "./livekit";
import { LocalTransport } from "./local";
import { TracePanel } from "./trace_panel";
import { reach, type CallTransport, type TransportEvents } from "./transport";
import { CallError, type AgentState, type ServerConfig, type TranscriptSegment, type TurnTrace } from "./types";

export interface WidgetOptions {
  /** base URL of the server (default: where the script came from) */
  server: string;
  /** overrides the token endpoint the server names (your own site's backend) */
  tokenEndpoint?: string;
  title?: string;
}

type Phase = "idle" | "connecting" | "in_call" | "error";

const ENDED_HANGUP_DELAY_MS = 2500;

const ERROR_TITLES: Record<string, string> = {
  no_microphone: "No microphone",
  mic_denied: "Microphone blocked",
  token_refused: "Call refused",
  connection_lost: "Connection lost",
  server_gone: "Server unreachable",
  failed: "Call failed",
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export class CallWidget {
  phase: Phase = "idle";
  agentState: AgentState = "idle";
  transport: CallTransport | null = null;
  config: ServerConfig | null = null;
  readonly probe = new LevelProbe();
  readonly traces: TurnTrace[] = [];
  readonly segments = new Map<string, TranscriptSegment>();
  lastError: CallError | null = null;

  private audioCtx: AudioContext | null = null;
  private mic: MediaStream | null = null;
  private withMic = true;
  private ui: ReturnType<CallWidget["build"]>;
  private tracePanel = new TracePanel();

  constructor(private root: HTMLElement, private opts: WidgetOptions) {
    this.ui = this.build();
    this.render();
  }

  // ------------------------------------------------------------------ DOM
  private build() {
    const box = el("section", "mb-widget");
    box.setAttribute("aria-label", this.opts.title ?? "Call the agent");
    const header = el("header", "mb-header");
    const title = el("h3", "mb-title", this.opts.title ?? "Talk to our agent");
    const state = el("span", "mb-state", "idle");
    state.setAttribute("role", "status");
    state.setAttribute("aria-live", "polite");
    header.append(title, state);

    const controls = el("div", "mb-controls");
    const call = el("button", "mb-call", "Call");
    call.type = "button";
    const hangup = el("button", "mb-hangup", "Hang up");
    hangup.type = "button";
    const meterLabel = el("label", "mb-meter-label", "Mic");
    const meter = el("meter", "mb-mic-level");
    meter.min = 0;
    meter.max = 1;
    meter.value = 0;
    meter.id = `mb-mic-${Math.random().toString(36).slice(2, 8)}`;
    meterLabel.htmlFor = meter.id;
    controls.append(call, hangup, meterLabel, meter);

    const error = el("div", "mb-error");
    error.setAttribute("role", "alert");
    const errorText = el("p", "mb-error-text");
    const retry = el("button", "mb-retry", "Retry");
    retry.type = "button";
    error.append(errorText, retry);

    const transcript = el("ol", "mb-transcript");
    transcript.setAttribute("aria-label", "Transcript");
    transcript.setAttribute("aria-live", "polite");

    const form = el("form", "mb-text");
    const inputId = `mb-text-${Math.random().toString(36).slice(2, 8)}`;
    const label = el("label", "mb-sr", "Type a message");
    label.htmlFor = inputId;
    const input = el("input", "mb-text-input");
    input.id = inputId;
    input.type = "text";
    input.placeholder = "Or type here…";
    input.autocomplete = "off";
    const send = el("button", "mb-send", "Send");
    send.type = "submit";
    form.append(label, input, send);

    const audio = el("audio", "mb-agent-audio");
    audio.autoplay = true;

    box.append(header, controls, error, transcript, form, this.tracePanel.root, audio);
    this.root.replaceChildren(box);

    call.addEventListener("click", () => void this.call(true));
    hangup.addEventListener("click", () => void this.hangup());
    retry.addEventListener("click", () => void this.call(this.withMic));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.sendText(input.value);
    });
    box.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.phase === "in_call") void this.hangup();
    });
    return { box, state, call, hangup, meter, error, errorText, retry, transcript, input, send, audio };
  }

  private render(): void {
    const { box, state, call, hangup, error, retry } = this.ui;
    box.dataset.phase = this.phase;
    box.dataset.agentState = this.agentState;
    const label = this.phase === "connecting" ? "connecting…" : this.phase === "in_call" ? this.agentState : this.phase === "error" ? "error" : "ready";
    state.textContent = label;
    call.disabled = this.phase === "connecting" || this.phase === "in_call";
    call.textContent = this.phase === "connecting" ? "Calling…" : "Call";
    hangup.disabled = !(this.phase === "in_call" || this.phase === "connecting");
    error.hidden = this.phase !== "error";
    if (this.phase === "error" && this.lastError) {
      this.ui.errorText.textContent = `${ERROR_TITLES[this.lastError.kind] ?? "Error"}: ${this.lastError.message}`;
      error.dataset.kind = this.lastError.kind;
      retry.focus();
    }
  }

  // ------------------------------------------------------------------ call lifecycle
  async call(withMic: boolean): Promise<void> {
    if (this.phase === "connecting" || this.phase === "in_call") return;
    this.withMic = withMic;
    this.phase = "connecting";
    this.lastError = null;
    this.render();
    try {
      this.config = await this.loadConfig();
      this.audioCtx ??= new AudioContext();
      await this.audioCtx.resume();
      this.mic = withMic ? await this.microphone() : null;
      if (this.mic) this.probe.mic = new LevelMeter(this.audioCtx, this.mic);
      this.probe.start((mic) => (this.ui.meter.value = Math.min(1, mic * 2)));
      this.transport = this.makeTransport(this.config);
      this.segments.clear();
      this.ui.transcript.replaceChildren();
      this.tracePanel.clear();
      this.traces.length = 0;
      await this.transport.start(this.mic);
      this.phase = "in_call";
      this.render();
      this.ui.hangup.focus();
    } catch (err) {
      await this.fail(err);
    }
  }

  async hangup(): Promise<void> {
    const t = this.transport;
    this.transport = null;
    await t?.hangup().catch(() => undefined);
    this.release();
    this.phase = "idle";
    this.agentState = "idle";
    this.render();
    this.ui.call.focus();
  }

  async sendText(raw: string): Promise<void> {
    const text = raw.trim();
    if (!text) return;
    if (this.phase !== "in_call") {
      await this.call(false);
      if ((this.phase as Phase) !== "in_call") return;
    }
    try {
      await this.transport!.sendText(text);
      this.ui.input.value = "";
      this.upsert({ id: `typed-${Date.now()}`, role: "user", text, final: true, typed: true });
    } catch (err) {
      await this.fail(err);
    }
  }

  private async fail(err: unknown): Promise<void> {
    this.lastError = err instanceof CallError ? err : new CallError("failed", err instanceof Error ? err.message : String(err));
    const t = this.transport;
    this.transport = null;
    await t?.hangup().catch(() => undefined);
    this.release();
    this.phase = "error";
    this.render();
  }

  private release(): void {
    this.probe.stop();
    this.mic?.getTracks().forEach((t) => t.stop());
    this.mic = null;
    this.probe.mic = null;
    this.ui.meter.value = 0;
  }

  private async loadConfig(): Promise<ServerConfig> {
    const res = await reach(new URL("/api/config", this.opts.server).href);
    if (!res.ok) throw new CallError("server_gone", `The call server answered HTTP ${res.status} for its configuration.`);
    return (await res.json()) as ServerConfig;
  }

  private async microphone(): Promise<MediaStream> {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new CallError("no_microphone", "This page cannot use a microphone (it needs https or localhost). You can still type.");
    }
    try {
      return await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
    } catch (err) {
      const name = (err as DOMException).name;
      if (name === "NotAllowedError" || name === "SecurityError") {
        throw new CallError("mic_denied", "Microphone access was denied. Allow it in your browser's site settings and retry, or type instead.");
      }
      throw new CallError("no_microphone", "No microphone was found. Plug one in and retry, or type instead.");
    }
  }

  private makeTransport(cfg: ServerConfig): CallTransport {
    const events: TransportEvents = {
      agentState: (s) => {
        this.agentState = s;
        this.render();
      },
      transcript: (seg) => this.upsert(seg),
      trace: (t) => this.onTrace(t),
      agentAudio: (stream) => this.onAgentAudio(stream),
      closed: (reason, detail) => {
        if (reason === "ended") {
          this.transport = null;
          this.release();
          this.phase = "idle";
          this.agentState = "idle";
          this.render();
        } else {
          void this.fail(new CallError("connection_lost", `The call dropped (${detail ?? "no detail"}). Retry to call again.`));
        }
      },
    };
    if (cfg.transport === "local") return new LocalTransport(new URL(cfg.offer_url ?? "/api/offer", this.opts.server).href, events);
    const endpoint = this.opts.tokenEndpoint ?? cfg.token_endpoint ?? "/api/token";
    return new LiveKitTransport(new URL(endpoint, this.opts.server).href, cfg.agent_name, events);
  }

  // ------------------------------------------------------------------ what arrives
  private onAgentAudio(stream: MediaStream): void {
    this.ui.audio.srcObject = stream;
    void this.ui.audio.play().catch(() => undefined);
    if (this.audioCtx) this.probe.agent = new LevelMeter(this.audioCtx, stream);
  }

  private onTrace(t: TurnTrace): void {
    this.traces.push(t);
    this.tracePanel.add(t);
    if (t.state.after.ended && this.phase === "in_call") {
      // the flow ended the call (goodbye said): hang up once the agent's last words have played
      const transport = this.transport;
      setTimeout(() => {
        if (this.transport === transport && this.phase === "in_call") void this.hangup();
      }, ENDED_HANGUP_DELAY_MS);
    }
    if (t.reply.interrupted) {
      const agentSegs = [...this.segments.values()].filter((s) => s.role === "agent" && !s.interrupted);
      const last = agentSegs[agentSegs.length - 1];
      if (last) this.upsert({ ...last, interrupted: true });
    }
  }

  private upsert(seg: TranscriptSegment): void {
    const prev = this.segments.get(seg.id);
    const merged = { ...prev, ...seg, interrupted: seg.interrupted || prev?.interrupted };
    this.segments.set(seg.id, merged);
    let li = this.ui.transcript.querySelector<HTMLLIElement>(`li[data-id="${CSS.escape(seg.id)}"]`);
    if (!li) {
      li = el("li", `mb-line mb-${seg.role}`);
      li.dataset.id = seg.id;
      this.ui.transcript.append(li);
    }
    li.dataset.role = merged.role;
    li.classList.toggle("mb-partial", !merged.final);
    li.classList.toggle("mb-interrupted", !!merged.interrupted);
    const who = el("span", "mb-who", merged.role === "user" ? "You" : "Agent");
    const text = el("span", "mb-words", merged.text);
    li.replaceChildren(who, text);
    if (merged.typed) li.append(el("span", "mb-muted", " (typed)"));
    if (merged.interrupted) {
      const cut = el("span", "mb-cut", "⟂ cut off here");
      cut.title = "The caller interrupted; the rest of this reply was not spoken.";
      li.append(cut);
    }
    li.scrollIntoView?.({ block: "nearest" });
  }
}
