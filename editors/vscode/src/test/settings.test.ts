import { strict as assert } from "node:assert";
import { test } from "node:test";
import { onlyServerKeys, serverSettings } from "../settings";
import { SERVER_SETTING_KEYS } from "../serverSettings";

test("every server option is read; unset ones are left out", () => {
  const values: Record<string, unknown> = { model: "/m.gguf", contextSize: 2048, serverPath: "/x" };
  const settings = serverSettings((key) => values[key]);
  assert.deepEqual(settings, { model: "/m.gguf", contextSize: 2048 });
});

test("null is a value (an empty model means the default model)", () => {
  assert.deepEqual(serverSettings((key) => (key === "model" ? null : undefined)), { model: null });
});

test("client-only settings never reach the server", () => {
  const section = { model: "m", serverPath: "/x", pythonPath: "py", trace: { server: "off" } };
  assert.deepEqual(onlyServerKeys(section), { model: "m" });
  assert.equal(onlyServerKeys(null), null);
});

test("the generated key list has the core options", () => {
  for (const key of ["model", "contextSize", "threads", "gpuLayers", "maxTokens", "languages", "enabled"]) {
    assert.ok(SERVER_SETTING_KEYS.includes(key), key);
  }
});
