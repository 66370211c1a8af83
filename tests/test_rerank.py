"""Single-line reranking on tiny real GGUF models, without and with FIM tokens (no mocks)."""

from __future__ import annotations

import dataclasses

import pytest
from tiny_models import TinyModelInfo

from llama_lsp.config.settings import Settings, resolve_settings
from llama_lsp.context.documents import Document
from llama_lsp.features.completion.pipeline import CompletionPipeline
from llama_lsp.features.completion.postprocess.context import CompletionMode
from llama_lsp.features.completion.rerank import (
    CONTINUATION_MAX_TOKENS,
    FIM_GREEDY_BONUS,
    compare_fim_lines,
    rerank_fim_line,
    rerank_line,
)
from llama_lsp.model.backend import GenerationRequest
from llama_lsp.model.embedded import EmbeddedBackend
from llama_lsp.model.prompts import fim_prompt

SETTINGS = Settings(context_size=512, max_tokens=16, threads=1)
PREFIX = "def add(a, b):\n    "
FOLLOWING = "    return total"


@pytest.fixture(scope="module")
def backend(tiny_plain_model: TinyModelInfo) -> EmbeddedBackend:
    loaded = EmbeddedBackend.load(tiny_plain_model.path, SETTINGS)
    yield loaded
    loaded.close()


def _request(tokens: list[int]) -> GenerationRequest:
    return GenerationRequest(tokens, 8, should_stop=lambda text: "\n" in text, stop=("\n",))


def _rerank(backend: EmbeddedBackend, count: int, samples: int,
            is_cancelled=lambda: False):  # noqa: ANN001, ANN202
    prompt = backend.tokenize(PREFIX)
    greedy = backend.generate(_request(prompt), lambda: False).text
    return greedy, rerank_line(backend, prompt, greedy, _request, FOLLOWING, count,
                               is_cancelled, samples=samples)


def _first_lines(candidates) -> list[str]:  # noqa: ANN001
    return [candidate.text.split("\n", 1)[0] for candidate in candidates]


def test_samples_add_distinct_candidates_after_the_greedy_line(
        backend: EmbeddedBackend) -> None:
    greedy, candidates = _rerank(backend, count=1, samples=6)
    assert candidates[0].text == greedy
    lines = _first_lines(candidates)
    assert len(lines) == len(set(lines)) and 2 <= len(lines) <= 7
    assert all(line.strip() for line in lines[1:])


def test_sampled_candidates_are_repeatable(backend: EmbeddedBackend) -> None:
    assert _rerank(backend, count=1, samples=4) == _rerank(backend, count=1, samples=4)


def test_score_is_log_probability_of_line_then_following_line(
        backend: EmbeddedBackend) -> None:
    _, candidates = _rerank(backend, count=3, samples=2)
    prompt = backend.tokenize(PREFIX)
    continuation = backend.tokenize("\n" + FOLLOWING)[:CONTINUATION_MAX_TOKENS]
    for candidate in candidates:
        line = candidate.text.split("\n", 1)[0]
        expected = backend.score_continuation(prompt, [*backend.tokenize(line), *continuation])
        assert candidate.score == pytest.approx(expected, abs=1e-3)
        assert candidate.score < 0


def test_no_branches_and_no_samples_leave_only_the_greedy_line(
        backend: EmbeddedBackend) -> None:
    greedy, candidates = _rerank(backend, count=1, samples=0)
    assert [candidate.text for candidate in candidates] == [greedy]


def test_cancellation_stops_sampling(backend: EmbeddedBackend) -> None:
    greedy, candidates = _rerank(backend, count=1, samples=8, is_cancelled=lambda: True)
    assert [candidate.text for candidate in candidates] == [greedy]


def test_pipeline_shows_the_best_scoring_candidate(backend: EmbeddedBackend) -> None:
    text = "def add(a, b):\n    \n    return total\n"
    offset = len("def add(a, b):\n    ")
    snapshot = Document("file:///t/add.py", "python", 1, text, 10**6).snapshot()
    settings = dataclasses.replace(SETTINGS, rerank_samples=4, completion_cache=False)
    outcome = CompletionPipeline(backend).complete(snapshot, offset, settings,
                                                   mode=CompletionMode.SINGLE_LINE)
    candidates = outcome.extra["candidates"]
    assert len(candidates) >= 2
    assert outcome.raw_text == max(candidates, key=lambda candidate: candidate.score).text


def test_rerank_samples_setting_is_validated() -> None:
    settings, problems = resolve_settings({"rerankSamples": 8}, Settings())
    assert settings.rerank_samples == 8 and not problems
    settings, problems = resolve_settings({"rerankSamples": -1}, Settings())
    assert settings.rerank_samples == 0 and problems


