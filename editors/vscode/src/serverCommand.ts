/** Which command starts the language server: pure logic, no vscode import (unit tested). */
import * as path from "node:path";

export interface ServerLocation {
  serverPath: string;
  pythonPath: string;
}

export interface ServerCommand {
  command: string;
  args: string[];
  /** How it was found, for the log. */
  source: "serverPath" | "pythonPath" | "PATH";
}

export interface ServerNotFound {
  error: string;
  /** What the user can do about it. */
  fix: string;
}

/** llama-lsp is not on a package index: it installs from a bundle, a wheel or a checkout. */
export const INSTALL_HINT =
  'from an offline bundle (`sh install.sh`), a wheel (`python3 -m pip install llama_lsp-*.whl`) ' +
  'or a checkout (`python3 -m pip install ".[demo]"` in its folder)';
/** What "Copy install command" copies: the checkout install, run in the llama-lsp folder. */
export const INSTALL_COMMAND = 'python3 -m pip install ".[demo]"';
export const EXECUTABLE = "llama-lsp";

/** True when the resolved value is a command to run rather than an error. */
export function isServerCommand(found: ServerCommand | ServerNotFound): found is ServerCommand {
  return (found as ServerCommand).command !== undefined;
}

/** The first `name` (plus Windows extensions) that is executable in one of the PATH folders. */
export function findOnPath(
  name: string,
  pathVariable: string | undefined,
  isExecutable: (file: string) => boolean,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  const separator = platform === "win32" ? ";" : ":";
  const suffixes = platform === "win32" ? [".exe", ".cmd", ".bat", ""] : [""];
  for (const folder of (pathVariable ?? "").split(separator)) {
    if (!folder) {
      continue;
    }
    for (const suffix of suffixes) {
      const candidate = path.join(folder, name + suffix);
      if (isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/**
 * serverPath setting, else pythonPath setting (`python -m llama_lsp serve`), else `llama-lsp`
 * on PATH; otherwise an error that says how to install it or point the settings at it.
 */
export function resolveServerCommand(
  location: ServerLocation,
  pathVariable: string | undefined,
  isExecutable: (file: string) => boolean,
  platform: NodeJS.Platform = process.platform,
): ServerCommand | ServerNotFound {
  const serverPath = location.serverPath.trim();
  if (serverPath) {
    if (!isExecutable(serverPath)) {
      return {
        error: `llama-lsp.serverPath "${serverPath}" is not an executable file.`,
        fix: `Point llama-lsp.serverPath at the llama-lsp executable (\`which llama-lsp\`), or clear it.`,
      };
    }
    return { command: serverPath, args: ["serve"], source: "serverPath" };
  }
  const pythonPath = location.pythonPath.trim();
  if (pythonPath) {
    const python = path.isAbsolute(pythonPath)
      ? (isExecutable(pythonPath) ? pythonPath : undefined)
      : findOnPath(pythonPath, pathVariable, isExecutable, platform);
    if (!python) {
      return {
        error: `llama-lsp.pythonPath "${pythonPath}" is not an executable Python interpreter.`,
        fix: "Set llama-lsp.pythonPath to the interpreter where llama-lsp is installed, or clear it.",
      };
    }
    return { command: python, args: ["-m", "llama_lsp", "serve"], source: "pythonPath" };
  }
  const onPath = findOnPath(EXECUTABLE, pathVariable, isExecutable, platform);
  if (onPath) {
    return { command: onPath, args: ["serve"], source: "PATH" };
  }
  return {
    error: "The llama-lsp language server is not installed (no `llama-lsp` on PATH).",
    fix: `Install it ${INSTALL_HINT}, or set llama-lsp.pythonPath to a Python ` +
      "interpreter that has it (or llama-lsp.serverPath to the executable).",
  };
}
