"""A review run: files -> skips and units -> model answers (cached) -> filtered report."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from llama_lsp.context.syntax.languages import LanguageSpec, spec_for
from llama_lsp.context.redaction import Redacted
from llama_lsp.features.audit import ModelCall, Source
from llama_lsp.features.guard import Privacy, audit, redacted
from llama_lsp.features.review.cache import AnswerCache, answer_key, model_identity
from llama_lsp.features.review.config import ReviewConfig
from llama_lsp.features.review.diff import (
    FileDiff,
    matches_new_side,
    new_side_size,
    new_side_text,
)
from llama_lsp.features.review.findings import AnswerError, apply_caps, parse_answer, select
from llama_lsp.features.review.progress import NoProgress, Progress
from llama_lsp.features.review.prompt import PROMPT_VERSION, review_prompt, schema_text
from llama_lsp.features.review.report import ReviewReport, UnitNote
from llama_lsp.features.review.skips import Skip, SkipRules
from llama_lsp.features.review.units import ReviewUnit, build_units, split_lines
from llama_lsp.model.backend import Backend, GenerationRequest, ModelError

SEED = 1234
"""Fixed sampling seed (with temperature 0 the answer is greedy anyway)."""


@dataclass(frozen=True)
class _Planned:
    unit: ReviewUnit
    added: frozenset[int]


@dataclass(frozen=True)
class _Answer:
    text: str | None
    seconds: float
    cached: bool
    error: str | None = None


def _note(unit: ReviewUnit, reason: str) -> UnitNote:
    return UnitNote(unit.path, unit.title, unit.start_line, unit.end_line, reason)


class Reviewer:
    """Reviews files of a diff with one backend; the same inputs give the same report."""

    def __init__(self, backend: Backend | Callable[[], Backend], config: ReviewConfig,
                 cache: AnswerCache | None = None, progress: Progress | None = None,
                 privacy: Privacy | None = None) -> None:
        """``backend`` may be a loader, called only when there is something to review.
        Prompts are always redacted; ``privacy`` says where model calls are audited."""
        self._backend = None if callable(backend) else backend
        self._load = backend
        self.config = config
        self.cache = cache
        self.progress = progress or NoProgress()
        self.schema = schema_text()
        self.rules = SkipRules(config)
        self.privacy = Privacy(True, privacy.audit) if privacy is not None else Privacy()
        self._settings = f"{PROMPT_VERSION}|{config.max_tokens}|{SEED}|{self.schema}"

    @property
    def backend(self) -> Backend:
        """The model, loaded on first use."""
        if self._backend is None:
            self._backend = self._load()  # type: ignore[operator]
        return self._backend  # type: ignore[return-value]

    @property
    def loaded(self) -> bool:
        """True once the model has been loaded (or was given loaded)."""
        return self._backend is not None

    def plan(self, files: list[FileDiff], read: Callable[[str], bytes | None],
             size_of: Callable[[str], int | None], report: ReviewReport) -> list[_Planned]:
        """Skip what is not reviewed (with reasons) and build the units of the rest."""
        planned: list[_Planned] = []
        for file in files:
            spec = spec_for(None, file.path)
            reason = self.rules.by_diff(file) or self.rules.by_language(spec is not None)
            text = None
            if reason is None:
                text, reason, spec = self._new_text(file, read, size_of, spec)
            if reason is not None or text is None:
                report.skipped_files.append(Skip(file.path, reason or "not readable"))
                continue
            added = frozenset(file.added_lines)
            units = build_units(file.path, text, set(added), spec, self.config.max_unit_lines)
            if not units:
                report.skipped_files.append(Skip(file.path, "no added lines in the new file"))
                continue
            report.files_reviewed += 1
            planned += [_Planned(unit, added) for unit in units]
        report.units_total = len(planned)
        for item in planned[self.config.max_units:]:
            report.skipped_units.append(_note(
                item.unit, f"over the limit of {self.config.max_units} units per run"))
        return planned[:self.config.max_units]

    def _new_text(self, file: FileDiff, read: Callable[[str], bytes | None],
                  size_of: Callable[[str], int | None], spec: LanguageSpec | None
                  ) -> tuple[str | None, str | None, LanguageSpec | None]:
        """(new text, skip reason, grammar) of a changed file.

        When the new side cannot be read, or does not match the diff (a ``--diff`` of another
        tree), the text is rebuilt from the hunks alone and reviewed as plain text.
        """
        size = size_of(file.path)
        if size is not None and (reason := self.rules.by_size(size)):
            return None, reason, spec  # too large: never read
        content = read(file.path) if size is not None else None
        if content is not None:
            if reason := self.rules.by_content(content):
                return None, reason, spec
            text = content.decode("utf-8", "replace")
            if matches_new_side(file, split_lines(text)):
                return text, None, spec
        if reason := self.rules.by_size(new_side_size(file)):  # checked before it is built
            return None, reason, spec
        return new_side_text(file), self.rules.by_language(False), None

    def _prompt_tokens(self, unit: ReviewUnit) -> tuple[list[int], Redacted, ReviewUnit]:
        """Prompt tokens for ``unit`` (redacted); callees are dropped first when the context is
        short."""
        limit = self.backend.info.context_size - self.config.max_tokens
        for candidate in (unit, ReviewUnit(unit.path, unit.language, unit.title, unit.start_line,
                                           unit.lines, unit.changed, (), unit.truncated)):
            text = redacted(review_prompt(candidate, self.config), self.privacy,
                            unit.language != "plaintext")
            tokens = [*self.backend.info.bos, *self.backend.tokenize(text.text)]
            if len(tokens) <= limit:
                return tokens, text, candidate
        raise ModelError(f"the prompt ({len(tokens)} tokens) does not fit the model's context "
                         f"of {self.backend.info.context_size} tokens; lower max-unit-lines")

    def _answer(self, unit: ReviewUnit) -> _Answer:
        started = time.perf_counter()
        try:
            tokens, prompt, shown = self._prompt_tokens(unit)
        except ModelError as error:
            return _Answer(None, 0.0, False, str(error))
        text = prompt.text
        key = answer_key(text, model_identity(self.backend.info), self._settings)
        if self.cache is not None and (cached := self.cache.get(key)) is not None:
            return _Answer(cached, time.perf_counter() - started, True)
        request = GenerationRequest(tokens, max_tokens=self.config.max_tokens, temperature=0.0,
                                    seed=SEED, json_schema=self.schema)
        try:
            result = self.backend.generate(request, lambda: False)
        except ModelError as error:
            return _Answer(None, time.perf_counter() - started, False, str(error))
        self._audit(shown, tokens, prompt, result.n_generated)
        if result.stop_reason == "length":
            return _Answer(None, time.perf_counter() - started, False,
                           f"the answer did not finish within {self.config.max_tokens} tokens")
        if self.cache is not None:
            self.cache.put(key, result.text)
        return _Answer(result.text, time.perf_counter() - started, False)

    def _audit(self, unit: ReviewUnit, tokens: list[int], prompt: Redacted,
               generated: int) -> None:
        """One audit line for the model call on ``unit`` as shown (callees may have been
        dropped to fit); the prompt is already redacted."""
        if self.privacy.audit.path is None:
            return
        sources = [Source(unit.path, c.start_line, c.start_line + len(c.lines) - 1, "callee")
                   for c in unit.callees]
        sources.append(Source(unit.path, unit.start_line,
                              unit.start_line + len(unit.lines) - 1, "change"))
        audit(self.backend, self.privacy, ModelCall("review", tuple(sources), prompt.counts,
                                                    len(tokens), generated, prompt.text))

    def _answers(self, planned: list[_Planned]) -> Iterator[_Answer]:
        """Answers in unit order; in parallel only for backends that declare it safe."""
        deadline = None if self.config.max_seconds is None else \
            time.monotonic() + self.config.max_seconds

        def answer(item: _Planned) -> _Answer:
            if deadline is not None and time.monotonic() > deadline:
                return _Answer(None, 0.0, False,
                               f"over the time budget of {self.config.max_seconds} s")
            return self._answer(item.unit)

        if self.config.jobs > 1 and self.backend.info.parallel_safe:  # remote engines only
            with ThreadPoolExecutor(self.config.jobs) as pool:
                yield from pool.map(answer, planned)
        else:
            for item in planned:
                yield answer(item)

    def review(self, files: list[FileDiff], read: Callable[[str], bytes | None],
               size_of: Callable[[str], int | None], source: str = "") -> ReviewReport:
        """Review ``files``; ``read``/``size_of`` give a path's new content and size.

        Raises :class:`ModelError` when the model is needed and cannot be loaded.
        """
        started = time.perf_counter()
        report = ReviewReport(source=source)
        planned = self.plan(files, read, size_of, report)
        report.model = self.backend.info.name if planned or self.loaded else "not loaded"
        found = []
        self.progress.start(len(planned))
        try:
            for item, answer in zip(planned, self._answers(planned)):
                unit = item.unit
                self.progress.done(f"{unit.path}: {unit.title}", answer.seconds, answer.cached)
                if unit.truncated:
                    report.truncated_units.append(_note(unit, unit.truncated))
                if answer.text is None:
                    report.skipped_units.append(_note(unit, answer.error or "no answer"))
                    continue
                try:
                    raw = parse_answer(answer.text)
                except AnswerError as error:
                    report.skipped_units.append(_note(unit, str(error)))
                    continue
                report.units_reviewed += 1
                if answer.cached:
                    report.units_cached += 1
                else:
                    report.unit_seconds.append(answer.seconds)
                report.reviewed_units.append(_note(
                    unit, "cached" if answer.cached else f"reviewed in {answer.seconds:.1f} s"))
                outcome = select(unit, raw, item.added, self.config)
                found += outcome.findings
                report.notes += outcome.notes
                for reason, count in outcome.dropped.items():
                    report.dropped[reason] = report.dropped.get(reason, 0) + count
        finally:
            self.progress.close()
        report.findings, report.capped = apply_caps(
            found, self.config.max_findings_per_file, self.config.max_findings)
        report.notes.sort(key=lambda f: (f.path, f.line))
        report.seconds = time.perf_counter() - started
        return report
