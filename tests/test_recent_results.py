"""A prompt that comes back (a space typed after a word, into an indentation the prompt holds
back) gets its earlier greedy result again without a model call."""

from __future__ import annotations

from test_whole_suggestions import SUGGESTION, SlowBackend

from llama_lsp.config.settings import Settings
from llama_lsp.context.documents import Document
from llama_lsp.features.completion.pipeline import CompletionPipeline
from llama_lsp.features.completion.postprocess import CompletionMode
from llama_lsp.features.completion.recent_results import RecentResults
from llama_lsp.model.backend import GenerationRequest, GenerationResult

URI = "file:///t/total.py"


def _request(prompt: list[int], **fields: object) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, max_tokens=48, stop=("\n",), slot=URI,
                             **fields)  # type: ignore[arg-type]


def _result(reason: str = "stop") -> GenerationResult:
    return GenerationResult("sum(xs)", 4, 3, 1, reason, 90.0, 80.0)  # type: ignore[arg-type]


def test_an_identical_greedy_request_gets_the_result_again_marked_repeated() -> None:
    recent = RecentResults()
    recent.put(_request([1, 2, 3]), _result())
    again = recent.get(_request([1, 2, 3]))
    assert again is not None
    assert (again.text, again.n_generated, again.stop_reason) == ("sum(xs)", 4, "stop")
    assert again.repeated and again.n_evaluated == 0
    assert (again.wall_ms, again.engine_ms) == (0.0, 0.0)


def test_any_difference_in_the_request_misses() -> None:
    recent = RecentResults()
    recent.put(_request([1, 2, 3]), _result())
    assert recent.get(_request([1, 2, 4])) is None
    assert recent.get(_request([1, 2])) is None
    assert recent.get(GenerationRequest([1, 2, 3], 48, stop=("\n",), slot="file:///other.py")) \
        is None
    assert recent.get(GenerationRequest([1, 2, 3], 16, stop=("\n",), slot=URI)) is None
    assert recent.get(GenerationRequest([1, 2, 3], 48, slot=URI)) is None


def test_sampled_and_cancelled_results_are_never_kept() -> None:
    recent = RecentResults()
    recent.put(_request([1, 2, 3], temperature=0.8, seed=1), _result())
    assert recent.get(_request([1, 2, 3], temperature=0.8, seed=1)) is None
    recent.put(_request([1, 2, 3]), _result("cancelled"))
    assert recent.get(_request([1, 2, 3])) is None


def test_the_least_recently_used_result_goes_first() -> None:
    recent = RecentResults(size=2)
    recent.put(_request([1]), _result())
    recent.put(_request([2]), _result())
    assert recent.get(_request([1])) is not None  # [1] is now the most recent
    recent.put(_request([3]), _result())
    assert recent.get(_request([2])) is None
    assert recent.get(_request([1])) is not None and recent.get(_request([3])) is not None


def _complete(pipeline: CompletionPipeline, text: str, mode: CompletionMode | None = None
              ) -> tuple[list[str], bool]:
    snapshot = Document(URI, "python", 1, text, 10**8).snapshot()
    outcome = pipeline.complete(snapshot, len(text), Settings(), mode=mode)
    assert outcome.generation is not None
    return [s.text for s in outcome.suggestions], outcome.generation.repeated


def test_a_space_typed_after_a_word_asks_the_model_once() -> None:
    """The prompt leaves trailing blanks out, so ``return`` and ``return `` are one prompt:
    the second keystroke gets the same suggestion without a second model call."""
    backend = SlowBackend(seconds_per_token=0.0)
    pipeline = CompletionPipeline(backend)
    assert _complete(pipeline, "def total(xs):\n    return") == ([SUGGESTION], False)
    assert _complete(pipeline, "def total(xs):\n    return ") == ([SUGGESTION], True)
    assert backend.calls == 1
    assert _complete(pipeline, "def total(xs):\n    return s")[1] is False  # a new prompt
    assert backend.calls == 2


def test_multi_line_requests_always_ask_the_model() -> None:
    """A multi-line stop rule reads the held-back blanks and the filters, not just the text:
    its results are not given again."""
    backend = SlowBackend(seconds_per_token=0.0)
    pipeline = CompletionPipeline(backend)
    for _ in range(2):
        _complete(pipeline, "def total(xs):\n    return", CompletionMode.MULTI_LINE)
    assert backend.calls == 2
