// Bundles the page into dist/: app.js (CodeMirror, the wasm-bindgen glue, the seed mappings,
// their tests and sample records), index.html, style.css and the engine's .wasm.
// Run after `wasm-bindgen --target web --out-dir web/pkg` (`cargo xtask wasm` does both).
import * as esbuild from "esbuild";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const wasm = join(here, "pkg", "scimap_bg.wasm");
if (!existsSync(wasm)) {
  console.error(`${wasm} is missing: run \`cargo xtask wasm\``);
  process.exit(1);
}
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);
await esbuild.build({
  entryPoints: [join(here, "src", "main.js")],
  outfile: join(dist, "app.js"),
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  loader: { ".scimap": "text", ".toml": "text", ".ndjson": "text", ".md": "text" },
  logLevel: "warning",
});
for (const file of ["index.html", "style.css"]) copyFileSync(join(here, file), join(dist, file));
copyFileSync(wasm, join(dist, "scimap_bg.wasm"));
const bytes = readFileSync(wasm);
const gzip = gzipSync(bytes, { level: 9 }).length;
console.log(`built ${dist}: scimap_bg.wasm ${bytes.length} bytes, ${gzip} gzip -9`);
