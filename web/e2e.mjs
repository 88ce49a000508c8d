// The preview page end to end in Debian's headless Chromium (playwright-core, no browser
// download): typing, diagnostics, the record picker, update plans, and equality with the
// command line.
// Run by `cargo xtask web-test` after the page is built (`cargo xtask wasm`):
//   SCIMAP_BIN=target/debug/scimap node --test web/e2e.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "./serve.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = dirname(here);
const scimap = process.env.SCIMAP_BIN ?? join(repo, "target", "debug", "scimap");
const users = JSON.parse(readFileSync(join(repo, "examples", "users.json"), "utf8"));
const NOW = "2030-01-02T03:04:05Z";
// Chromium as root in a closed network: no sandbox, and no background connections.
const FLAGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

let server, url, browser, page;
const requests = [];
const pageErrors = [];
// The page's confirm() dialogs: their messages, answered as `acceptDialogs` says.
const dialogs = [];
let acceptDialogs = true;

before(async () => {
  mkdirSync(join(here, "test-results"), { recursive: true });
  ({ server, url } = await serve(join(here, "dist")));
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: FLAGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("console", (m) => m.type() === "error" && pageErrors.push(m.text()));
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    return acceptDialogs ? d.accept() : d.dismiss();
  });
  await page.goto(url);
  await page.waitForSelector("#status.ok", { timeout: 30_000 });
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** The payload shown on the page, once it equals `expected` (or the last one seen). */
async function payloadBecomes(expected, timeout = 5_000) {
  try {
    await page.waitForFunction(
      (want) => {
        const text = document.getElementById("payload").textContent;
        try {
          return JSON.stringify(JSON.parse(text)) === want;
        } catch {
          return false;
        }
      },
      JSON.stringify(expected),
      { timeout },
    );
  } catch {
    // Fall through: the assertion below shows the difference.
  }
  const text = await page.textContent("#payload");
  return text ? JSON.parse(text) : null;
}

/** `scimap eval` of a seed app for user N: its payload, or its error object. */
function cli(app, n) {
  const r = spawnSync(
    scimap,
    ["eval", `examples/${app}.scimap`, "--user", "examples/users.json", "--pick", String(n), "--now", NOW],
    { cwd: repo, encoding: "utf8" },
  );
  assert.ok(r.status === 0 || r.status === 1, `scimap eval ${app} ${n}: exit ${r.status}: ${r.stderr}`);
  return { ok: r.status === 0, json: JSON.parse(r.stdout) };
}

async function replaceMapping(lines) {
  await page.click("#editor .cm-content");
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  for (const [i, line] of lines.entries()) {
    if (i > 0) await page.keyboard.press("Enter");
    await page.keyboard.type(line, { delay: 5 });
    // Close a completion popup so that Enter starts a new line.
    await page.keyboard.press("Escape");
  }
}

test("the page loads the engine and previews the first seed app", async () => {
  const payload = JSON.parse(await page.textContent("#payload"));
  assert.equal(payload.userName, users[0].username);
  assert.ok((await page.locator("#explain tbody tr").count()) > 5);
});

test("typing a mapping updates the payload", async () => {
  await replaceMapping([
    "user {",
    "userName = $.username",
    'displayName = upper(firstname ?? "") + " " + (lastname ?? "")',
    'title = const "Engineer"',
    "}",
  ]);
  const expected = {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName: users[0].username,
    displayName: `${users[0].firstname.toUpperCase()} ${users[0].lastname}`,
    title: "Engineer",
  };
  assert.deepEqual(await payloadBecomes(expected), expected);
  const text = await page.textContent("#editor .cm-content");
  assert.match(text, /userName = \$\.username/);
  // The per-attribute view lists the four entries with their kinds.
  const kinds = await page.locator("#explain tbody td.kind").allTextContents();
  assert.deepEqual(kinds, ["direct", "expression", "const"]);
});

