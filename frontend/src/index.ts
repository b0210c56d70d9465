/**
 * Embedding: one script tag and one element.
 *   <script src="https://your-server/widget.js" defer></script>
 *   <div data-mediabloom-widget></div>
 * Optional attributes: data-server (default: where the script came from), data-token-endpoint
 * (your own backend that mints LiveKit tokens), data-title.
 */

import { CSS } from "./styles";
import { CallWidget } from "./widget";

const scriptSrc = (document.currentScript as HTMLScriptElement | null)?.src ?? location.href;

function mountAll(): CallWidget[] {
  if (!document.getElementById("mb-widget-css")) {
    const style = document.createElement("style");
    style.id = "mb-widget-css";
    style.textContent = CSS;
    document.head.append(style);
  }
  const widgets: CallWidget[] = [];
  document.querySelectorAll<HTMLElement>("[data-mediabloom-widget]").forEach((host) => {
    if ((host as { mediabloom?: CallWidget }).mediabloom) return;
    const widget = new CallWidget(host, {
      server: host.dataset.server || new URL(".", scriptSrc).href,
      tokenEndpoint: host.dataset.tokenEndpoint || undefined,
      title: host.dataset.title || undefined,
    });
    (host as { mediabloom?: CallWidget }).mediabloom = widget;
    widgets.push(widget);
  });
  return widgets;
}

declare global {
  interface Window {
    MediaBloom: { mountAll: typeof mountAll; widgets: CallWidget[] };
  }
}

window.MediaBloom = { mountAll, widgets: [] };
const start = () => window.MediaBloom.widgets.push(...mountAll());
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
