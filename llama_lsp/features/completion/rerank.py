"""Choose among a few single-line candidates by how well the code after the cursor follows them.

For models without FIM tokens the code after the cursor is not in the prompt. Instead, the
greedy line, the lines that start with the next most likely tokens and a few lines sampled at
a moderate temperature are scored by the model's log-probability of the candidate followed by
the next line of the file, and the most likely one wins.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from llama_lsp.model.backend import GenerationRequest

# Tokens of the following code used to score a candidate.
CONTINUATION_MAX_TOKENS = 16
# Sampled candidates: hot enough to differ from the greedy line, cool enough to stay on topic.
SAMPLE_TEMPERATURE = 0.8
# Log-probability (nats) another line must gain over a FIM model's greedy line to replace it:
# the greedy line saw the code after the cursor, which the scoring prompt does not show.
FIM_GREEDY_BONUS = 1.0


class ScoringBackend(Protocol):
    """The backend calls reranking needs (the embedded engine has them)."""

    def tokenize(self, text: str) -> list[int]: ...
    def top_next_tokens(self, prompt: list[int], count: int) -> list[int]: ...
    def score_continuation(self, prompt: list[int], continuation: list[int],
                           scratch: bool = False) -> float: ...
    def generate(self, request: GenerationRequest, is_cancelled: Callable[[], bool]): ...  # noqa: ANN201
    def detokenize(self, tokens: list[int]) -> str: ...


@dataclass(frozen=True)
class Candidate:
    """A generated line and its score."""

    text: str
    score: float


def can_rerank(backend: object) -> bool:
    """True when the backend can list next tokens and score continuations."""
    return hasattr(backend, "top_next_tokens") and hasattr(backend, "score_continuation")


def next_code_line(suffix: str) -> str:
    """The first non-blank line after the cursor's line."""
    for line in suffix.split("\n")[1:]:
        if line.strip():
            return line
    return ""


def rerank_line(
    backend: ScoringBackend,
    prompt: list[int],
    greedy_text: str,
    make_request: Callable[[list[int]], GenerationRequest],
    following_line: str,
    count: int,
    is_cancelled: Callable[[], bool],
    samples: int = 0,
    comment: str | None = None,
) -> list[Candidate]:
    """Candidates (greedy first) with scores; the caller picks the best-scoring one.

    Up to ``count`` candidates (greedy included) branch at the first non-blank token: the
    greedy line's leading whitespace is kept, and each of the next most likely tokens starts a
    new greedy line. Then ``samples`` lines are sampled at ``SAMPLE_TEMPERATURE`` with the seeds
    1, 2, ... (so the same prompt gives the same candidates). Duplicate lines are dropped, and
    so are lines that are only a comment (``comment``, the line-comment marker), but the greedy
    one: a filler comment scores better by the next line than code does.
    """
    indent = greedy_text[: len(greedy_text) - len(greedy_text.lstrip(" \t"))]
    base = [*prompt, *backend.tokenize(indent)] if indent else list(prompt)
    texts = [greedy_text]
    seen = {_first_line(greedy_text)}

    def add(text: str) -> None:
        line = _first_line(text)
        if line.strip() and line not in seen and not _is_comment(line, comment):
            seen.add(line)
            texts.append(text)

    branches = backend.top_next_tokens(base, count + 1) if count > 1 else []
    for token in branches:
        if len(texts) >= count or is_cancelled():
            break
        result = backend.generate(make_request([*base, token]), is_cancelled)
        if result.stop_reason != "cancelled":
            add(indent + backend.detokenize([token]) + result.text)
    _add_samples(backend, prompt, make_request, samples, is_cancelled, add)
    continuation = backend.tokenize("\n" + following_line)[:CONTINUATION_MAX_TOKENS]
    scored = []
    for text in texts:
        line = _first_line(text)
        tokens = backend.tokenize(line)
        scored.append(Candidate(text, backend.score_continuation(prompt, [*tokens, *continuation])))
    return scored


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0]


def _indented(text: str) -> bool:
    return text[:1] in (" ", "\t")


def _is_comment(line: str, comment: str | None) -> bool:
    """True when ``line`` holds only a comment that starts with the marker ``comment``."""
    return bool(comment) and line.strip().startswith(comment or "")