# --- FIM models ---------------------------------------------------------------------------------

FIM_PREFIX = "def add(a, b):\n"
FIM_SUFFIX = "    return total\n"


@pytest.fixture(scope="module")
def fim_backend(tiny_fim_end_model: TinyModelInfo) -> EmbeddedBackend:
    loaded = EmbeddedBackend.load(tiny_fim_end_model.path, SETTINGS)
    yield loaded
    loaded.close()


def _fim_rerank(backend: EmbeddedBackend, count: int, suffix_lines: frozenset[str] = frozenset(),
                is_cancelled=lambda: False):  # noqa: ANN001, ANN202
    fim = backend.info.fim
    assert fim is not None and fim.end is not None
    prompt = fim_prompt(fim, backend.tokenize(FIM_PREFIX), backend.tokenize(FIM_SUFFIX))
    greedy = backend.generate(_request(prompt), lambda: False).text
    ending = [fim.end]
    return prompt, greedy, ending, rerank_fim_line(backend, prompt, greedy, _request, ending,
                                                   suffix_lines, count, is_cancelled)


def _greedy_repeated(backend: EmbeddedBackend) -> frozenset[str]:
    """Suffix lines that make the greedy line a repeat of the code after the cursor."""
    _, greedy, _, _ = _fim_rerank(backend, count=1)
    return frozenset({greedy.split("\n", 1)[0].strip()})


def test_fim_greedy_line_that_repeats_nothing_stands_alone(fim_backend: EmbeddedBackend) -> None:
    _, greedy, _, candidates = _fim_rerank(fim_backend, count=4)
    assert [candidate.text for candidate in candidates] == [greedy]


def test_fim_repeated_greedy_line_is_compared_with_first_token_branches(
        fim_backend: EmbeddedBackend) -> None:
    repeated = _greedy_repeated(fim_backend)
    _, greedy, _, candidates = _fim_rerank(fim_backend, count=4, suffix_lines=repeated)
    assert candidates[0].text == greedy and candidates[0].score == float("-inf")
    lines = [line.rstrip() for line in _first_lines(candidates)]
    assert 2 <= len(lines) <= 4 and len(lines) == len(set(lines))


def test_fim_score_is_log_probability_of_the_line_as_the_whole_middle(
        fim_backend: EmbeddedBackend) -> None:
    repeated = _greedy_repeated(fim_backend)
    prompt, _, ending, candidates = _fim_rerank(fim_backend, count=3, suffix_lines=repeated)
    for candidate in candidates[1:]:
        line = candidate.text.split("\n", 1)[0].rstrip()
        expected = fim_backend.score_continuation(prompt, [*fim_backend.tokenize(line), *ending])
        assert candidate.score == pytest.approx(expected, abs=1e-3)


def test_fim_count_one_leaves_only_the_greedy_line(fim_backend: EmbeddedBackend) -> None:
    _, greedy, _, candidates = _fim_rerank(fim_backend, count=1,
                                           suffix_lines=_greedy_repeated(fim_backend))
    assert [candidate.text for candidate in candidates] == [greedy]


def test_pipeline_compares_fim_candidates_when_asked_to(fim_backend: EmbeddedBackend) -> None:
    text = FIM_PREFIX + FIM_SUFFIX
    snapshot = Document("file:///t/add.py", "python", 1, text, 10**6).snapshot()
    settings = dataclasses.replace(SETTINGS, fim_candidates=3, completion_cache=False)
    outcome = CompletionPipeline(fim_backend).complete(snapshot, len(FIM_PREFIX), settings,
                                                       mode=CompletionMode.SINGLE_LINE)
    candidates = outcome.extra["candidates"]
    assert candidates
    assert outcome.raw_text == max(candidates, key=lambda candidate: candidate.score).text
    off = dataclasses.replace(settings, fim_candidates=1)
    outcome = CompletionPipeline(fim_backend).complete(snapshot, len(FIM_PREFIX), off,
                                                       mode=CompletionMode.SINGLE_LINE)
    assert "candidates" not in outcome.extra


# --- FIM models, a suggestion the user asked for -------------------------------------------------


def _compare(backend: EmbeddedBackend, count: int, samples: int,
             suffix_lines: frozenset[str] = frozenset(), is_cancelled=lambda: False):  # noqa: ANN001, ANN202
    fim = backend.info.fim
    assert fim is not None
    prompt = fim_prompt(fim, backend.tokenize(FIM_PREFIX), backend.tokenize(FIM_SUFFIX))
    greedy = backend.generate(_request(prompt), lambda: False).text
    scoring = [*backend.info.bos, *backend.tokenize(FIM_PREFIX)]
    return prompt, scoring, greedy, compare_fim_lines(
        backend, prompt, greedy, _request, scoring, FIM_SUFFIX.rstrip("\n"), suffix_lines,
        count, samples, is_cancelled)


