import { strict as assert } from "node:assert";
import { test } from "node:test";
import { AutomaticRetrigger, becameReady, hasItems, parseSuggestionReady, Place, ReadyWaiters, samePlace } from "../recover";

const place = (overrides: Partial<Place> = {}): Place => ({
  uri: "file:///w/a.py", version: 7, position: { line: 3, character: 11 }, selectionEmpty: true, ...overrides,
});

test("the model becoming ready is a retrigger moment; later ready statuses are not", () => {
  assert.equal(becameReady(undefined, { state: "ready" }), true);
  assert.equal(becameReady({ state: "loading" }, { state: "ready", detail: "m" }), true);
  assert.equal(becameReady({ state: "ready" }, { state: "ready", latencyMs: 40 }), false);
  assert.equal(becameReady({ state: "ready" }, { state: "loading" }), false);
  assert.equal(becameReady({ state: "failed" }, { state: "failed" }), false);
});

test("suggestionReady params are checked for their shape", () => {
  const params = { uri: "file:///w/a.py", version: 7, position: { line: 3, character: 11 } };
  assert.deepEqual(parseSuggestionReady(params), params);
  assert.equal(parseSuggestionReady(undefined), undefined);
  assert.equal(parseSuggestionReady({ ...params, version: "7" }), undefined);
  assert.equal(parseSuggestionReady({ ...params, position: { line: 3 } }), undefined);
  assert.equal(parseSuggestionReady({ version: 7, position: params.position }), undefined);
});

test("a suggestion is asked for again only at the same document version and cursor", () => {
  const ready = parseSuggestionReady({ uri: "file:///w/a.py", version: 7, position: { line: 3, character: 11 } })!;
  assert.equal(samePlace(ready, place()), true);
  assert.equal(samePlace(ready, place({ version: 8 })), false, "typed since");
  assert.equal(samePlace(ready, place({ position: { line: 3, character: 12 } })), false, "cursor moved");
  assert.equal(samePlace(ready, place({ uri: "file:///w/b.py" })), false, "another file");
  assert.equal(samePlace(ready, place({ selectionEmpty: false })), false, "text selected");
  assert.equal(samePlace(ready, undefined), false, "no editor");
});

test("an armed retrigger turns the next request at that place automatic, once", () => {
  let now = 1000;
  const retrigger = new AutomaticRetrigger(2000, () => now);
  assert.equal(retrigger.take(place()), false, "nothing armed");
  retrigger.arm(place());
  assert.equal(retrigger.take(place({ version: 8 })), false, "another place keeps it armed");
  assert.equal(retrigger.take(place()), true);
  assert.equal(retrigger.take(place()), false, "taken once");
  retrigger.arm(place());
  now += 2001;
  assert.equal(retrigger.take(place()), false, "expired");
});

test("a request waiting at a place wakes on suggestionReady there, not elsewhere", async () => {
  const waiters = new ReadyWaiters();
  const waiting = waiters.wait(place(), 5000);
  assert.equal(waiters.notify({ uri: "file:///w/a.py", version: 8, position: { line: 3, character: 11 } }), false);
  assert.equal(waiters.size, 1);
  assert.equal(waiters.notify({ uri: "file:///w/a.py", version: 7, position: { line: 3, character: 11 } }), true);
  assert.equal(await waiting, true);
  assert.equal(waiters.size, 0);
});

test("a waiting request gives up on timeout and on cancellation", async () => {
  const waiters = new ReadyWaiters();
  assert.equal(await waiters.wait(place(), 10), false);
  let cancel: (() => void) | undefined;
  const waiting = waiters.wait(place(), 5000, (callback) => { cancel = callback; });
  cancel?.();
  assert.equal(await waiting, false);
  assert.equal(waiters.size, 0);
});

test("empty and non-empty inline completion results", () => {
  assert.equal(hasItems(undefined), false);
  assert.equal(hasItems([]), false);
  assert.equal(hasItems({ items: [] }), false);
  assert.equal(hasItems({ items: [{ insertText: "x" }] }), true);
  assert.equal(hasItems([{ insertText: "x" }]), true);
});
