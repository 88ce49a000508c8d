// Speed of the WASM module under node: `preview` of line 5 of tests/fixtures/users.ndjson with
// three mappings, and two `matches` on a 6,000-byte string; median of 200 calls each.
//   node web/bench.mjs [GLUE.js MODULE.wasm]   (default: web/pkg, built by `cargo xtask wasm`)
// Figures in BENCHMARKS.md (WASM).
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const [glue, module] = process.argv.length > 3
  ? process.argv.slice(2, 4).map((p) => resolve(p))
  : [join(repo, "web/pkg/scimap.js"), join(repo, "web/pkg/scimap_bg.wasm")];
const engine = await import(pathToFileURL(glue));
engine.initSync({ module: readFileSync(module) });

const read = (path) => readFileSync(join(repo, path), "utf8");
const user = read("tests/fixtures/users.ndjson").split("\n")[4];
const mappings = {
  trello: read("examples/trello.scimap"),
  trello15: read("benches/trello15.scimap"),
  heavy: read("benches/eval.rs").match(/const HEAVY: &str = r#"([\s\S]*?)"#;/)[1],
  "long-matches": `user {
  userName = username
  let long = repeat(lower(email) + " ", 200)
  title = long matches "[0-9]{3}-[a-z]+@example\\\\.org$" ? "y" : "n"
  nickName = long matches "(?i)^(?:[a-z.]+[0-9]*@example\\\\.com )+$" ? "y" : "n"
}`,
};
for (const [name, source] of Object.entries(mappings)) {
  const times = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    const result = engine.preview(source, user, { kind: "user" });
    times.push(performance.now() - t0);
    if (result.payload === null) throw new Error(`${name}: ${JSON.stringify(result).slice(0, 300)}`);
  }
  times.sort((a, b) => a - b);
  console.log(`${name}: median ${times[100].toFixed(3)} ms (min ${times[0].toFixed(3)} ms)`);
}
