import { strict as assert } from "node:assert";
import { test } from "node:test";
import { mergeStatus, statusView } from "../status";

test("loading shows a spinner and the model file name", () => {
  const view = statusView("running", { state: "loading", detail: "/models/qwen2.5-coder.gguf" }, true);
  assert.equal(view.text, "$(loading~spin) llama-lsp: loading qwen2.5-coder");
  assert.equal(view.severity, "normal");
});

test("ready shows the model, last latency and tokens/s", () => {
  const status = mergeStatus({ state: "loading", detail: "m.gguf" },
    { state: "ready", detail: "gemma-3-270m", latencyMs: 123.4, tokensPerSecond: 41.6, source: "model" });
  const view = statusView("running", status, true);
  assert.equal(view.text, "$(check) llama-lsp: gemma-3-270m · 123 ms · 42 tok/s");
  assert.match(view.tooltip, /last completion: 123.4 ms \(model\)/);
});

test("a later status without latency keeps the last latency", () => {
  const first = mergeStatus(undefined, { state: "ready", detail: "m", latencyMs: 50 });
  const second = mergeStatus(first, { state: "ready", detail: "m" });
  assert.equal(second.latencyMs, 50);
});

test("a failed model is an error that points at the log", () => {
  const view = statusView("running", { state: "failed", detail: "not a GGUF file: /x.gguf" }, true);
  assert.equal(view.severity, "error");
  assert.match(view.tooltip, /not a GGUF file.*Click for the log/);
});

test("server missing and crashed are errors; disabled is a warning", () => {
  assert.equal(statusView("not-found", undefined, true, "no llama-lsp").severity, "error");
  assert.equal(statusView("crashed", { state: "ready" }, true).severity, "error");
  const off = statusView("running", { state: "ready", detail: "m" }, false);
  assert.equal(off.severity, "warning");
  assert.match(off.text, /off/);
});

test("starting before any status", () => {
  assert.match(statusView("starting", undefined, true).text, /sync~spin/);
});