def rerank_fim_line(
    backend: ScoringBackend,
    prompt: list[int],
    greedy_text: str,
    make_request: Callable[[list[int]], GenerationRequest],
    ending: list[int],
    suffix_lines: frozenset[str],
    count: int,
    is_cancelled: Callable[[], bool],
    after_blanks: bool = False,
) -> list[Candidate]:
    """FIM models: candidates (greedy first) with scores; the caller picks the best-scoring one.

    Small FIM models often copy a line they were shown after the hole (such as the function's
    return) instead of filling it. So when the greedy line is empty or repeats a line of the
    code after the cursor (``suffix_lines``, stripped), it is compared with the lines that
    start with the next most likely first tokens of the middle (which include other
    indentations), up to ``count`` in all. Each is scored by the log-probability that it is
    the whole middle: its tokens followed by ``ending`` (the end-of-middle token, after a line
    break when the hole ends with one); empty and repeated lines score lowest. Any other greedy
    line stands alone: on HumanEval, scoring every greedy line too changed as many right
    lines as wrong ones. ``after_blanks``: see ``compare_fim_lines``.
    """
    greedy_line = _first_line(greedy_text).strip()
    if greedy_line and greedy_line not in suffix_lines:
        return [Candidate(greedy_text, 0.0)]
    texts = [greedy_text]
    seen = {_first_line(greedy_text).rstrip()}

    def add(text: str) -> None:
        line = _first_line(text).rstrip()
        if line.strip() and line not in seen and not (after_blanks and _indented(text)):
            seen.add(line)
            texts.append(text)

    _add_branches(backend, prompt, make_request, count, is_cancelled, texts, add)
    scored = []
    for text in texts:
        line = _first_line(text).rstrip()
        if not line.strip() or line.strip() in suffix_lines:
            scored.append(Candidate(text, float("-inf")))
            continue
        tokens = backend.tokenize(line)
        scored.append(Candidate(text, backend.score_continuation(prompt, [*tokens, *ending])))
    return scored


def compare_fim_lines(
    backend: ScoringBackend,
    prompt: list[int],
    greedy_text: str,
    make_request: Callable[[list[int]], GenerationRequest],
    prefix_prompt: list[int],
    following_line: str,
    suffix_lines: frozenset[str],
    count: int,
    samples: int,
    is_cancelled: Callable[[], bool],
    after_blanks: bool = False,
    comment: str | None = None,
) -> list[Candidate]:
    """FIM models, a suggestion asked for or a greedy line that is empty or repeats the code
    after the cursor: candidates (greedy first) with scores by the next line of code.

    The greedy line, the lines that start with the next likeliest first tokens of the middle
    (up to ``count`` with the greedy one) and ``samples`` lines sampled at
    ``SAMPLE_TEMPERATURE`` (seeds 1, 2, ...) are scored as the demo model's lines are: by the
    log-probability of the line and then ``following_line`` after ``prefix_prompt``, the code
    before the cursor without FIM tokens. Empty lines and lines that repeat the code after the
    cursor score lowest; the greedy line gets ``FIM_GREEDY_BONUS``. The scoring prompt is
    evaluated outside the document's KV state (``scratch``), which the next request for the
    document gets back.

    ``after_blanks``: the prompt's prefix ends in the blanks of the cursor's line, so a line
    that starts with blanks would be indented twice; only the greedy line may.

    ``comment``: the language's line-comment marker. A line that is only a comment is not
    compared (only the greedy line may be one): a short filler comment ("# TODO: ...") scores
    better by the next line than the code the greedy line failed to be.
    """
    texts = [greedy_text]
    seen = {_first_line(greedy_text).strip()}

    def add(text: str) -> None:
        line = _first_line(text).strip()
        if line and line not in seen and not (after_blanks and _indented(text)) and \
                not _is_comment(line, comment):
            seen.add(line)
            texts.append(text)

    if count > 1:
        _add_branches(backend, prompt, make_request, count, is_cancelled, texts, add)
    _add_samples(backend, prompt, make_request, samples, is_cancelled, add)
    continuation = backend.tokenize("\n" + following_line)[:CONTINUATION_MAX_TOKENS]
    scored = []
    for text in texts:
        line = _first_line(text).rstrip()
        if not line.strip() or line.strip() in suffix_lines or is_cancelled():
            scored.append(Candidate(text, float("-inf")))
            continue
        score = backend.score_continuation(prefix_prompt, [*backend.tokenize(line), *continuation],
                                           scratch=True)
        scored.append(Candidate(text, score + (FIM_GREEDY_BONUS if text is greedy_text else 0.0)))
    return scored


def _add_branches(
    backend: ScoringBackend,
    prompt: list[int],
    make_request: Callable[[list[int]], GenerationRequest],
    count: int,
    is_cancelled: Callable[[], bool],
    texts: list[str],
    add: Callable[[str], None],
) -> None:
    """Pass ``add`` the lines that start with the next likeliest first tokens of a FIM middle
    (not a line break: an empty first line shows nothing) until ``texts`` holds ``count``."""
    for token in backend.top_next_tokens(prompt, count + 1):
        if len(texts) >= count or is_cancelled():
            break
        start = backend.detokenize([token])
        if "\n" in start:
            continue
        result = backend.generate(make_request([*prompt, token]), is_cancelled)
        if result.stop_reason == "cancelled":
            break
        add(start + result.text)


def _add_samples(
    backend: ScoringBackend,
    prompt: list[int],
    make_request: Callable[[list[int]], GenerationRequest],
    samples: int,
    is_cancelled: Callable[[], bool],
    add: Callable[[str], None],
) -> None:
    """Pass ``add`` ``samples`` lines sampled at ``SAMPLE_TEMPERATURE`` with the seeds 1, 2, ...
    (so the same prompt gives the same candidates)."""
    for seed in range(1, samples + 1):
        if is_cancelled():
            break
        request = dataclasses.replace(make_request(list(prompt)),
                                      temperature=SAMPLE_TEMPERATURE, seed=seed)
        result = backend.generate(request, is_cancelled)
        if result.stop_reason != "cancelled":
            add(result.text)
