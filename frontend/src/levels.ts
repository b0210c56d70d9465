/**
 * Audio levels measured with WebAudio: the caller's microphone meter, and a probe that notes
 * when the caller stops speaking and when agent audio starts, as heard in this page (peak of
 * |x| above ~300/32768, polled every 5 ms). Tests and bench/ read `probe.events` to measure
 * latency at the browser, where a caller experiences it.
 */

export const LOUD = 300 / 32768;
const POLL_MS = 5;
const CALLER_PAUSE_MS = 600;
const AGENT_GAP_MS = 300;

export class LevelMeter {
  private analyser: AnalyserNode;
  private buf: Float32Array<ArrayBuffer>;

  constructor(ctx: AudioContext, stream: MediaStream) {
    const source = ctx.createMediaStreamSource(stream);
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = 512;
    this.buf = new Float32Array(this.analyser.fftSize);
    source.connect(this.analyser);
  }

  /** peak |sample| of the last ~10 ms, 0..1 */
  peak(): number {
    this.analyser.getFloatTimeDomainData(this.buf);
    let p = 0;
    for (const x of this.buf) p = Math.max(p, Math.abs(x));
    return p;
  }
}

export interface ProbeEvent {
  kind: "caller_stop" | "agent_start";
  /** performance.now() in ms */
  t: number;
}

export class LevelProbe {
  mic: LevelMeter | null = null;
  agent: LevelMeter | null = null;
  micLevel = 0;
  agentLevel = 0;
  /** bytes of agent audio heard so far, as seen by the analyser (non-silent polls) */
  agentLoudPolls = 0;
  events: ProbeEvent[] = [];
  private micLastLoud = -Infinity;
  private micSpeaking = false;
  private agentLastLoud = -Infinity;
  private timer: ReturnType<typeof setInterval> | null = null;

  start(onLevels: (mic: number, agent: number) => void): void {
    this.stop();
    this.timer = setInterval(() => {
      const now = performance.now();
      this.micLevel = this.mic ? this.mic.peak() : 0;
      this.agentLevel = this.agent ? this.agent.peak() : 0;
      if (this.micLevel > LOUD) {
        this.micLastLoud = now;
        this.micSpeaking = true;
      } else if (this.micSpeaking && now - this.micLastLoud >= CALLER_PAUSE_MS) {
        this.micSpeaking = false;
        this.events.push({ kind: "caller_stop", t: this.micLastLoud });
      }
      if (this.agentLevel > LOUD) {
        if (now - this.agentLastLoud >= AGENT_GAP_MS) this.events.push({ kind: "agent_start", t: now });
        this.agentLastLoud = now;
        this.agentLoudPolls += 1;
      }
      onLevels(this.micLevel, this.agentLevel);
    }, POLL_MS);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
