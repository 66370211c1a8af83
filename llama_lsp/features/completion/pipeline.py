"""The completion pipeline: cursor window -> token prompt -> generation -> post-processing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from typing import TYPE_CHECKING

from llama_lsp.config.settings import Settings
from llama_lsp.context.documents import DocumentSnapshot
from llama_lsp.context.redaction import Redacted, add_counts, cut_at_marker
from llama_lsp.context.syntax.languages import line_comment_for
from llama_lsp.context.window import CursorWindow, cursor_window
from llama_lsp.features.audit import ModelCall, Source, lines_of
from llama_lsp.features.completion.mode import choose_mode
from llama_lsp.features.completion.postprocess import CompletionMode, FilterContext, postprocess
from llama_lsp.features.completion.recent_results import RecentResults
from llama_lsp.features.completion.rerank import (
    Candidate,
    can_rerank,
    compare_fim_lines,
    next_code_line,
    rerank_fim_line,
    rerank_line,
)
from llama_lsp.features.guard import Privacy, audit, redacted
from llama_lsp.model.backend import (
    Backend,
    ContextFile,
    FimParts,
    GenerationRequest,
    GenerationResult,
    Prefilling,
)
from llama_lsp.model.prompts import fim_prompt, prefix_prompt

if TYPE_CHECKING:
    from llama_lsp.context.assembly import ContextChunk, ContextSource

# Share of the prompt budget that the suffix may take (FIM models only).
SUFFIX_BUDGET_SHARE = 0.25
# Lines dropped at a time from the start of a prefix that is over budget.
PREFIX_TRIM_STEP = 16
# Single-line completions never need more tokens than this.
SINGLE_LINE_MAX_TOKENS = 48
# Most lines of a multi-line completion from a FIM model (others: FilterContext's default).
FIM_MAX_LINES = 32
# Most tokens of the code before the cursor that score a FIM model's candidate lines.
SCORING_PREFIX_TOKENS = 1024


@dataclass(frozen=True)
class Suggestion:
    """Text to insert at the cursor (offsets are code-point offsets into the snapshot)."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class BuiltPrompt:
    """A prompt and how it was made."""

    tokens: list[int]
    parts: dict[str, int]
    """Token count of each part, in prompt order."""
    window: CursorWindow
    mode: CompletionMode
    fim: bool
    held_back: str = ""
    """Whitespace at the end of the prefix left out of the prompt (see ``restore_held_back``)."""
    context: tuple[ContextChunk, ...] = ()
    """Extra context chunks in the prompt, in prompt order."""
    context_sizes: tuple[int, ...] = ()
    """Token count of each context chunk (with its path header)."""
    fim_parts: FimParts | None = None
    """The same FIM prompt as text parts (for engines that lay out FIM prompts themselves)."""
    redactions: Mapping[str, int] = field(default_factory=dict)
    """Secret values replaced by markers in the prompt, by kind."""
    sources: tuple[Source, ...] = ()
    """The files and lines the prompt holds (for the audit log)."""


@dataclass(frozen=True)
class CompletionOutcome:
    """Suggestions plus what produced them (for logs, status and benchmarks)."""

    suggestions: list[Suggestion]
    prompt: BuiltPrompt | None = None
    generation: GenerationResult | None = None
    raw_text: str = ""
    skipped: str | None = None
    """Why no model call was made, if none was."""
    extra: dict[str, object] = field(default_factory=dict)


# Token lists of context chunk texts, kept between requests (chunks rarely change).
CHUNK_TOKEN_CACHE_SIZE = 256
# A quick prompt replaces a prompt with more than this many tokens to evaluate (~1 s on a CPU).
QUICK_MISSING_TOKENS = 256
# Lines before the cursor that a quick prompt keeps.
QUICK_TAIL_LINES = 6
# Documents whose chosen context chunks are pinned (least recently chosen go first).
PINNED_DOCUMENTS = 64