test("an error is underlined at its span, with its message on hover", async () => {
  // `$.username` → `$.usernamx`: an unknown record field.
  await page.locator(".cm-line", { hasText: "userName = $.username" }).click();
  await page.keyboard.press("End");
  await page.keyboard.press("Backspace");
  await page.keyboard.type("x");
  await page.keyboard.press("Escape");
  const mark = page.locator(".cm-lintRange-error");
  await mark.first().waitFor({ timeout: 5_000 });
  assert.equal(await mark.first().textContent(), "$.usernamx");
  await page.waitForSelector("#status.error");
  await mark.first().hover();
  const tooltip = page.locator(".cm-tooltip-lint");
  await tooltip.waitFor({ timeout: 5_000 });
  const message = await tooltip.textContent();
  assert.match(message, /usernamx/);
  assert.match(message, /username/, "the did-you-mean names the field");
  const problems = await page.locator("#problems li").allTextContents();
  assert.equal(problems.length, 1, problems.join("\n"));
  assert.match(problems[0], /^2:14 /);
  await page.screenshot({ path: join(here, "test-results", "error.png") });
  // The service's quick fix, offered in the tooltip, repairs it and clears the mark.
  await tooltip.locator(".cm-diagnosticAction", { hasText: "Replace with `username`" }).click();
  await page.waitForSelector("#status.ok");
  assert.match(await page.textContent("#editor .cm-content"), /userName = \$\.username\b/);
  assert.equal(await page.locator(".cm-lintRange-error").count(), 0);
});

test("picking another user changes the payload", async () => {
  await page.selectOption("#record-select", "3");
  const expected = {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName: users[3].username,
    displayName: `${users[3].firstname.toUpperCase()} ${users[3].lastname}`,
    title: "Engineer",
  };
  assert.deepEqual(await payloadBecomes(expected), expected);
  // Pasted JSON is a record too; JSON that does not parse is a whole-record error.
  await page.fill("#record-input", '{"username": "pasted", "firstname": "Pa", "lastname": "Sted"}');
  assert.equal((await payloadBecomes({ ...expected, userName: "pasted", displayName: "PA Sted" })).userName, "pasted");
  assert.equal(await page.inputValue("#record-select"), "custom");
  await page.fill("#record-input", '{"username": ');
  await page.waitForSelector("#status.failed");
  assert.match(await page.textContent("#record-errors"), /scimap::invalid-json/);
  await page.selectOption("#record-select", "3");
  await page.waitForSelector("#status.ok");
  await page.screenshot({ path: join(here, "test-results", "preview.png") });
});

test("the page's payloads equal the command line's for the four seed apps", async () => {
  await page.fill("#now-input", NOW);
  const picks = [0, 1, 7, 13, 24];
  let compared = 0;
  for (const app of ["trello", "miro", "monday", "trelica"]) {
    await page.selectOption("#app-select", app);
    for (const n of picks) {
      await page.selectOption("#record-select", String(n));
      const want = cli(app, n);
      if (want.ok) {
        assert.deepEqual(await payloadBecomes(want.json), want.json, `${app} user ${n}`);
      } else {
        // A failed record: the page shows no payload and the same errors.
        await page.waitForFunction(() => document.getElementById("payload").textContent === "");
        const shown = await page.locator("#record-errors li").allTextContents();
        const expected = want.json.error.errors.map((e) => `${e.target ?? "record"}: ${e.message} [${e.code}]`);
        assert.deepEqual(shown, expected, `${app} user ${n}`);
      }
      compared++;
    }
  }
  assert.equal(compared, 20);
  await page.screenshot({ path: join(here, "test-results", "trelica.png") });
});

/** Accepts the selected completion (CodeMirror ignores Enter for 75 ms after the popup opens). */
async function accept() {
  await page.waitForTimeout(150);
  await page.keyboard.press("Enter");
}

