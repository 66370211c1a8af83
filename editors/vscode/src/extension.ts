/** The llama-lsp VS Code extension: starts `llama-lsp serve`, shows its status, adds commands. */
import * as fs from "node:fs";
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  TransportKind,
} from "vscode-languageclient/node";
import { isServerCommand, resolveServerCommand, INSTALL_COMMAND, INSTALL_HINT } from "./serverCommand";
import { CONFIG_SECTION } from "./serverSettings";
import { onlyServerKeys, RESTART_SETTINGS, serverSettings } from "./settings";
import { ClientPhase, mergeStatus, ServerStatus, statusView } from "./status";
import {
  AutomaticRetrigger,
  becameReady,
  hasItems,
  parseSuggestionReady,
  Place,
  ReadyWaiters,
  samePlace,
  SUGGESTION_READY_NOTIFICATION,
} from "./recover";

/** How long an empty answer waits for `$/llama-lsp/suggestionReady` at its place. */
const READY_WAIT_MS = 10_000;

const STATUS_NOTIFICATION = "$/llama-lsp/status";
export const SERVER_COMMANDS = {
  showPrompt: "llama-lsp.showPrompt",
  status: "llama-lsp.status",
  generateDocstring: "llama-lsp.generateDocstring",
  generateDocstringsForFile: "llama-lsp.generateDocstringsForFile",
} as const;

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The running client, its status bar item and what they last reported. */
class LlamaLspExtension implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private phase: ClientPhase = "stopped";
  private status: ServerStatus | undefined;
  private problem: string | undefined;
  private stopping = false;
  private readonly retrigger = new AutomaticRetrigger();
  private readonly waiters = new ReadyWaiters();
  /** How often the extension asked again by itself (reported by the test command). */
  private readonly askedAgain = { modelReady: 0, suggestionReady: 0, sentAutomatic: 0, afterWaiting: 0 };
  readonly log: vscode.LogOutputChannel;
  readonly item: vscode.StatusBarItem;

  constructor() {
    this.log = vscode.window.createOutputChannel("llama-lsp", { log: true });
    this.item = vscode.window.createStatusBarItem("llama-lsp.status", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "llama-lsp";
    this.item.command = "llamaLsp.showLog";
    this.render();
    this.item.show();
  }

  private config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(CONFIG_SECTION);
  }

  private enabled(): boolean {
    return this.config().get<boolean>("enabled", true);
  }

  render(): void {
    const view = statusView(this.phase, this.status, this.enabled(), this.problem);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = view.severity === "error"
      ? new vscode.ThemeColor("statusBarItem.errorBackground")
      : view.severity === "warning" ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
  }

  private setPhase(phase: ClientPhase, problem?: string): void {
    this.phase = phase;
    this.problem = problem;
    this.render();
  }

  async start(): Promise<void> {
    const config = this.config();
    const found = resolveServerCommand(
      { serverPath: config.get<string>("serverPath", ""), pythonPath: config.get<string>("pythonPath", "") },
      process.env.PATH,
      isExecutable,
    );
    if (!isServerCommand(found)) {
      this.log.appendLine(`${found.error} ${found.fix}`);
      this.setPhase("not-found", `${found.error} ${found.fix}`);
      void this.offerFix(found.error, found.fix);
      return;
    }
    this.log.appendLine(`starting ${found.command} ${found.args.join(" ")} (from ${found.source})`);
    const serverOptions: ServerOptions = {
      command: found.command,
      args: found.args,
      transport: TransportKind.stdio,
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
      outputChannel: this.log,
      initializationOptions: this.serverSettings(),
      middleware: {
        // VS Code shows the server's suggestions as ghost text (inline completions); the same
        // suggestion as a completion list item would only compete with it for the model.
        provideCompletionItem: () => undefined,
        provideInlineCompletionItems: async (document, position, context, token, next) => {
          const place = this.placeOf(document, position);
          // A request the extension triggered itself goes out as automatic, like one from typing.
          if (this.retrigger.take(place)) {
            this.askedAgain.sentAutomatic++;
            context = { ...context, triggerKind: vscode.InlineCompletionTriggerKind.Automatic };
          }
          const result = await next(document, position, context, token);
          if (!place || hasItems(result) || token.isCancellationRequested) {
            return result;
          }
          // Empty: the server may be finishing the suggestion in the background. Until typing
          // cancels this request, wait for $/llama-lsp/suggestionReady here, then ask again.
          const ready = await this.waiters.wait(place, READY_WAIT_MS,
            (cancel) => token.onCancellationRequested(cancel));
          if (!ready || token.isCancellationRequested) {
            return result;
          }
          this.askedAgain.afterWaiting++;
          return next(document, position,
            { ...context, triggerKind: vscode.InlineCompletionTriggerKind.Automatic }, token);
        },
        workspace: {
          configuration: async (params, token, next) => {
            const result = await next(params, token);
            if (!Array.isArray(result)) {
              return result;
            }
            return result.map((value, index) =>
              params.items[index]?.section === CONFIG_SECTION ? onlyServerKeys(value) : value);
          },
        },
      },
    };
    const client = new LanguageClient("llama-lsp", "llama-lsp", serverOptions, clientOptions);
    this.client = client;
    this.status = undefined;
    this.setPhase("starting");
    client.onNotification(STATUS_NOTIFICATION, (payload: ServerStatus) => {
      const previous = this.status;
      this.status = mergeStatus(previous, payload);
      this.render();
      if (becameReady(previous, payload)) {
        // What was typed while the model loaded got no suggestion: ask again now.
        void this.askAgain("modelReady");
      }
    });
    client.onNotification(SUGGESTION_READY_NOTIFICATION, (params: unknown) => {
      const ready = parseSuggestionReady(params);
      // A request still waiting there asks again itself; otherwise trigger one.
      if (ready && !this.waiters.notify(ready) && samePlace(ready, this.focusedPlace())) {
        void this.askAgain("suggestionReady");
      }
    });
    client.onDidChangeState((event) => {
      if (event.newState === State.Running) {
        this.setPhase("running");
      } else if (event.newState === State.Stopped && !this.stopping && this.client === client) {
        this.setPhase("crashed", "The llama-lsp server stopped.");
      }
    });
    try {
      await client.start();
    } catch (error) {
      const message = `llama-lsp failed to start: ${error instanceof Error ? error.message : String(error)}`;
      this.log.appendLine(message);
      this.setPhase("crashed", message);
      void vscode.window.showErrorMessage(message, "Show log").then((pick) => pick && this.log.show());
    }
  }

  /** A document position in the protocol's terms (the URI and position the server sees). */
  private placeOf(document: vscode.TextDocument, position: vscode.Position, selectionEmpty = true): Place | undefined {
    const converter = this.client?.code2ProtocolConverter;
    if (!converter) {
      return undefined;
    }
    return { uri: converter.asUri(document.uri), version: document.version,
      position: converter.asPosition(position), selectionEmpty };
  }

  /** The active editor's document version and cursor. */
  private focusedPlace(): Place | undefined {
    const editor = vscode.window.activeTextEditor;
    return editor && this.placeOf(editor.document, editor.selection.active, editor.selection.isEmpty);
  }

  /** Ask for the inline suggestion at the active editor's cursor again, as automatic. */
  private async askAgain(why: "modelReady" | "suggestionReady"): Promise<void> {
    const place = this.focusedPlace();
    if (!place || !place.selectionEmpty || !this.enabled()) {
      return;
    }
    this.askedAgain[why]++;
    this.retrigger.arm(place);
    await vscode.commands.executeCommand("editor.action.inlineSuggest.trigger");
  }

  private async offerFix(error: string, fix: string): Promise<void> {
    const pick = await vscode.window.showErrorMessage(`${error} ${fix}`, "Copy install command", "Open settings");
    if (pick === "Copy install command") {
      await vscode.env.clipboard.writeText(INSTALL_COMMAND);
    } else if (pick === "Open settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", "llama-lsp.pythonPath");
    }
  }

  serverSettings(): Record<string, unknown> {
    const config = this.config();
    return serverSettings((key) => config.get(key));
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      this.stopping = true;
      try {
        await client.stop();
      } catch (error) {
        this.log.appendLine(`stopping the server: ${String(error)}`);
      } finally {
        this.stopping = false;
      }
    }
    this.setPhase("stopped");
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async onConfigurationChanged(event: vscode.ConfigurationChangeEvent): Promise<void> {
    if (!event.affectsConfiguration(CONFIG_SECTION)) {
      return;
    }
    if (RESTART_SETTINGS.some((key) => event.affectsConfiguration(`${CONFIG_SECTION}.${key}`))) {
      await this.restart();
      return;
    }
    this.render();
    if (this.client?.isRunning()) {
      await this.client.sendNotification(DidChangeConfigurationNotification.type,
        { settings: { [CONFIG_SECTION]: this.serverSettings() } });
    }
  }

  /** Commands the running server offers through workspace/executeCommand. */
  serverCommands(): string[] {
    return this.client?.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
  }

  /** Run a server command, or say why it cannot run. */
  async executeServerCommand(command: string, args: unknown[]): Promise<unknown> {
    const client = this.client;
    if (!client?.isRunning()) {
      void vscode.window.showWarningMessage("llama-lsp: the server is not running (see the status bar).");
      return undefined;
    }
    if (!this.serverCommands().includes(command)) {
      void vscode.window.showWarningMessage(
        `llama-lsp: this server has no ${command} command; update llama-lsp (install it again ${INSTALL_HINT}).`);
      return undefined;
    }
    try {
      return await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      void vscode.window.showErrorMessage(`llama-lsp: ${message}`);
      return undefined;
    }
  }

  /** [uri, position] of the active editor's cursor, in the protocol's terms. */
  cursorArguments(): [string, { line: number; character: number }] | undefined {
    const editor = vscode.window.activeTextEditor;
    if (!editor || !this.client) {
      void vscode.window.showInformationMessage("llama-lsp: open a file and place the cursor first.");
      return undefined;
    }
    const converter = this.client.code2ProtocolConverter;
    return [converter.asUri(editor.document.uri), converter.asPosition(editor.selection.active)];
  }

  async showPrompt(): Promise<void> {
    const args = this.cursorArguments();
    if (!args) {
      return;
    }
    const report = await this.executeServerCommand(SERVER_COMMANDS.showPrompt, args) as { text?: string } | undefined;
    if (report?.text !== undefined) {
      const document = await vscode.workspace.openTextDocument({ content: report.text, language: "plaintext" });
      await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: true });
    }
  }

  async setEnabled(enabled: boolean): Promise<void> {
    await this.config().update("enabled", enabled, vscode.ConfigurationTarget.Global);
    this.render();
    void vscode.window.setStatusBarMessage(`llama-lsp: completions ${enabled ? "enabled" : "disabled"}`, 3000);
  }

  /** Test-only: what the extension sees, read through the VS Code API (and the server). */
  async testState(): Promise<Record<string, unknown>> {
    const editor = vscode.window.activeTextEditor;
    let inline: unknown;
    let serverStatus: unknown;
    if (editor && this.client?.isRunning()) {
      const converter = this.client.code2ProtocolConverter;
      inline = await this.client.sendRequest("textDocument/inlineCompletion", {
        textDocument: { uri: converter.asUri(editor.document.uri) },
        position: converter.asPosition(editor.selection.active),
        context: { triggerKind: 1 },
      }).catch((error: unknown) => ({ error: String(error) }));
      if (this.serverCommands().includes(SERVER_COMMANDS.status)) {
        serverStatus = await this.client.sendRequest(ExecuteCommandRequest.type,
          { command: SERVER_COMMANDS.status, arguments: [] });
      }
    }
    const state = {
      phase: this.phase,
      clientRunning: this.client?.isRunning() ?? false,
      status: this.status,
      serverStatus,
      statusBarText: this.item.text,
      serverCommands: this.serverCommands(),
      enabled: this.enabled(),
      askedAgain: this.askedAgain,
      settings: this.serverSettings(),
      document: editor ? { uri: editor.document.uri.toString(), languageId: editor.document.languageId,
        text: editor.document.getText(), cursor: editor.selection.active } : undefined,
      inline,
    };
    const output = process.env.LLAMA_LSP_TEST_OUTPUT;
    if (output) {
      fs.writeFileSync(output, JSON.stringify(state, null, 2));
    }
    return state;
  }

  dispose(): void {
    void this.stop();
    this.item.dispose();
    this.log.dispose();
  }
}