@dataclass(frozen=True)
class _Pin:
    """The stable context chunks chosen for a document's prompt, and for which window start,
    budget and file header."""

    key: tuple[object, ...]
    chosen: tuple[tuple[ContextChunk, list[int], Redacted, Source], ...]
# Redacted context chunk texts, kept between requests.
CHUNK_REDACTION_CACHE_SIZE = 256


class CompletionPipeline:
    """Builds prompts and completions for one backend. Call from the backend's thread.

    Between calls it keeps only caches (tokens, redactions, pinned context); everything about
    a request (the document, the settings, the context source) comes as arguments."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._chunk_tokens: dict[str, list[int]] = {}
        self._pins: dict[str, _Pin] = {}
        """The stable context chunks of each recent document's prompt (see _context_tokens)."""
        self._chunk_redactions: dict[tuple[str, bool, bool], Redacted] = {}
        self._recent_results = RecentResults()

    def _redacted_chunk(self, chunk: ContextChunk, privacy: Privacy) -> Redacted:
        key = (chunk.text, chunk.code, privacy.redact)
        found = self._chunk_redactions.get(key)
        if found is None:
            found = redacted(chunk.text, privacy, chunk.code)
            if len(self._chunk_redactions) >= CHUNK_REDACTION_CACHE_SIZE:
                self._chunk_redactions.pop(next(iter(self._chunk_redactions)), None)
            self._chunk_redactions[key] = found
        return found

    def _context_item(self, chunk: ContextChunk, privacy: Privacy, comment: str
                      ) -> tuple[ContextChunk, list[int], Redacted, Source]:
        """A candidate chunk as the prompt has it: text redacted, its tokens (with its path
        header), the redaction and where it comes from."""
        safe = self._redacted_chunk(chunk, privacy)
        source = lines_of(chunk.path, chunk.key[1], chunk.text, chunk.kind)
        if safe.found:
            chunk = dataclasses.replace(chunk, text=safe.text)
        return chunk, self._file_tokens(chunk.path, chunk.text, comment), safe, source

    def _tokens_of(self, text: str) -> list[int]:
        tokens = self._chunk_tokens.get(text)
        if tokens is None:
            tokens = self.backend.tokenize(text)
            if len(self._chunk_tokens) >= CHUNK_TOKEN_CACHE_SIZE:
                self._chunk_tokens.pop(next(iter(self._chunk_tokens)))
            self._chunk_tokens[text] = tokens
        return tokens

    def build_prompt(
        self,
        snapshot: DocumentSnapshot,
        offset: int,
        settings: Settings,
        context: ContextSource | None = None,
        mode: CompletionMode | None = None,
    ) -> BuiltPrompt:
        """Tokenize extra context (from ``context``, if any) and the cursor window within the
        context budget.

        Every text passes the redactor first (``redactSecrets``): the prompt changes, the
        document and the cursor do not.
        """
        info = self.backend.info
        privacy = Privacy.from_settings(settings)
        window = cursor_window(snapshot, offset, settings.prefix_lines, settings.suffix_lines)
        mode = mode or choose_mode(window, snapshot, offset)
        budget = info.context_size - self._max_tokens(mode, settings) - len(info.bos) - 8
        tokenize = self.backend.tokenize
        code = snapshot.language is not None
        prefix = redacted(window.prefix, privacy, code)
        suffix = redacted(window.suffix, privacy, code) if info.fim is not None \
            else Redacted("")
        suffix_tokens: list[int] = []
        suffix_text = suffix.text
        if info.fim is not None:
            all_suffix_tokens = tokenize(suffix.text)
            suffix_tokens = all_suffix_tokens[: int(budget * SUFFIX_BUDGET_SHARE)]
            if len(suffix_tokens) < len(all_suffix_tokens):
                suffix_text = self.backend.detokenize(suffix_tokens)
        # A prompt ending in blanks forces an unnatural token split (" json" is one token), so
        # they are left out and expected at the start of the generated text; the model writes
        # a whole indentation that is still being typed. An indentation as deep as the line
        # above or below stays, though: without it the model no longer knows the block the
        # line belongs to (on large files it then wrote a new top-level `def`).
        prefix_text = prefix.text
        held_back = ""
        if not _neighbour_indentation(window):
            prefix_text = prefix.text.rstrip(" \t")
            held_back = window.prefix[len(window.prefix.rstrip(" \t")):]
        prefix_tokens = tokenize(prefix_text)
        context_budget = min(settings.context_tokens, budget // 3)
        context_tokens, chunks, sizes, chunk_counts, chunk_sources = self._context_tokens(
            snapshot, window, settings, context, context_budget, privacy)
        budget -= len(context_tokens)
        while len(prefix_tokens) + len(suffix_tokens) > budget:
            lines = prefix_text.split("\n")
            if len(lines) > PREFIX_TRIM_STEP:
                prefix_text = "\n".join(lines[PREFIX_TRIM_STEP:])
                prefix_tokens = tokenize(prefix_text)
            else:
                prefix_tokens = prefix_tokens[len(prefix_tokens) + len(suffix_tokens) - budget:]
                prefix_text = self.backend.detokenize(prefix_tokens)
        parts = {"bos": len(info.bos), "context": len(context_tokens),
                 "prefix": len(prefix_tokens)}
        fim_parts = None
        if info.fim is not None:
            fim_parts = FimParts(prefix_text, suffix_text, tuple(
                ContextFile(chunk.path, chunk.text if chunk.text.endswith("\n")
                            else chunk.text + "\n") for chunk in chunks))
            tokens = fim_prompt(info.fim, prefix_tokens, suffix_tokens, info.bos)
            # Context goes right after <pre> (or before it, as repo-level files).
            at = len(info.bos) + (0 if self._repo_level else 1)
            tokens[at:at] = context_tokens
            parts.update({"suffix": len(suffix_tokens), "fim markers": 3})
        else:
            tokens = prefix_prompt([*context_tokens, *prefix_tokens], info.bos)
        path = context.path_of(snapshot) if context is not None else snapshot.uri
        trimmed = prefix.text.count("\n") - prefix_text.count("\n")  # lines cut off the top
        own = lines_of(path, window.first_line + trimmed,
                       prefix_text + (suffix_text if info.fim is not None else ""), "window")
        counts = add_counts(prefix.counts, suffix.counts, chunk_counts)
        return BuiltPrompt(tokens, parts, window, mode, info.fim is not None, held_back,
                           tuple(chunks), tuple(sizes), fim_parts, counts, (*chunk_sources, own))

    @property
    def _repo_level(self) -> bool:
        fim = self.backend.info.fim
        return fim is not None and fim.file_separator is not None

    def _context_tokens(
        self, snapshot: DocumentSnapshot, window: CursorWindow, settings: Settings,
        context: ContextSource | None, budget: int, privacy: Privacy,
    ) -> tuple[list[int], list[ContextChunk], list[int], dict[str, int], list[Source]]:
        """Tokens of the chunks that fit ``budget`` (with path headers; stable chunks first and
        the callee's definition last), the chunks in that order (their text redacted), and each
        one's token count, the redaction counts and where the chunks come from.

        The stable chunks chosen for a document (none, too) are pinned while its cursor window
        starts on the same line: edits elsewhere (another file, a definition above) and files
        opened meanwhile do not change the start of this document's prompt until the window
        moves (every ``WINDOW_START_QUANTUM``
        lines), which is when the prefix is evaluated again anyway."""
        if context is None or not settings.cross_file_context or budget <= 0:
            return [], [], [], {}, []
        cursor_line = window.first_line + window.prefix.count("\n")
        window_lines = (window.first_line, cursor_line + window.suffix.count("\n"))
        candidates = context.gather(snapshot, cursor_line, window_lines, window.line_before)
        comment = line_comment_for(snapshot.language_id) or "//"
        own_path = context.path_of(snapshot)
        header = self._file_tokens(own_path, None, comment)
        lead = self._repository_tokens(context.repository_name(snapshot))
        key = (window.first_line, budget, tuple(lead), tuple(header), privacy.redact)
        if not candidates:
            # No context is pinned too: a file opened later does not change this document's
            # prompt (and void its saved KV state) before the window moves.
            self._pin(snapshot.uri, _Pin(key, ()))
            return [], [], [], {}, []
        pin = self._pins.get(snapshot.uri)
        chosen: list[tuple[ContextChunk, list[int], Redacted, Source]] | None = None
        allowed = {chunk.path for chunk in candidates}
        if pin is not None and pin.key == key and all(
                item[0].path in allowed for item in pin.chosen):
            # The stable chunks stay as they were while the window start does, so the KV
            # cache keeps serving this file's prompt when other files change meanwhile. A
            # file that is no longer a candidate (excluded since, or closed) ends the pin.
            chosen = list(pin.chosen)
            used = len(lead) + len(header) + sum(len(item[1]) for item in chosen)
            for chunk in (chunk for chunk in candidates if chunk.at_cursor):
                item = self._context_item(chunk, privacy, comment)
                if used + len(item[1]) > budget:
                    chosen = None  # no room for the callee: choose afresh
                    break
                used += len(item[1])
                chosen.append(item)
        if chosen is None:
            # Chosen by priority; laid out stable first and the callee's definition last.
            used = len(lead) + len(header)
            chosen = []
            for chunk in candidates:
                item = self._context_item(chunk, privacy, comment)
                if used + len(item[1]) <= budget:
                    used += len(item[1])
                    chosen.append(item)
            self._pin(snapshot.uri, _Pin(key, tuple(
                item for item in chosen if not item[0].at_cursor)))
        chosen.sort(key=lambda item: item[0].at_cursor)
        if not chosen:
            return [], [], [], {}, []
        tokens = [token for _, piece, _, _ in chosen for token in piece]
        return ([*lead, *tokens, *header], [chunk for chunk, _, _, _ in chosen],
                [len(piece) for _, piece, _, _ in chosen],
                add_counts(*(safe.counts for _, _, safe, _ in chosen)),
                [source for _, _, _, source in chosen])

    def _pin(self, uri: str, pin: _Pin) -> None:
        self._pins.pop(uri, None)
        if len(self._pins) >= PINNED_DOCUMENTS:
            self._pins.pop(next(iter(self._pins)))
        self._pins[uri] = pin

    def _repository_tokens(self, name: str | None) -> list[int]:
        """``<|repo_name|>name`` and a line break, which opens a repo-level prompt, when the
        model has the token and the document is in a workspace folder; else nothing."""
        fim = self.backend.info.fim
        if not name or not self._repo_level or fim is None or fim.repo_name is None:
            return []
        return [fim.repo_name, *self._tokens_of(f"{name}\n")]

    def _file_tokens(self, path: str, text: str | None, comment: str) -> list[int]:
        """A context file's tokens: path header and text (None: the cursor file's header)."""
        fim = self.backend.info.fim
        if self._repo_level:
            assert fim is not None and fim.file_separator is not None
            body = f"{path}\n" if text is None else f"{path}\n{text}\n"
            return [fim.file_separator, *self._tokens_of(body)]
        return self._tokens_of(f"{comment} {path}\n" if text is None
                               else f"{comment} {path}\n{text}\n\n")

    @staticmethod
    def _max_tokens(mode: CompletionMode, settings: Settings) -> int:
        if mode is CompletionMode.SINGLE_LINE:
            return min(settings.max_tokens, SINGLE_LINE_MAX_TOKENS)
        return settings.max_tokens

    def complete(
        self,
        snapshot: DocumentSnapshot,
        offset: int,
        settings: Settings,
        context: ContextSource | None = None,
        is_cancelled: Callable[[], bool] = lambda: False,
        mode: CompletionMode | None = None,
        quick: bool = False,
        feature: str = "completion",
    ) -> CompletionOutcome:
        """Suggestions for the cursor at code-point ``offset`` of ``snapshot``: always whole
        (the line or block is done) unless cancelled, which gives none. ``context`` adds code
        from outside the window (None: the window alone).

        ``quick``: when more than ``QUICK_MISSING_TOKENS`` of the prompt are not in the KV
        cache yet, complete from a shortened prompt instead (see ``_quick``);
        ``extra["quick"]`` then says so, and the caller warms the full prompt.

        A model call is appended to the audit log (``auditLog``) as ``feature``.
        """
        if snapshot.problem:
            return CompletionOutcome([], skipped=snapshot.problem)
        if context is not None and (refusal := context.refusal(snapshot)) is not None:
            return CompletionOutcome([], skipped=f"no completions in a {refusal}")
        if not settings.language_enabled(snapshot.language_id):
            return CompletionOutcome([], skipped=f"completions are disabled for "
                                                 f"{snapshot.language_id}")
        prompt = self.build_prompt(snapshot, offset, settings, context, mode)
        full_prompt_tokens = len(prompt.tokens)
        if quick:
            prompt = self._quick(prompt, snapshot)
        callee = None
        if context is not None and settings.cross_file_context and \
                prompt.mode is CompletionMode.SINGLE_LINE:
            callee = context.callee_parameters(snapshot, prompt.window.line_before)
        filters = FilterContext(
            mode=prompt.mode,
            language_id=snapshot.language_id,
            line_before=prompt.window.line_before,
            line_after=prompt.window.line_after,
            suffix=prompt.window.suffix,
            callee=callee,
            # A FIM model ends the middle itself, however long the hole: only runaways are cut.
            **({"max_lines": FIM_MAX_LINES} if prompt.fim else {}),
        )
        request = GenerationRequest(
            prompt=prompt.tokens,
            max_tokens=self._max_tokens(prompt.mode, settings),
            temperature=settings.temperature,
            should_stop=_stop_rule(filters, prompt.held_back),
            fim_parts=prompt.fim_parts,
            # A remote engine stops by itself at a line break instead of generating on
            # until it notices the closed stream.
            stop=("\n",) if prompt.mode is CompletionMode.SINGLE_LINE else (),
            slot=snapshot.uri,
        )
        # A single-line stop rule reads the text only, so an identical prompt ends the same way.
        single_line = prompt.mode is CompletionMode.SINGLE_LINE
        result = self._recent_results.get(request) if single_line else None
        if result is None:
            result = self.backend.generate(request, is_cancelled)
            self._audit(prompt, result, settings, feature)
            if single_line:
                self._recent_results.put(request, result)
        if result.stop_reason == "cancelled":
            return CompletionOutcome([], prompt, result, result.text)
        generated = result.text
        candidates = self._compare_lines(prompt, request, generated, filters, settings,
                                         snapshot.language is not None, is_cancelled)
        if candidates:
            generated = max(candidates, key=lambda candidate: candidate.score).text
        # A marker the model copied is never inserted into the document.
        text = postprocess(restore_held_back(cut_at_marker(generated), prompt.held_back),
                           filters)
        suggestions = [Suggestion(text, offset, offset)] if text else []
        extra: dict[str, object] = {}
        if len(prompt.tokens) != full_prompt_tokens:
            extra["quick"] = True
        if candidates:
            extra["candidates"] = candidates
        return CompletionOutcome(suggestions, prompt, result, generated, extra=extra)

    def _compare_lines(
        self, prompt: BuiltPrompt, request: GenerationRequest, generated: str,
        filters: FilterContext, settings: Settings, code: bool, is_cancelled: Callable[[], bool],
    ) -> list[Candidate]:
        """Single-line candidates with scores when the settings and the backend compare any
        (the caller shows the best one), else none: a FIM model's invoked request, or its
        greedy line that is empty or repeats the code after the cursor (``compare_fim_lines``,
        with ``fimRepeatSamples``; ``rerank_fim_line`` when that is 0), a prefix-only model's
        reranking (``rerank_line``)."""
        if prompt.mode is not CompletionMode.SINGLE_LINE or not can_rerank(self.backend):
            return []

        def make_request(tokens: list[int]) -> GenerationRequest:
            return dataclasses.replace(request, prompt=tokens)

        # The line the candidates are scored against enters the model too: redacted.
        safe_suffix = redacted(prompt.window.suffix, Privacy.from_settings(settings), code).text
        following = next_code_line(safe_suffix)
        comment = line_comment_for(filters.language_id)
        fim, parts = self.backend.info.fim, prompt.fim_parts
        if fim is None or parts is None:
            if prompt.fim or not following or (settings.rerank_candidates <= 1
                                                and settings.rerank_samples <= 0):
                return []
            return rerank_line(self.backend, prompt.tokens, generated, make_request, following,
                               settings.rerank_candidates, is_cancelled,
                               samples=settings.rerank_samples, comment=comment)
        repeated = frozenset(line.strip() for line in parts.suffix.split("\n") if line.strip())
        # A cursor before code: the suggestion goes above that code, which follows it.
        rest_of_line = safe_suffix.split("\n", 1)[0]
        greedy_line = generated.split("\n", 1)[0].strip()
        after_blanks = parts.prefix.endswith((" ", "\t"))  # an indentation kept in the prompt
        samples = settings.rerank_samples
        if not greedy_line or greedy_line in repeated:
            samples = max(samples, settings.fim_repeat_samples)
        if samples > 0 and (rest_of_line.strip() or following) and parts.prefix.strip():
            scoring = [*self.backend.info.bos,
                       *self.backend.tokenize(parts.prefix)[-SCORING_PREFIX_TOKENS:]]
            return compare_fim_lines(
                self.backend, prompt.tokens, generated, make_request, scoring,
                rest_of_line if rest_of_line.strip() else following, repeated,
                settings.fim_candidates, samples, is_cancelled, after_blanks, comment)
        if settings.fim_candidates > 1 and fim.end is not None:
            return rerank_fim_line(self.backend, prompt.tokens, generated, make_request,
                                   self._middle_end(filters), repeated, settings.fim_candidates,
                                   is_cancelled, after_blanks)
        return []

    def _middle_end(self, filters: FilterContext) -> list[int]:
        """What follows a single-line fill when it is the whole middle: a line break when the
        cursor sits before the code of its line (the line goes above it), then the model's
        end-of-middle token."""
        fim = self.backend.info.fim
        assert fim is not None and fim.end is not None
        newline = not filters.line_before.strip() and bool(filters.line_after.strip())
        return [*(self.backend.tokenize("\n") if newline else []), fim.end]

    def _quick(self, prompt: BuiltPrompt, snapshot: DocumentSnapshot) -> BuiltPrompt:
        """``prompt``, or, when more than ``QUICK_MISSING_TOKENS`` of it would have to be
        evaluated, a shortened one: what the KV cache holds of it (up to a line end), a
        comment that marks the gap, and the prompt's last ``QUICK_TAIL_LINES`` lines (its own
        tokens, so exactly what the full prompt says there). Prefix-only prompts of engines
        that keep KV state only."""
        backend = self.backend
        if prompt.fim or not isinstance(backend, Prefilling):
            return prompt
        tokens = prompt.tokens
        cached = backend.cached_prefix(tokens, snapshot.uri)
        if len(tokens) - cached <= QUICK_MISSING_TOKENS:
            return prompt
        start = self._line_start(tokens, len(tokens), QUICK_TAIL_LINES,
                                 len(tokens) - prompt.parts.get("prefix", 0))
        cut = self._line_start(tokens, cached, 1, len(self.backend.info.bos))
        if start <= cut:
            return prompt
        comment = line_comment_for(snapshot.language_id) or "//"
        gap = self.backend.tokenize(f"{comment} ...\n") if cut > len(self.backend.info.bos) \
            else []  # nothing cached: the last lines alone
        return dataclasses.replace(prompt, tokens=[*tokens[:cut], *gap, *tokens[start:]])

    def _line_start(self, tokens: list[int], end: int, lines: int, floor: int) -> int:
        """Index of the token that starts the ``lines``-th line before ``end`` (a token just
        after one that ends in a line break), not below ``floor``."""
        at = end
        while at > floor:
            text = self.backend.detokenize([tokens[at - 1]])
            if "\n" in text:
                lines -= 1
                if lines == 0:
                    return at if text.endswith("\n") else at - 1
            at -= 1
        return floor

    def warm(self, snapshot: DocumentSnapshot, offset: int, settings: Settings,
             context: ContextSource | None = None,
             is_cancelled: Callable[[], bool] = lambda: False) -> int:
        """Evaluate ahead of need the prompt for a cursor at ``offset`` (the start of a line:
        context and the prefix up to it, the part that stays while the user types on that
        line); stops early once ``is_cancelled``. Returns the tokens evaluated (0 for an
        engine that cannot, or a document that gets no completions)."""
        backend = self.backend
        if not isinstance(backend, Prefilling) or snapshot.problem or \
                not settings.language_enabled(snapshot.language_id):
            return 0
        if context is not None and context.refusal(snapshot):
            return 0
        prompt = self.build_prompt(snapshot, offset, settings, context)
        return backend.prefill(prompt.tokens, snapshot.uri, is_cancelled)

    def _audit(self, prompt: BuiltPrompt, result: GenerationResult, settings: Settings,
               feature: str) -> None:
        privacy = Privacy.from_settings(settings)
        if privacy.audit.path is None:
            return
        text = self.backend.detokenize(prompt.tokens)
        audit(self.backend, privacy, ModelCall(
            feature, prompt.sources, prompt.redactions, len(prompt.tokens), result.n_generated,
            text, {"mode": prompt.mode.value}))


def _neighbour_indentation(window: CursorWindow) -> bool:
    """True when the cursor's line holds only blanks, as many as the indentation of the
    nearest code line above or below it."""
    blanks = window.line_before
    if not blanks or blanks.strip() or window.line_after.strip():
        return False
    above = next((line for line in reversed(window.prefix.split("\n")[:-1]) if line.strip()), "")
    below = next((line for line in window.suffix.split("\n")[1:] if line.strip()), "")
    return any(line[:len(line) - len(line.lstrip())] == blanks for line in (above, below) if line)


def restore_held_back(generated: str, held_back: str) -> str:
    """The generated text as seen from the cursor, given the blanks left out of the prompt."""
    if not held_back:
        return generated
    if generated.startswith(held_back):
        return generated[len(held_back):]
    first, newline, rest = generated.partition("\n")
    return first.lstrip(" \t") + newline + rest


def _stop_rule(context: FilterContext, held_back: str) -> Callable[[str], bool]:
    """Stop generating once the post-processed text can no longer grow."""
    if context.mode is CompletionMode.SINGLE_LINE:
        return lambda text: "\n" in text

    def multi_line_done(generated: str) -> bool:
        text = restore_held_back(generated, held_back)
        if text.count("\n") >= context.max_lines:
            return True
        written = text.rstrip()
        if not written.strip():
            return False
        kept = postprocess(text, context)
        return len(kept.split("\n")) < len(written.split("\n"))

    return multi_line_done