test("completion offers targets, record fields and functions", async () => {
  await page.selectOption("#record-select", "3");
  await replaceMapping(["user {", "userName = $.username", "}"]);
  await page.locator(".cm-line", { hasText: "userName = $.username" }).click();
  await page.keyboard.press("End");
  await page.keyboard.press("Enter");
  await page.keyboard.type("name.gi");
  await page.locator(".cm-tooltip-autocomplete").waitFor({ timeout: 5_000 });
  assert.match(await page.textContent(".cm-tooltip-autocomplete"), /name\.givenName/);
  await accept();
  await page.keyboard.type(" = $.first");
  await page.locator(".cm-tooltip-autocomplete", { hasText: "firstname" }).waitFor({ timeout: 5_000 });
  await accept();
  await page.keyboard.press("Escape");
  await page.keyboard.press("Enter");
  await page.keyboard.type("nickName = low");
  await page.locator(".cm-tooltip-autocomplete", { hasText: "lower" }).waitFor({ timeout: 5_000 });
  await accept();
  // The service inserts a function with its opening parenthesis.
  await page.keyboard.type("username)");
  await page.keyboard.press("Escape");
  const payload = await payloadBecomes({
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName: users[3].username,
    name: { givenName: users[3].firstname },
    nickName: users[3].username.toLowerCase(),
  });
  const doc = await page.evaluate(() => window.scimapEditor.state.doc.toString());
  await page.screenshot({ path: join(here, "test-results", "completion.png") });
  assert.equal(payload?.name?.givenName, users[3].firstname, doc);
  assert.equal(payload.nickName, users[3].username.toLowerCase());
});

/** The tooltip the editor shows with the pointer on the `k`th character of `text`'s first occurrence. */
async function hoverOn(text, k = 1) {
  await page.mouse.move(0, 0);
  // The last tooltip gone first, so that the one read is this position's.
  await page.locator(".cm-tooltip .scimap-hover").waitFor({ state: "detached", timeout: 5_000 });
  const point = await page.evaluate(([text, k]) => {
    const view = window.scimapEditor;
    const at = view.state.doc.toString().indexOf(text) + k;
    const c = view.coordsAtPos(at);
    return { x: c.left + 1, y: (c.top + c.bottom) / 2 };
  }, [text, k]);
  await page.mouse.move(point.x, point.y);
  const tooltip = page.locator(".cm-tooltip .scimap-hover");
  await tooltip.waitFor({ timeout: 5_000 });
  return tooltip.textContent();
}

test("hover shows the language service's answer: a function's entry, a target, a field, a type", async () => {
  await replaceMapping(["user {", "userName = lower(username)", "name.givenName = $.firstname", "}"]);
  await page.waitForSelector("#status.ok");
  const fn = await hoverOn("lower(", 2);
  assert.match(fn, /lower\(/);
  assert.match(fn, /Lower-cases/);
  const target = await hoverOn("userName", 2);
  assert.match(target, /userName/);
  assert.match(target, /mutability: readWrite/);
  const field = await hoverOn("$.firstname", 4);
  assert.match(field, /\$\.firstname: string\?/);
  await page.screenshot({ path: join(here, "test-results", "hover.png") });
  await page.mouse.move(0, 0);
});

/** `scimap bulk` of a mapping over the sample users: per record, its error objects (none: a payload). */
function cliBulk(lines) {
  const dir = join(here, "test-results");
  writeFileSync(join(dir, "all.scimap"), lines.join("\n") + "\n");
  writeFileSync(join(dir, "users.ndjson"), users.map((u) => JSON.stringify(u)).join("\n") + "\n");
  const r = spawnSync(scimap, ["bulk", join(dir, "all.scimap"), "--input", join(dir, "users.ndjson")], { cwd: repo, encoding: "utf8" });
  assert.ok(r.status === 0 || r.status === 1, `scimap bulk: exit ${r.status}: ${r.stderr}`);
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l).error?.errors ?? []);
}