let extension: LlamaLspExtension | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const ext = new LlamaLspExtension();
  extension = ext;
  context.subscriptions.push(
    ext,
    vscode.workspace.onDidChangeConfiguration((event) => ext.onConfigurationChanged(event)),
    vscode.commands.registerCommand("llamaLsp.enableCompletions", () => ext.setEnabled(true)),
    vscode.commands.registerCommand("llamaLsp.disableCompletions", () => ext.setEnabled(false)),
    vscode.commands.registerCommand("llamaLsp.restartServer", () => ext.restart()),
    vscode.commands.registerCommand("llamaLsp.showLog", () => ext.log.show(true)),
    vscode.commands.registerCommand("llamaLsp.showPrompt", () => ext.showPrompt()),
    vscode.commands.registerCommand("llamaLsp.generateDocstring", async () => {
      const args = ext.cursorArguments();
      if (args) {
        await ext.executeServerCommand(SERVER_COMMANDS.generateDocstring, args);
      }
    }),
    vscode.commands.registerCommand("llamaLsp.generateDocstringsForFile", async () => {
      const args = ext.cursorArguments();
      if (args) {
        await ext.executeServerCommand(SERVER_COMMANDS.generateDocstringsForFile, [args[0]]);
      }
    }),
    vscode.commands.registerCommand("llamaLsp.test.state", () => ext.testState()),
  );
  await vscode.commands.executeCommand("setContext", "llamaLsp.testMode", Boolean(process.env.LLAMA_LSP_TEST_OUTPUT));
  await ext.start();
}

export async function deactivate(): Promise<void> {
  await extension?.stop();
  extension = undefined;
}
