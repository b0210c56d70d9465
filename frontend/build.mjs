// Bundle the widget into dist/ (served by `mediabloom serve` and `mediabloom demo`; not committed).
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";

mkdirSync("dist", { recursive: true });
await build({
  entryPoints: ["src/index.ts"],
  bundle: true,
  format: "iife",
  target: ["chrome110", "firefox110", "safari16"],
  minify: true,
  sourcemap: true,
  outfile: "dist/widget.js",
  logLevel: "info",
});
copyFileSync("public/index.html", "dist/index.html");
copyFileSync("public/embed-example.html", "dist/embed-example.html");