def test_fim_compare_scores_each_line_with_the_next_line_after_the_plain_prefix(
        fim_backend: EmbeddedBackend) -> None:
    _, scoring, greedy, candidates = _compare(fim_backend, count=3, samples=4)
    assert candidates[0].text == greedy
    lines = [line.strip() for line in _first_lines(candidates)]
    assert 2 <= len(lines) <= 7 and len(lines) == len(set(lines))
    following = fim_backend.tokenize("\n" + FIM_SUFFIX.rstrip("\n"))[:CONTINUATION_MAX_TOKENS]
    for candidate in candidates:
        line = candidate.text.split("\n", 1)[0].rstrip()
        if not line.strip():
            assert candidate.score == float("-inf")
            continue
        expected = fim_backend.score_continuation(
            scoring, [*fim_backend.tokenize(line), *following])
        bonus = FIM_GREEDY_BONUS if candidate is candidates[0] else 0.0
        assert candidate.score == pytest.approx(expected + bonus, abs=1e-3)


def test_fim_compare_gives_lines_that_repeat_the_suffix_the_lowest_score(
        fim_backend: EmbeddedBackend) -> None:
    _, _, greedy, candidates = _compare(fim_backend, count=1, samples=0,
                                        suffix_lines=_greedy_repeated(fim_backend))
    assert [(c.text, c.score) for c in candidates] == [(greedy, float("-inf"))]


def test_fim_compare_is_repeatable_and_stops_when_cancelled(
        fim_backend: EmbeddedBackend) -> None:
    first = _compare(fim_backend, count=3, samples=4)[3]
    assert _compare(fim_backend, count=3, samples=4)[3] == first
    _, _, greedy, cancelled = _compare(fim_backend, count=3, samples=4,
                                       is_cancelled=lambda: True)
    assert [c.text for c in cancelled] == [greedy]


def test_scoring_outside_the_document_keeps_its_kv_state(fim_backend: EmbeddedBackend) -> None:
    fim = fim_backend.info.fim
    assert fim is not None
    prompt = fim_prompt(fim, fim_backend.tokenize(FIM_PREFIX * 8), fim_backend.tokenize(FIM_SUFFIX))
    request = dataclasses.replace(_request(prompt), slot="file:///t/kept.py")
    fim_backend.generate(request, lambda: False)
    fim_backend.score_continuation(fim_backend.tokenize("x = 1\n"), fim_backend.tokenize("y"),
                                   scratch=True)
    again = fim_backend.generate(request, lambda: False)
    assert again.n_reused >= len(prompt) - 1


def test_pipeline_compares_fim_lines_for_an_invoked_request(
        fim_backend: EmbeddedBackend) -> None:
    text = FIM_PREFIX + FIM_SUFFIX
    snapshot = Document("file:///t/add.py", "python", 1, text, 10**6).snapshot()
    settings = dataclasses.replace(SETTINGS, completion_cache=False).for_invoked_request()
    assert settings.rerank_samples > 0
    outcome = CompletionPipeline(fim_backend).complete(snapshot, len(FIM_PREFIX), settings,
                                                       mode=CompletionMode.SINGLE_LINE)
    candidates = outcome.extra["candidates"]
    assert len(candidates) >= 2
    assert outcome.raw_text == max(candidates, key=lambda candidate: candidate.score).text


def test_pipeline_samples_more_lines_when_the_greedy_line_repeats_the_suffix(
        fim_backend: EmbeddedBackend) -> None:
    settings = dataclasses.replace(SETTINGS, completion_cache=False)
    assert (settings.rerank_samples, settings.fim_candidates, settings.fim_repeat_samples) == (
        0, 3, 8)

    def complete(suffix: str, settings: Settings):  # noqa: ANN202
        snapshot = Document("file:///t/add.py", "python", 1, FIM_PREFIX + suffix, 10**6).snapshot()
        return CompletionPipeline(fim_backend).complete(snapshot, len(FIM_PREFIX), settings,
                                                        mode=CompletionMode.SINGLE_LINE)

    greedy = complete(FIM_SUFFIX, settings).raw_text.split("\n", 1)[0].strip()
    repeating = FIM_SUFFIX + f"    {greedy}\n"  # the line below the cursor is the greedy line
    outcome = complete(repeating, settings)
    candidates = outcome.extra["candidates"]
    assert candidates[0].text.split("\n", 1)[0].strip() == greedy
    assert candidates[0].score == float("-inf")
    assert len(candidates) > settings.fim_candidates  # branches and samples
    assert outcome.raw_text == max(candidates, key=lambda candidate: candidate.score).text
    branches_only = complete(repeating, dataclasses.replace(settings, fim_repeat_samples=0))
    assert 2 <= len(branches_only.extra["candidates"]) <= settings.fim_candidates
    # A greedy line that repeats nothing is shown as it is: nothing else is generated.
    alone = complete(FIM_SUFFIX, settings).extra.get("candidates", [])
    assert [candidate.text.split("\n", 1)[0].strip() for candidate in alone] in ([], [greedy])


