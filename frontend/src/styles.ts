/** The widget's CSS, injected once; scoped under .mb-widget so host pages are untouched. */

export const CSS = `
.mb-widget{--mb-accent:#0b6bcb;--mb-bad:#b42318;--mb-ok:#067647;font:15px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;
  color:#1a1a1a;background:#fff;border:1px solid #d0d5dd;border-radius:12px;padding:12px;max-width:560px;width:100%;box-sizing:border-box}
.mb-widget *{box-sizing:border-box}
.mb-header{display:flex;align-items:center;justify-content:space-between;gap:8px}
.mb-title{margin:0;font-size:1.05em}
.mb-state{font-size:.85em;padding:2px 10px;border-radius:999px;background:#eef2f6;text-transform:capitalize}
.mb-widget[data-agent-state=listening] .mb-state{background:#d1fadf}
.mb-widget[data-agent-state=thinking] .mb-state{background:#fef0c7}
.mb-widget[data-agent-state=speaking] .mb-state{background:#d1e9ff}
.mb-controls{display:flex;flex-wrap:wrap;align-items:center;gap:8px;margin:10px 0}
.mb-widget button{font:inherit;border-radius:8px;border:1px solid #98a2b3;background:#f9fafb;padding:8px 14px;min-height:40px;cursor:pointer}
.mb-widget button:disabled{opacity:.5;cursor:default}
.mb-widget button:focus-visible,.mb-widget input:focus-visible,.mb-widget summary:focus-visible{outline:3px solid var(--mb-accent);outline-offset:2px}
.mb-call{background:var(--mb-accent)!important;color:#fff;border-color:var(--mb-accent)!important}
.mb-hangup:not(:disabled){background:var(--mb-bad)!important;color:#fff;border-color:var(--mb-bad)!important}
.mb-meter-label{font-size:.85em;color:#475467}
.mb-mic-level{flex:1;min-width:80px;height:12px}
.mb-error{border:1px solid var(--mb-bad);background:#fef3f2;color:var(--mb-bad);border-radius:8px;padding:8px;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.mb-error[hidden]{display:none}
.mb-error-text{margin:0;flex:1;min-width:180px}
.mb-transcript{list-style:none;margin:0;padding:0;max-height:260px;overflow:auto;display:flex;flex-direction:column;gap:6px}
.mb-line{padding:6px 10px;border-radius:10px;max-width:90%;word-wrap:break-word}
.mb-user{align-self:flex-end;background:#eef4ff}
.mb-agent{align-self:flex-start;background:#f2f4f7}
.mb-partial .mb-words{opacity:.65;font-style:italic}
.mb-who{font-weight:600;margin-right:6px;font-size:.85em}
.mb-cut{margin-left:6px;color:var(--mb-bad);font-weight:600;font-size:.85em}
.mb-text{display:flex;gap:6px;margin-top:10px}
.mb-text-input{flex:1;min-width:0;font:inherit;padding:8px;border:1px solid #98a2b3;border-radius:8px}
.mb-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.mb-muted{color:#667085;font-size:.85em}
.mb-trace{margin-top:10px;border-top:1px solid #eaecf0;padding-top:6px}
.mb-trace summary{cursor:pointer;font-weight:600}
.mb-turns{display:flex;flex-direction:column;gap:8px;max-height:360px;overflow:auto}
.mb-turn{border:1px solid #eaecf0;border-radius:8px;padding:6px 8px;font-size:.9em}
.mb-turn h4{margin:0 0 4px;font-size:.95em}
.mb-turn ul{margin:2px 0;padding-left:18px}
.mb-said{margin:2px 0;font-style:italic}
.mb-ok .mb-tool{color:var(--mb-ok)} .mb-fail .mb-tool{color:var(--mb-bad)}
.mb-args,.mb-result{font-family:ui-monospace,monospace;font-size:.85em;margin-left:6px;word-break:break-all}
.mb-rejections li{color:#b54708}
.mb-waterfall{margin-top:4px}
.mb-bar-row{display:grid;grid-template-columns:80px 1fr 64px;gap:6px;align-items:center;font-size:.8em}
.mb-bar-track{position:relative;height:10px;background:#f2f4f7;border-radius:3px}
.mb-bar{position:absolute;top:0;height:10px;border-radius:3px;background:#53b1fd}
.mb-bar-planner .mb-bar{background:#fdb022}.mb-bar-synthesis .mb-bar{background:#32d583}.mb-bar-total .mb-bar{background:#7a5af8}
.mb-bar-ms{text-align:right;font-variant-numeric:tabular-nums}
@media (max-width:420px){.mb-widget{border-radius:0;border-left:0;border-right:0;padding:10px}.mb-line{max-width:100%}}
`;
