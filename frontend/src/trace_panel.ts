/**
 * The trace panel: one block per turn from the `mediabloom.trace` messages — caller words,
 * state transitions, tools with arguments and results, rejected proposals, and the latency
 * waterfall (end of speech → transcript, planner, synthesis, total) drawn as bars.
 */

import type { Latencies, TurnTrace } from "./types";

export interface WaterfallBar {
  label: string;
  start: number;
  seconds: number;
}

/** Bars in seconds from the end of the caller's speech; the same layout as `mediabloom trace --html`. */
export function waterfall(lat: Latencies): WaterfallBar[] {
  const bars: WaterfallBar[] = [];
  let at = 0;
  const add = (label: string, value: number | null | undefined) => {
    if (value == null) return;
    bars.push({ label, start: at, seconds: value });
    at += value;
  };
  add("transcript", lat.eos_to_final_transcript);
  add("planner", lat.planner_ttft);
  add("synthesis", lat.tts_first_audio);
  if (lat.eos_to_first_audio != null) bars.push({ label: "total", start: 0, seconds: lat.eos_to_first_audio });
  return bars;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

const short = (v: unknown) => {
  const s = JSON.stringify(v);
  return s.length > 160 ? s.slice(0, 157) + "…" : s;
};

export class TracePanel {
  readonly root: HTMLElement;
  private list: HTMLElement;
  private empty: HTMLElement;

  constructor() {
    this.root = el("details", "mb-trace");
    (this.root as HTMLDetailsElement).open = true;
    this.root.append(el("summary", undefined, "Trace"));
    this.empty = el("p", "mb-muted", "Each turn's tools, state changes and latency appear here.");
    this.list = el("div", "mb-turns");
    this.root.append(this.empty, this.list);
  }

  clear(): void {
    this.list.replaceChildren();
    this.empty.hidden = false;
  }

  add(t: TurnTrace): void {
    this.empty.hidden = true;
    const card = el("article", "mb-turn");
    card.dataset.turn = String(t.turn);
    const head = el("h4", undefined, `Turn ${t.turn} · ${t.state.before.state} → ${t.state.after.state}`);
    card.append(head);
    if (t.caller?.final_transcript) card.append(el("p", "mb-said", `“${t.caller.final_transcript}”`));

    if (t.state.transitions.length) {
      const ul = el("ul", "mb-transitions");
      for (const tr of t.state.transitions) ul.append(el("li", undefined, `${tr.from_state} → ${tr.to_state} (${tr.because})`));
      card.append(ul);
    }
    if (t.tools.length) {
      const ul = el("ul", "mb-tools");
      for (const run of t.tools) {
        const li = el("li", run.ok ? "mb-ok" : "mb-fail");
        li.dataset.tool = run.name;
        li.append(el("code", "mb-tool", `${run.ok ? "✓" : "✗"} ${run.name}`), el("span", "mb-args", short(run.arguments)));
        li.append(el("span", "mb-result", run.ok ? `→ ${short(run.result)}` : `→ ${run.error_code}: ${run.error ?? ""}`));
        li.append(el("span", "mb-muted", ` ${Math.round(run.duration_ms)} ms${run.attempts > 1 ? `, ${run.attempts} attempts` : ""}`));
        ul.append(li);
      }
      card.append(ul);
    }
    if (t.planner.rejections.length) {
      const ul = el("ul", "mb-rejections");
      for (const r of t.planner.rejections) ul.append(el("li", undefined, `rejected ${r.tool} (${r.by} in ${r.state}): ${r.reason}`));
      card.append(ul);
    }
    const bars = waterfall(t.latencies);
    if (bars.length) card.append(this.drawWaterfall(bars, t.latencies.eos_source));
    this.list.append(card);
    card.scrollIntoView?.({ block: "nearest" });
  }

  private drawWaterfall(bars: WaterfallBar[], source?: string): HTMLElement {
    const box = el("div", "mb-waterfall");
    box.setAttribute("role", "img");
    const scale = Math.max(1, ...bars.map((b) => b.start + b.seconds));
    box.setAttribute("aria-label", "Latency: " + bars.map((b) => `${b.label} ${Math.round(b.seconds * 1000)} ms`).join(", "));
    for (const b of bars) {
      const row = el("div", `mb-bar-row mb-bar-${b.label}`);
      const track = el("div", "mb-bar-track");
      const bar = el("div", "mb-bar");
      bar.style.left = `${(100 * b.start) / scale}%`;
      bar.style.width = `${Math.max(0.5, (100 * b.seconds) / scale)}%`;
      track.append(bar);
      row.append(el("span", "mb-bar-label", b.label), track, el("span", "mb-bar-ms", `${Math.round(b.seconds * 1000)} ms`));
      box.append(row);
    }
    if (source && source !== "none") box.append(el("p", "mb-muted", `from end of speech (${source})`));
    return box;
  }
}