class _IndentedSamples:
    """The FIM backend, but every sampled line starts with four more spaces."""

    def __init__(self, backend: EmbeddedBackend) -> None:
        self._backend = backend

    def generate(self, request: GenerationRequest, is_cancelled):  # noqa: ANN001, ANN201
        result = self._backend.generate(request, is_cancelled)
        if request.temperature > 0:
            result = dataclasses.replace(result, text="    " + result.text)
        return result

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._backend, name)


def test_fim_compare_after_an_indentation_drops_lines_that_would_indent_twice(
        fim_backend: EmbeddedBackend) -> None:
    backend = _IndentedSamples(fim_backend)
    fim = fim_backend.info.fim
    assert fim is not None
    prompt = fim_prompt(fim, fim_backend.tokenize(FIM_PREFIX), fim_backend.tokenize(FIM_SUFFIX))
    scoring = [*fim_backend.info.bos, *fim_backend.tokenize(FIM_PREFIX)]
    greedy = backend.generate(_request(prompt), lambda: False).text

    def compare(after_blanks: bool) -> list[str]:
        return [c.text for c in compare_fim_lines(
            backend, prompt, greedy, _request, scoring, FIM_SUFFIX.rstrip("\n"), frozenset(),
            3, 6, lambda: False, after_blanks=after_blanks)]

    free, kept = compare(False), compare(True)
    assert any(text.startswith("    ") for text in free)  # the samples
    assert kept[0] == greedy
    assert kept == [text for text in free if not text.startswith("    ")]


class _CommentedSamples(_IndentedSamples):
    """The FIM backend, but every sampled line is a comment."""

    def generate(self, request: GenerationRequest, is_cancelled):  # noqa: ANN001, ANN201
        result = self._backend.generate(request, is_cancelled)
        if request.temperature > 0:
            result = dataclasses.replace(result, text="# TODO: " + result.text)
        return result


def test_fim_compare_drops_comment_lines_but_the_greedy_one(fim_backend: EmbeddedBackend) -> None:
    """A filler comment scores well by the next line, so only code competes with the greedy
    line; the greedy line itself may be a comment."""
    backend = _CommentedSamples(fim_backend)
    fim = fim_backend.info.fim
    assert fim is not None
    prompt = fim_prompt(fim, fim_backend.tokenize(FIM_PREFIX), fim_backend.tokenize(FIM_SUFFIX))
    scoring = [*fim_backend.info.bos, *fim_backend.tokenize(FIM_PREFIX)]

    def compare(greedy: str, comment: str | None) -> list[str]:
        return [c.text for c in compare_fim_lines(
            backend, prompt, greedy, _request, scoring, FIM_SUFFIX.rstrip("\n"), frozenset(),
            3, 6, lambda: False, comment=comment)]

    greedy = backend.generate(_request(prompt), lambda: False).text
    free, kept = compare(greedy, None), compare(greedy, "#")
    assert any(text.startswith("# TODO: ") for text in free)  # the samples
    assert kept == [text for text in free if not text.startswith("# TODO: ")]
    assert compare("# a greedy comment", "#")[0] == "# a greedy comment"


def test_rerank_drops_comment_lines_but_the_greedy_one(backend: EmbeddedBackend) -> None:
    """The prefix-only comparison follows the same rule as the FIM one."""
    commented = _CommentedSamples(backend)
    prompt = backend.tokenize(PREFIX)
    greedy = backend.generate(_request(prompt), lambda: False).text

    def compare(comment: str | None) -> list[str]:
        return _first_lines(rerank_line(commented, prompt, greedy, _request, FOLLOWING, 1,
                                        lambda: False, samples=6, comment=comment))

    free, kept = compare(None), compare("#")
    assert any(line.startswith("# TODO: ") for line in free)  # the samples
    assert kept == [line for line in free if not line.startswith("# TODO: ")]
    assert kept[0] == greedy.split("\n", 1)[0]
