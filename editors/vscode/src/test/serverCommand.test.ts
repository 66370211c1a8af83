import { strict as assert } from "node:assert";
import { test } from "node:test";
import { findOnPath, isServerCommand, resolveServerCommand } from "../serverCommand";

const files = (...paths: string[]) => (file: string) => paths.includes(file);

test("serverPath wins and runs `serve`", () => {
  const found = resolveServerCommand({ serverPath: "/opt/bin/llama-lsp", pythonPath: "/usr/bin/python3" },
    "/usr/bin", files("/opt/bin/llama-lsp", "/usr/bin/python3", "/usr/bin/llama-lsp"), "linux");
  assert.deepEqual(found, { command: "/opt/bin/llama-lsp", args: ["serve"], source: "serverPath" });
});

test("a serverPath that is not executable is an error with a fix", () => {
  const found = resolveServerCommand({ serverPath: "/nope/llama-lsp", pythonPath: "" }, "/usr/bin",
    files("/usr/bin/llama-lsp"), "linux");
  assert.ok(!isServerCommand(found));
  assert.match(found.error, /serverPath/);
  assert.match(found.fix, /which llama-lsp/);
});

test("pythonPath runs the module, found on PATH when not absolute", () => {
  const found = resolveServerCommand({ serverPath: " ", pythonPath: "python3" }, "/a:/usr/bin",
    files("/usr/bin/python3"), "linux");
  assert.deepEqual(found, { command: "/usr/bin/python3", args: ["-m", "llama_lsp", "serve"], source: "pythonPath" });
});

test("a missing pythonPath is an error, not a silent fallback to PATH", () => {
  const found = resolveServerCommand({ serverPath: "", pythonPath: "/venv/bin/python" }, "/usr/bin",
    files("/usr/bin/llama-lsp"), "linux");
  assert.ok(!isServerCommand(found));
  assert.match(found.error, /pythonPath/);
});

test("llama-lsp on PATH, first folder first", () => {
  const found = resolveServerCommand({ serverPath: "", pythonPath: "" }, "/x::/home/u/.local/bin:/usr/bin",
    files("/usr/bin/llama-lsp", "/home/u/.local/bin/llama-lsp"), "linux");
  assert.deepEqual(found, { command: "/home/u/.local/bin/llama-lsp", args: ["serve"], source: "PATH" });
});

test("nothing found: the error names the install command", () => {
  const found = resolveServerCommand({ serverPath: "", pythonPath: "" }, undefined, files(), "linux");
  assert.ok(!isServerCommand(found));
  assert.match(found.fix, /bundle \(`sh install\.sh`\)/);
  assert.match(found.fix, /pip install llama_lsp-\*\.whl/);
  assert.match(found.fix, /pip install "\.\[demo\]"/);
  assert.doesNotMatch(found.fix, /llama-lsp\[/);  // not on any package index
});

test("Windows: ; separated PATH and .exe", () => {
  const isExe = (file: string) => file.endsWith("llama-lsp.exe") && file.startsWith("C:");
  const found = findOnPath("llama-lsp", "D:\\tools;C:\\py\\Scripts", isExe, "win32");
  assert.ok(found?.startsWith("C:") && found.endsWith("llama-lsp.exe"));
});