test("every sample record is run; a maybe-nil quick fix makes them all pass", async () => {
  await page.fill("#now-input", "");
  const lines = ["user {", "userName = $.username", "title = upper(jobTitle)", "}"];
  await replaceMapping(lines);
  const want = cliBulk(lines);
  const failing = want.flatMap((errors, i) => (errors.length > 0 ? [i] : []));
  assert.ok(failing.length > 0 && failing.length < users.length, "some sample users have no jobTitle");
  const summary = `${users.length - failing.length} of ${users.length} records give a payload, ${failing.length} fail`;
  await page.waitForFunction((s) => document.getElementById("all-summary").textContent === s, summary, { timeout: 5_000 })
    .catch(() => {});
  assert.equal(await page.textContent("#all-summary"), summary);
  await page.locator(".all").screenshot({ path: join(here, "test-results", "all-records.png") });
  const shown = await page.locator("#all-results li.failed").evaluateAll((items) => items.map((li) => ({
    record: li.querySelector("button.record").textContent,
    why: [...li.querySelectorAll(".mismatch")].map((m) => m.firstChild.textContent),
  })));
  assert.deepEqual(shown, failing.map((i) => ({
    record: `${i}: ${users[i].username} — ${[users[i].firstname, users[i].lastname].filter(Boolean).join(" ")}`,
    why: want[i].map((e) => `${e.target}: ${e.message} [${e.code}]`),
  })));
  // A failed record's entry selects its line; its name picks it as the record.
  await page.locator("#all-results li.failed button.cause").first().click();
  const selected = await page.evaluate(() => {
    const v = window.scimapEditor;
    return v.state.doc.sliceString(v.state.selection.main.from, v.state.selection.main.to);
  });
  assert.equal(selected, "title = upper(jobTitle)");
  await page.locator("#all-results li.failed button.record").first().click();
  assert.equal(await page.inputValue("#record-select"), String(failing[0]));
  await page.waitForSelector("#status.failed");

  // The warning under `jobTitle` offers the service's fix; applied, every record passes.
  const mark = page.locator(".cm-lintRange-warning", { hasText: "jobTitle" });
  await mark.first().hover();
  const tooltip = page.locator(".cm-tooltip-lint");
  await tooltip.waitFor({ timeout: 5_000 });
  await tooltip.locator(".cm-diagnosticAction", { hasText: 'Default to `""` when nil' }).click();
  await page.waitForSelector("#status.ok");
  assert.match(await page.textContent("#editor .cm-content"), /title = upper\(\(jobTitle \?\? ""\)\)/);
  await page.waitForFunction(
    (n) => document.getElementById("all-summary").textContent === `${n} of ${n} records give a payload`,
    users.length,
    { timeout: 5_000 },
  );
  assert.equal(await page.locator("#problems li").count(), 0);
  assert.equal(await page.textContent("#problems-count"), "none");
  await page.mouse.move(0, 0);
});

test("the Docs panel: a problem's code opens its entry; functions and targets are searchable", async () => {
  await replaceMapping(["user {", "userName = $.username", "usrName = $.username", "}"]);
  // The typed mapping's problem, not one of a line typed halfway.
  const code = page.locator("#problems li", { hasText: "[scimap::unknown-target]" }).locator("button.code");
  await code.waitFor({ timeout: 5_000 });
  await code.click();
  const open = page.locator("#docs details[open]");
  assert.equal(await open.getAttribute("data-name"), "scimap::unknown-target");
  assert.equal(await open.locator("summary").textContent(), "scimap::unknown-target compile error");
  // The entry's text is the reference chapter's.
  const chapter = readFileSync(join(repo, "docs/book/src/reference/diagnostics.md"), "utf8");
  const body = (await open.locator(".markdown p").first().textContent()).trim();
  assert.ok(body.length > 20 && chapter.replace(/`/g, "").replace(/\s+/g, " ").includes(body.slice(0, 40)), body);

  await page.click("#docs [data-tab=functions]");
  await page.fill("#docs .docs-search", "lower");
  const names = await page.locator("#docs details").evaluateAll((d) => d.map((x) => x.dataset.name));
  assert.ok(names.includes("lower"), names.join(", "));
  await page.locator("#docs details[data-name=lower] summary").click();
  // The body is built when the entry opens (its toggle event).
  const lower = page.locator("#docs details[data-name=lower] .markdown");
  await lower.waitFor({ timeout: 5_000 });
  assert.match(await lower.textContent(), /lower\(s: string\) -> string/);

  await page.click("#docs [data-tab=targets]");
  await page.fill("#docs .docs-search", "givenName");
  assert.deepEqual(
    await page.locator("#docs details").evaluateAll((d) => d.map((x) => x.dataset.name)),
    ["name.givenName"],
  );
  await page.fill("#docs .docs-search", "");
});

test("the problems list stays in view under a long mapping", async () => {
  const long = ["user {", "  usrName = $.username", ...Array.from({ length: 200 }, (_, i) => `  // line ${i}`), "}"].join("\n");
  await page.evaluate((text) => {
    const v = window.scimapEditor;
    v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: text } });
  }, long);
  // The problem of this text (the last test left another one listed).
  const problem = page.locator("#problems li", { hasText: /^2:3 / });
  await problem.waitFor({ timeout: 5_000 });
  const box = await problem.boundingBox();
  const viewport = page.viewportSize();
  assert.ok(box && box.y >= 0 && box.y + box.height <= viewport.height, JSON.stringify({ box, viewport }));
  assert.equal(await page.textContent("#problems-count"), "1 error");
});

