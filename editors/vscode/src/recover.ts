/**
 * When the extension asks the server again for an inline suggestion by itself: pure logic, no
 * vscode import (unit tested). Two moments: the model became ready (what was typed while it
 * loaded got nothing), and `$/llama-lsp/suggestionReady` (the server finished in the background a
 * suggestion it could not give within its time budget).
 */
import type { ServerStatus } from "./status";

export const SUGGESTION_READY_NOTIFICATION = "$/llama-lsp/suggestionReady";

export interface ProtocolPosition {
  line: number;
  character: number;
}

/** `$/llama-lsp/suggestionReady` params: where the server cached a finished suggestion. */
export interface SuggestionReady {
  uri: string;
  version: number;
  position: ProtocolPosition;
}

/** The focused editor's document and cursor, in the protocol's terms. */
export interface Place {
  uri: string;
  version: number;
  position: ProtocolPosition;
  /** False when text is selected: no inline suggestion is asked for then. */
  selectionEmpty: boolean;
}

/** True when this status is the model becoming ready (first load, or again after a reload). */
export function becameReady(previous: ServerStatus | undefined, next: ServerStatus): boolean {
  return next.state === "ready" && previous?.state !== "ready";
}

function isPosition(value: unknown): value is ProtocolPosition {
  const position = value as ProtocolPosition | undefined;
  return typeof position === "object" && position !== null &&
    Number.isInteger(position.line) && Number.isInteger(position.character);
}

/** The params of `$/llama-lsp/suggestionReady` when they have its shape, else undefined. */
export function parseSuggestionReady(params: unknown): SuggestionReady | undefined {
  const value = params as Partial<SuggestionReady> | undefined;
  if (typeof value !== "object" || value === null || typeof value.uri !== "string" ||
    !Number.isInteger(value.version) || !isPosition(value.position)) {
    return undefined;
  }
  return { uri: value.uri, version: value.version as number, position: value.position };
}

/** True when `place` is the same document version and cursor position as `target`. */
export function samePlace(target: Omit<Place, "selectionEmpty">, place: Place | undefined): boolean {
  return place !== undefined && place.selectionEmpty && place.uri === target.uri &&
    place.version === target.version && place.position.line === target.position.line &&
    place.position.character === target.position.character;
}

/**
 * VS Code's trigger command asks as if the user invoked it (the server then compares more
 * candidates, which takes seconds on a CPU). The extension arms this before triggering; the next
 * request at that place within `ttlMs` is then sent as automatic, like one from typing.
 */
export class AutomaticRetrigger {
  private armed: { place: Place; until: number } | undefined;

  constructor(private readonly ttlMs = 2000, private readonly now: () => number = Date.now) {}

  arm(place: Place): void {
    this.armed = { place, until: this.now() + this.ttlMs };
  }

  /** True (once) when a request at `place` is the one armed for. */
  take(place: Place | undefined): boolean {
    const armed = this.armed;
    if (!armed || this.now() > armed.until) {
      this.armed = undefined;
      return false;
    }
    if (!place || !samePlace(armed.place, place)) {
      return false;
    }
    this.armed = undefined;
    return true;
  }
}

/**
 * Requests whose answer was empty, waiting for `$/llama-lsp/suggestionReady` at their place: the
 * server may still be finishing that suggestion in the background. VS Code asks its provider only
 * once per document version and position, so the request itself waits and asks again, instead of
 * a trigger that VS Code would answer from the empty result it already has.
 */
export class ReadyWaiters {
  private readonly waiting = new Set<{ place: Place; done: (ready: boolean) => void }>();

  /** True when `suggestionReady` for `place` comes within `timeoutMs`; false on timeout or cancel. */
  wait(place: Place, timeoutMs: number, onCancel?: (cancel: () => void) => void): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter = {
        place,
        done: (ready: boolean) => {
          clearTimeout(timer);
          this.waiting.delete(waiter);
          resolve(ready);
        },
      };
      const timer = setTimeout(() => waiter.done(false), timeoutMs);
      this.waiting.add(waiter);
      onCancel?.(() => waiter.done(false));
    });
  }

  /** Wake the requests waiting at the place `ready` names; true when there was one. */
  notify(ready: SuggestionReady): boolean {
    let woke = false;
    for (const waiter of [...this.waiting]) {
      if (samePlace(ready, waiter.place)) {
        waiter.done(true);
        woke = true;
      }
    }
    return woke;
  }

  get size(): number {
    return this.waiting.size;
  }
}

/** True when an inline completion result (list or array) has at least one item. */
export function hasItems(result: unknown): boolean {
  if (Array.isArray(result)) {
    return result.length > 0;
  }
  const items = (result as { items?: unknown[] } | null | undefined)?.items;
  return Array.isArray(items) && items.length > 0;
}
