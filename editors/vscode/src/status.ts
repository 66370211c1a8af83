/** What the status bar item shows for the server's state: pure logic (unit tested). */

/** The `$/llama-lsp/status` notification (and `llama-lsp.status` command result). */
export interface ServerStatus {
  state: "not-loaded" | "loading" | "ready" | "failed" | string;
  detail?: string;
  source?: string;
  latencyMs?: number;
  tokensPerSecond?: number;
  cacheHitRate?: number;
  promptTokens?: number;
  contextTokens?: number;
}

/** What the client knows besides the server's own status. */
export type ClientPhase = "starting" | "running" | "stopped" | "not-found" | "crashed";

export interface StatusView {
  text: string;
  tooltip: string;
  /** "error" items get the error background and open the log when clicked. */
  severity: "normal" | "warning" | "error";
}

function modelName(detail: string | undefined): string {
  if (!detail) {
    return "model";
  }
  const base = detail.split(/[\\/]/).pop() ?? detail;
  return base.replace(/\.gguf$/i, "");
}

/** Merge a new status notification into the last one (latency fields persist across states). */
export function mergeStatus(previous: ServerStatus | undefined, next: ServerStatus): ServerStatus {
  return { ...(previous ?? {}), ...next };
}

/** The status bar text, tooltip and severity for the client phase and the last server status. */
export function statusView(
  phase: ClientPhase,
  status: ServerStatus | undefined,
  enabled: boolean,
  problem?: string,
): StatusView {
  if (phase === "not-found") {
    return { text: "$(error) llama-lsp: not installed", tooltip: problem ?? "", severity: "error" };
  }
  if (phase === "crashed") {
    return {
      text: "$(error) llama-lsp: server stopped",
      tooltip: `${problem ?? "The server exited."} Click for the log.`,
      severity: "error",
    };
  }
  if (phase === "stopped") {
    return { text: "$(debug-stop) llama-lsp", tooltip: "The server is stopped.", severity: "normal" };
  }
  if (phase === "starting" || !status) {
    return { text: "$(sync~spin) llama-lsp", tooltip: "Starting the server...", severity: "normal" };
  }
  if (status.state === "failed") {
    return {
      text: "$(error) llama-lsp: model error",
      tooltip: `${status.detail ?? "The model failed to load."} Click for the log.`,
      severity: "error",
    };
  }
  if (status.state === "loading" || status.state === "not-loaded") {
    return {
      text: `$(loading~spin) llama-lsp: loading ${modelName(status.detail)}`,
      tooltip: `Loading ${status.detail ?? "the model"}...`,
      severity: "normal",
    };
  }
  const name = modelName(status.detail);
  const figures: string[] = [];
  if (status.latencyMs !== undefined) {
    figures.push(`${Math.round(status.latencyMs)} ms`);
  }
  if (status.tokensPerSecond !== undefined) {
    figures.push(`${status.tokensPerSecond.toFixed(0)} tok/s`);
  }
  const tooltip = [
    `llama-lsp ready: ${status.detail ?? name}`,
    status.latencyMs !== undefined ? `last completion: ${status.latencyMs} ms (${status.source ?? "model"})` : "",
    status.tokensPerSecond !== undefined ? `speed: ${status.tokensPerSecond} tokens/s` : "",
    status.cacheHitRate !== undefined ? `cache hit rate: ${Math.round(status.cacheHitRate * 100)}%` : "",
    enabled ? "" : "completions are disabled (llama-lsp.enabled)",
  ].filter(Boolean).join("\n");
  if (!enabled) {
    return { text: `$(circle-slash) llama-lsp: off`, tooltip, severity: "warning" };
  }
  const suffix = figures.length ? ` · ${figures.join(" · ")}` : "";
  return { text: `$(check) llama-lsp: ${name}${suffix}`, tooltip, severity: "normal" };
}
