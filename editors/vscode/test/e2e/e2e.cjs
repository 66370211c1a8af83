// VS Code end-to-end test: code-server with the built .vsix, driven by Debian's chromium through
// playwright-core. Field conditions: the keyboard types from the moment the file opens, while the
// server starts and loads the demo model, with the default settings. Exit code 0 when a whole
// suggestion appeared after the pause, Tab accepted it, the status bar and the test-only command
// report a ready server, and every request got exactly one reply (the tap's log). Run through
// run.sh.
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const path = require("node:path");

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run this through run.sh)`);
  return value;
};
const TOOLS = env("E2E_TOOLS");
const WORK = env("E2E_WORK");
const WORKSPACE = env("E2E_WORKSPACE");
const ARTIFACTS = env("E2E_ARTIFACTS");
const STATE_FILE = path.join(WORK, "state.json");
const TAP_LOG = path.join(WORK, "tap.jsonl"); // written by tests/lsp_tap.py (run.sh)
const FILE = "inventory.py";
const LINE = 51; // the `data = ` line of examples/python/inventory.py
const TYPED = "data = ";
const EXPECTED = "json.load("; // how the demo model's suggestion there starts
const { chromium } = require(path.join(TOOLS, "node_modules", "playwright-core"));

const log = (message) => console.log(`[vscode-e2e ${(performance.now() / 1000).toFixed(1)}s] ${message}`);

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function startCodeServer(port) {
  const child = spawn(path.join(TOOLS, "node_modules", ".bin", "code-server"), [
    "--bind-addr", `127.0.0.1:${port}`, "--auth", "none", "--disable-telemetry",
    "--disable-update-check", "--disable-workspace-trust",
    "--user-data-dir", path.join(WORK, "user-data"), "--extensions-dir", path.join(WORK, "extensions"),
    WORKSPACE,
  ], { env: { ...process.env, LLAMA_LSP_TEST_OUTPUT: STATE_FILE }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const output = fs.createWriteStream(path.join(ARTIFACTS, "vscode-code-server.log"));
  child.stdout.pipe(output);
  child.stderr.pipe(output);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("code-server did not start in 120 s")), 120_000);
    child.stdout.on("data", (data) => {
      if (String(data).includes("HTTP server listening")) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once("exit", (code) => reject(new Error(`code-server exited with ${code}`)));
  });
}

async function runCommand(page, title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  await input.fill(`>${title}`);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first().waitFor();
  await page.keyboard.press("Enter");
}

async function openFile(page, name) {
  await page.keyboard.press("Control+P");
  await page.locator(".quick-input-widget input").fill(name);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: name }).first().waitFor();
  await page.keyboard.press("Enter");
}

async function testState(page) {
  fs.rmSync(STATE_FILE, { force: true });
  await runCommand(page, "llama-lsp: Test: report state");
  for (let i = 0; i < 600 && !fs.existsSync(STATE_FILE); i++) {
    await page.waitForTimeout(100);
  }
  return JSON.parse(fs.readFileSync(STATE_FILE, "utf8"));
}

/** The test state once `accept(state)` holds, or the last one after about 10 s. */
async function pollState(page, accept) {
  let state = await testState(page);
  for (let i = 0; i < 20 && !accept(state); i++) {
    await page.waitForTimeout(500);
    state = await testState(page);
  }
  return state;
}

/** A whole suggestion, not a fragment: it starts with EXPECTED, and its first line closes every
 * bracket it opens and does not stop after an operator, a dot or a comma. */
function whole(text) {
  const first = text.split("\n")[0].trim();
  if (!first.startsWith(EXPECTED) || /[.,=+\-*/]\s*$/.test(first)) {
    return false;
  }
  let depth = 0;
  for (const char of first.replace(/[^()[\]{}]/g, "")) {
    depth += "([{".includes(char) ? 1 : -1;
    if (depth < 0) {
      return false;
    }
  }
  return depth === 0;
}

/** Requests (either way) without exactly one reply, from the tap's log. */
function unanswered() {
  const requests = new Map();
  const replies = new Map();
  for (const line of fs.readFileSync(TAP_LOG, "utf8").split("\n").filter(Boolean)) {
    const entry = JSON.parse(line);
    if (entry.id === null || entry.id === undefined) {
      continue;
    }
    // A request from one side is answered from the other.
    const key = `${entry.method ? entry.from : entry.from === "client" ? "server" : "client"}:${entry.id}`;
    if (entry.method) {
      requests.set(key, entry.method);
    } else {
      replies.set(key, (replies.get(key) ?? 0) + 1);
    }
  }
  const problems = [];
  for (const [key, method] of requests) {
    if (replies.get(key) !== 1) {
      problems.push(`${key} ${method}: ${replies.get(key) ?? 0} replies`);
    }
  }
  for (const key of replies.keys()) {
    if (!requests.has(key)) {
      problems.push(`reply to unknown request ${key}`);
    }
  }
  const inline = [...requests.values()].filter((method) => method === "textDocument/inlineCompletion").length;
  return { problems, requests: requests.size, inline };
}

function check(condition, message, details) {
  if (!condition) {
    throw new Error(`${message}${details === undefined ? "" : `: ${JSON.stringify(details, null, 2)}`}`);
  }
  log(`ok: ${message}`);
}

async function main() {
  const port = await freePort();
  const started = performance.now();
  const codeServer = await startCodeServer(port);
  log(`code-server listening on 127.0.0.1:${port}`);
  try {
    await drive(port, started);
  } finally {
    try {
      process.kill(-codeServer.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}

async function drive(port, started) {
  // A fresh profile (--user-data-dir) for every run.
  const browser = await chromium.launchPersistentContext(path.join(WORK, "chromium"), {
    viewport: { width: 1280, height: 800 },
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const figures = {};
  let page;
  try {
    page = browser.pages()[0] ?? await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(WORKSPACE)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 120_000 });
    log("workbench loaded");

    // Open the Python file and type at once, while the server starts and loads the model: TYPED
    // and rubbing it out again until the model is loading (the server is up and answering), then
    // TYPED once more and the pause, still before the model is ready.
    await openFile(page, FILE);
    await page.locator(".monaco-editor .view-lines").first().waitFor();
    await page.keyboard.press("Control+G");
    await page.locator(".quick-input-widget input").fill(`:${LINE}`);
    await page.keyboard.press("Enter");
    await page.keyboard.press("End");
    const statusText = async () => ((await page.locator(".statusbar-item", { hasText: "llama-lsp" }).allTextContents())[0] ?? "")
      .trim();
    const isReady = (text) => /llama-lsp: /.test(text) && !/loading|error|not installed|stopped/.test(text);
    // The model may load within a second (a quiet machine, the file in the page cache): keys go
    // one at a time (a character, then Backspace) with the status read after each pair, so the
    // pause starts as soon as the model is loading. If the model still won the race, the server
    // is restarted and the typing begins again (at most 3 tries; every try is a field session).
    figures.tries = 0;
    let typedAt;
    for (;;) {
      figures.tries++;
      figures.statusAtFirstKey = await statusText();
      figures.firstKeyAfterS = ((performance.now() - started) / 1000).toFixed(1);
      figures.rounds = 0;
      let status = figures.statusAtFirstKey;
      while (!/loading/.test(status) && !isReady(status) && performance.now() - started < 180_000) {
        await page.keyboard.type(TYPED[figures.rounds % TYPED.length], { delay: 60 });
        await page.keyboard.press("Backspace", { delay: 60 });
        figures.rounds++;
        status = await statusText();
      }
      await page.keyboard.type(TYPED, { delay: 60 });
      typedAt = performance.now();
      figures.statusAtPause = await statusText();
      log(`try ${figures.tries}: typed from ${figures.firstKeyAfterS} s (status "${figures.statusAtFirstKey}") to the pause (status "${figures.statusAtPause}")`);
      if (!isReady(figures.statusAtPause) || figures.tries >= 3) {
        break;
      }
      for (let i = 0; i < TYPED.length; i++) {
        await page.keyboard.press("Backspace", { delay: 60 });
      }
      await runCommand(page, "llama-lsp: Restart server");
      const restartedBy = performance.now() + 60_000;
      while (isReady(await statusText()) && performance.now() < restartedBy) {
        await page.waitForTimeout(20);
      }
    }
    check(!isReady(figures.statusAtFirstKey) && !isReady(figures.statusAtPause),
      "typing and the pause began before the model was ready", figures);

    // The pause: no more keys. The first ghost text shown must be a whole suggestion.
    const ghost = page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text").first();
    await ghost.waitFor({ state: "visible", timeout: 180_000 });
    figures.timeToGhostTextMs = Math.round(performance.now() - typedAt);
    const ghostText = (await page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text").allTextContents())
      .join("").replace(/\u00a0/g, " ");
    log(`ghost text after ${figures.timeToGhostTextMs} ms: ${JSON.stringify(ghostText)}`);
    check(whole(ghostText), "the first ghost text shown is a whole suggestion", ghostText);
    figures.statusWhenShown = await statusText();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, "vscode-ghost-text.png") });

    // Tab accepts it: the line is now what was typed followed by the ghost text.
    await page.keyboard.press("Tab");
    await page.waitForTimeout(300);
    const after = await testState(page);
    const line = after.document.text.split("\n")[LINE - 1];
    const firstGhostLine = ghostText.split("\n")[0].trim();
    check(line.startsWith(`            ${TYPED}`) && line.length > `            ${TYPED}`.length &&
      line.replace(/\s+/g, "").includes(firstGhostLine.replace(/\s+/g, "")),
    "Tab inserted the ghost text", { line, ghostText });
    check(after.phase === "running" && after.clientRunning, "the language client is running", after.phase);
    check(after.status?.state === "ready" && /^\$\(check\) llama-lsp: /.test(after.statusBarText),
      "the status bar shows ready", { status: after.status, text: after.statusBarText });
    check(after.serverCommands.includes("llama-lsp.showPrompt"), "the server offers llama-lsp.showPrompt",
      after.serverCommands);
    figures.askedAgain = after.askedAgain;
    check(after.askedAgain?.modelReady >= 1 && after.askedAgain?.sentAutomatic >= 1,
      "the extension asked again (as automatic) when the model became ready", after.askedAgain);
    await page.screenshot({ path: path.join(ARTIFACTS, "vscode-accepted.png") });

    // A figure, not a check: a second suggestion in the same file (warm KV cache), if any.
    await page.keyboard.press("Enter");
    await page.keyboard.type("self.", { delay: 60 });
    const secondAt = performance.now();
    const second = await ghost.waitFor({ state: "visible", timeout: 30_000 }).then(() => true, () => false);
    figures.secondTimeToGhostTextMs = second ? Math.round(performance.now() - secondAt) : "none in 30 s";
    log(`second suggestion: ${figures.secondTimeToGhostTextMs}${second ? " ms" : ""}`);

    // Show the prompt for the cursor: a new editor with the exact prompt.
    await runCommand(page, "llama-lsp: Show the prompt for the cursor");
    await page.locator(".monaco-editor .view-lines", { hasText: "--- prompt for" }).first().waitFor({ timeout: 60_000 });
    log("ok: the prompt opened in an editor");
    await openFile(page, FILE); // back to inventory.py (the prompt stays open beside it)

    // Settings reach the server on change: Disable completions turns the status bar to "off".
    await runCommand(page, "llama-lsp: Disable completions");
    const isOff = (state) => state.enabled === false && state.settings.enabled === false &&
      /llama-lsp: off/.test(state.statusBarText) && Array.isArray(state.inline?.items) &&
      state.inline.items.length === 0;
    const disabled = await pollState(page, isOff);
    check(isOff(disabled), "Disable completions: llama-lsp.enabled is false, the status bar says off, the server suggests nothing",
      { enabled: disabled.enabled, text: disabled.statusBarText, inline: disabled.inline });
    await runCommand(page, "llama-lsp: Enable completions");
    check((await pollState(page, (state) => state.enabled === true)).enabled === true,
      "Enable completions turns them back on");

    // Generate docstring, once the server offers it (a function without one is at the end).
    if (after.serverCommands.includes("llama-lsp.generateDocstring")) {
      const lines = fs.readFileSync(path.join(WORKSPACE, FILE), "utf8").split("\n");
      const defLine = lines.findIndex((text) => text.startsWith("def total_quantity(")) + 1;
      // "Show the prompt" left its own (unsaved) editor focused beside the file.
      await runCommand(page, "View: Focus First Editor Group");
      await page.waitForTimeout(500);
      await page.keyboard.press("Control+G");
      await page.locator(".quick-input-widget input").fill(`:${defLine}:5`);
      await page.keyboard.press("Enter");
      await runCommand(page, "llama-lsp: Generate docstring");
      let documented = false;
      for (let i = 0; i < 60 && !documented; i++) {
        await page.waitForTimeout(1000);
        const text = (await testState(page)).document.text.split("\n");
        documented = /^\s+("{3}|'{3})/.test(text[defLine] ?? "");
      }
      check(documented, "Generate docstring added a docstring under the def line");
    } else {
      log("skip: the server has no llama-lsp.generateDocstring command yet");
    }
    // Every request got exactly one reply (requests still in flight get 30 s to finish).
    let replies = unanswered();
    for (let i = 0; i < 60 && replies.problems.length > 0; i++) {
      await page.waitForTimeout(500);
      replies = unanswered();
    }
    figures.requests = replies.requests;
    figures.inlineCompletionRequests = replies.inline;
    check(replies.problems.length === 0 && replies.inline >= 2,
      `every one of ${replies.requests} requests got exactly one reply`, replies.problems);
    figures.totalS = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`VSCODE_E2E_FIGURES ${JSON.stringify(figures)}`);
  } catch (error) {
    if (page) {
      await page.screenshot({ path: path.join(ARTIFACTS, "vscode-failure.png") }).catch(() => undefined);
    }
    throw error;
  } finally {
    await browser.close();
  }
}

main().then(() => process.exit(0), (error) => {
  console.error(`vscode e2e FAILED: ${error.stack || error}`);
  process.exit(1);
});