/** `scimap plan` of a seed app for user N against a current resource (none: creation). */
function cliPlan(app, n, current, ...flags) {
  const args = ["plan", `examples/${app}.scimap`, "--user", "examples/users.json", "--pick", String(n), "--now", NOW];
  if (current !== undefined) {
    const file = join(here, "test-results", "current.json");
    writeFileSync(file, JSON.stringify(current));
    args.push("--current", file);
  }
  const r = spawnSync(scimap, [...args, ...flags], { cwd: repo, encoding: "utf8" });
  assert.equal(r.status, 0, `scimap ${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The requests the Request panel shows. */
function shownPlan() {
  return [...document.querySelectorAll("#plan .request")].map((r) => ({
    method: r.querySelector(".method").textContent,
    path: r.querySelector(".path").textContent,
    body: JSON.parse(r.querySelector("pre.body").textContent),
  }));
}

/** The requests shown, once they equal `expected` (or the last seen after 5 s). */
async function planBecomes(expected) {
  const want = JSON.stringify(expected);
  let shown;
  for (let tries = 0; tries < 100; tries++) {
    shown = await page.evaluate(shownPlan);
    if (JSON.stringify(shown) === want) break;
    await page.waitForTimeout(50);
  }
  return shown;
}

/** A setting of the app profile shown, once it reads `value` (or the last seen). */
async function settingBecomes(name, value) {
  const setting = page.locator(`#profile [data-setting=${name}]`);
  await setting.filter({ hasText: new RegExp(`^${name}${value}$`) }).waitFor({ timeout: 5_000 }).catch(() => {});
  return setting.textContent();
}

async function setCurrent(current) {
  await page.fill("#current-input", typeof current === "string" ? current : JSON.stringify(current, null, 2));
}

test("the Request panel shows the plan, each operation linked to its entry", async () => {
  await page.fill("#now-input", NOW);
  await page.selectOption("#app-select", "trello");
  await page.selectOption("#record-select", "0");
  assert.equal(await settingBecomes("updatable", "active"), "updatableactive");
  // No current resource: the app has no such user, so the payload is POSTed.
  await setCurrent("");
  const post = cliPlan("trello", 0);
  assert.deepEqual(await planBecomes(post), post);
  // The app's copy of exactly that payload: nothing to send.
  await page.click("#current-from-payload");
  await page.locator("#plan .nothing").waitFor({ timeout: 5_000 });
  assert.match(await page.textContent("#plan"), /^Nothing to send/);
  const current = JSON.parse(await page.inputValue("#current-input"));
  assert.equal(current.id, "1");
  // Deactivation: `active` false and nothing else.
  await page.check("#deactivate-input");
  const off = cliPlan("trello", 0, current, "--deactivate");
  assert.deepEqual(await planBecomes(off), off);
  await page.uncheck("#deactivate-input");
  // Trello lets only `active` change: a new name is not sent, `active` is.
  const changed = { ...current, active: false, name: { ...current.name, formatted: "Someone Else" } };
  await setCurrent(changed);
  const patch = cliPlan("trello", 0, changed);
  assert.deepEqual(patch.map((r) => r.body.Operations), [[{ op: "replace", path: "active", value: true }]]);
  assert.deepEqual(await planBecomes(patch), patch);
  // The operation's entry button selects the `active` entry in the editor.
  const line = readFileSync(join(repo, "examples", "trello.scimap"), "utf8")
    .split("\n").findIndex((l) => /^\s*active\s*=/.test(l)) + 1;
  const cause = page.locator("#plan .operations button.cause");
  assert.equal(await cause.count(), 1);
  assert.equal(await cause.getAttribute("data-line"), String(line));
  await cause.click();
  const selected = await page.evaluate(() => {
    const { state } = window.scimapEditor;
    const { from, to } = state.selection.main;
    return { line: state.doc.lineAt(from).number, text: state.sliceDoc(from, to) };
  });
  assert.equal(selected.line, line);
  assert.match(selected.text, /^active\s*= state == "ACTIVATED"$/);
  await page.screenshot({ path: join(here, "test-results", "plan-trello.png") });

  // monday.com PUTs, with a PATCH for its PATCH-only `active` and `userType`.
  await page.selectOption("#app-select", "monday");
  assert.equal(await settingBecomes("update", "put"), "updateput");
  assert.equal(await settingBecomes("patchOnly", "active, userType"), "patchOnlyactive, userType");
  const stale = { ...changed, userType: "Contractor", title: "Old title" };
  await setCurrent(stale);
  const putPatch = cliPlan("monday", 0, stale);
  assert.deepEqual(putPatch.map((r) => r.method), ["PUT", "PATCH"]);
  assert.deepEqual(await planBecomes(putPatch), putPatch);
  const entries = await page.locator("#plan .operations button.cause").allTextContents();
  assert.deepEqual(entries.map((t) => t.split(" ")[0]), ["active", "userType"]);
  await page.screenshot({ path: join(here, "test-results", "plan-monday.png"), fullPage: true });

  // A current resource that is not an object is shown as the error it is.
  await setCurrent("[1]");
  await page.locator("#plan .plan-error").waitFor({ timeout: 5_000 });
  assert.equal(
    await page.textContent("#plan .plan-error"),
    "the current resource is an array, not a JSON object [scimap::not-an-object]",
  );
  await setCurrent("");
});

/** The Tests panel's summary, once it starts with `prefix` (or the last one seen). */
async function testsSummaryBecomes(prefix) {
  try {
    await page.waitForFunction(
      (want) => document.getElementById("tests-summary").textContent.startsWith(want),
      prefix,
      { timeout: 5_000 },
    );
  } catch {
    // Fall through: the assertion shows the difference.
  }
  return page.textContent("#tests-summary");
}

test("the Tests panel runs the seed app's tests and highlights what they leave uncovered", async () => {
  await page.fill("#now-input", "");
  await page.selectOption("#app-select", "trello");
  // The seed app's own test file, run as `scimap test examples` runs it.
  assert.match(await testsSummaryBecomes("8 passed"), /^8 passed, 0 failed · coverage 100\.0%$/);
  assert.equal(await page.locator("#test-results li.passed").count(), 8);
  assert.equal(await page.locator("#uncovered li").count(), 0);
  assert.equal(await page.locator("#editor .cm-lintRange-hint").count(), 0);

  // One case that fails, and leaves branches and entries uncovered.
  await page.fill("#tests-input", [
    "[[case]]",
    'name = "a wrong name"',
    'record = { username = "ada", firstname = "Ada", lastname = "L", state = "ACTIVATED" }',
    'expect = { "/name/formatted" = "Ada Lovelace" }',
  ].join("\n"));
  assert.match(await testsSummaryBecomes("0 passed"), /^0 passed, 1 failed/);
  const failure = await page.textContent("#test-results li.failed");
  assert.match(failure, /a wrong name/);
  assert.match(failure, /payload \/name\/formatted: expected "Ada Lovelace", got "Ada L"/);
  // The entry to blame is a button that selects it in the editor.
  await page.click("#test-results li.failed button.cause");
  const selected = await page.evaluate(() => {
    const v = window.scimapEditor;
    const s = v.state.selection.main;
    return v.state.doc.sliceString(s.from, s.to);
  });
  assert.match(selected, /^name\.formatted\s*=\s*fullName/);
  const uncovered = await page.locator("#uncovered li").allTextContents();
  assert.ok(uncovered.some((t) => /`\?\?` right never taken: firstname \?\? ""/.test(t)), uncovered.join("\n"));
  assert.ok(uncovered.some((t) => /no case gives `displayName` a value/.test(t)), uncovered.join("\n"));
  assert.ok((await page.locator("#editor .cm-lintRange-hint").count()) > 0);
  await page.screenshot({ path: join(here, "test-results", "tests-panel.png"), fullPage: true });

  // A test file that is not TOML says where.
  await page.fill("#tests-input", "[[case]]\nname = \n");
  assert.match(await testsSummaryBecomes("test file"), /^test file 2:8: not TOML/);
  await page.selectOption("#app-select", "trello");
  assert.match(await testsSummaryBecomes("8 passed"), /^8 passed, 0 failed/);
});

test("Start from asks before replacing an edit; a share link restores the page; the payload downloads", async () => {
  await page.selectOption("#app-select", "trello");
  await replaceMapping(["user {", 'userName = lower(username ?? "")', 'title = const "Shared"', "}"]);
  const expected = {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName: users[0].username.toLowerCase(),
    title: "Shared",
  };
  assert.deepEqual(await payloadBecomes(expected), expected);
  // Refused: the edit stays, and so does the app it started from.
  dialogs.length = 0;
  acceptDialogs = false;
  await page.selectOption("#app-select", "miro");
  acceptDialogs = true;
  assert.equal(dialogs.length, 1);
  assert.match(dialogs[0], /^Replace the edited mapping with .*Miro.*\? Your changes are lost\.$/);
  assert.equal(await page.inputValue("#app-select"), "trello");
  assert.match(await page.textContent("#editor .cm-content"), /title = const "Shared"/);

  await page.fill("#now-input", NOW);
  await page.click("#share");
  const link = await page.inputValue("#share-link");
  assert.ok(link.startsWith(`${url}#s=`), link);
  const other = await browser.newPage();
  other.on("request", (r) => requests.push(r.url()));
  other.on("pageerror", (e) => pageErrors.push(e.message));
  await other.goto(link);
  await other.waitForSelector("#status.ok", { timeout: 30_000 });
  assert.match(await other.textContent("#editor .cm-content"), /title = const "Shared"/);
  assert.equal(await other.inputValue("#now-input"), NOW);
  assert.equal(await other.inputValue("#app-select"), "trello");
  await other.waitForFunction(() => document.getElementById("payload").textContent.includes("Shared"));
  assert.deepEqual(JSON.parse(await other.textContent("#payload")), expected);
  await other.close();

  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#payload-download")]);
  assert.equal(download.suggestedFilename(), "payload.json");
  assert.deepEqual(JSON.parse(readFileSync(await download.path(), "utf8")), expected);
});

test("compile + preview of the Trello mapping: median time in Chromium (printed)", async () => {
  const source = readFileSync(join(repo, "examples", "trello.scimap"), "utf8");
  const times = await page.evaluate(
    ({ source, record }) => {
      const { preview } = window.scimapEngine;
      const out = [];
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        const r = preview(source, record, { kind: "user" });
        out.push(performance.now() - t0);
        if (r.payload === null) throw new Error("the Trello preview failed");
      }
      return out;
    },
    { source, record: JSON.stringify(users[0]) },
  );
  times.sort((a, b) => a - b);
  const median = times[times.length >> 1];
  console.log(`trello compile + preview in Chromium: median ${median.toFixed(3)} ms over ${times.length} runs (min ${times[0].toFixed(3)} ms)`);
});

test("no request left the page's own origin, and nothing was logged as an error", () => {
  assert.ok(requests.length >= 4, requests.join("\n"));
  assert.deepEqual(requests.filter((r) => !r.startsWith(url)), []);
  assert.deepEqual(pageErrors, []);
});
