"""The embedded engine: one llama-cpp-python ``Llama`` in this process.

Prompts are token lists. ``Llama.generate`` reuses the longest common prefix of the previous
prompt from the KV cache, so callers order prompts from stable to volatile. The prompt is
evaluated in chunks of ``PREFILL_CHUNK`` tokens with a cancellation check between them, so a
newer request never waits for a superseded prompt, and what was evaluated stays for it.

The KV cache holds one document's prompt at a time; the states of the documents left behind
are saved (``kv_states.SavedStates``) and restored when a prompt for them comes again.
"""

from __future__ import annotations

import ctypes
import logging
import time

import numpy as np
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from llama_lsp.config.settings import Settings
from llama_lsp.model.backend import (
    GenerationRequest,
    GenerationResult,
    ModelError,
    ModelInfo,
    cut_at_stop,
)
from llama_lsp.model.code_vocabulary import ModelFile, with_code_vocabulary
from llama_lsp.model.fim import FimTokens, detect_fim_tokens
from llama_lsp.model.free_cores import FreeCores
from llama_lsp.model.grammar_sampling import GreedyGrammarSampler
from llama_lsp.model.kv_states import MIB, SavedState, SavedStates
from llama_lsp.model.native_log import route_native_log
from llama_lsp.model.pinning import cache_dir, verify_model_sha256

GGUF_MAGIC = b"GGUF"
# Prompt tokens evaluated between two cancellation checks (~20-60 ms on a CPU for a small model).
PREFILL_CHUNK = 64
# A document's state is saved when it leaves the KV cache only if it has this many tokens.
MIN_SAVED_TOKENS = 64

logger = logging.getLogger(__name__)


def common_prefix_length(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token sequences."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def check_gguf_file(path: Path) -> None:
    """Raise :class:`ModelError` unless ``path`` is a readable file that starts like a GGUF."""
    if not path.exists():
        raise ModelError(f"model file {path} does not exist; set 'model' to a .gguf file")
    if not path.is_file():
        raise ModelError(f"model path {path} is not a file; set 'model' to a .gguf file")
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as error:
        raise ModelError(f"cannot read model file {path}: {error.strerror}") from error
    if magic != GGUF_MAGIC:
        raise ModelError(
            f"{path} is not a GGUF model file (it does not start with 'GGUF'); "
            "convert it with llama.cpp's convert_hf_to_gguf.py or download a .gguf"
        )


class EmbeddedBackend:
    """A GGUF model loaded in-process with llama-cpp-python. Use from one thread only."""

    def __init__(self, llama: object, info: ModelInfo, state_budget: int = 0,
                 threads: FreeCores | None = None) -> None:
        self._llm = llama
        self.info = info
        self.threads = threads or FreeCores(pinned=llama.n_threads)  # type: ignore[attr-defined]
        """How many CPU threads each evaluation uses."""
        self._threads_set = self.threads.current
        import llama_cpp

        self._llama_cpp = llama_cpp
        self._grammars: dict[str, object] = {}
        self.states = SavedStates(state_budget)
        """KV states of the documents not in the KV cache now."""
        self._slot: str | None = None
        """The document whose prompt is in the KV cache (None: a one-off prompt or nothing)."""
        vocab = llama._model.vocab
        self._is_end_of_generation = lambda token: bool(llama_cpp.llama_vocab_is_eog(vocab, token))

    @classmethod
    def load(cls, path: Path, settings: Settings) -> EmbeddedBackend:
        """Load ``path``; raise :class:`ModelError` with a fix when that fails.

        With ``modelSha256`` set, a file with another SHA-256 is refused before loading.
        """
        check_gguf_file(path)
        verify_model_sha256(path, settings.model_sha256)
        try:
            from llama_cpp import Llama
        except ImportError as error:  # pragma: no cover - a broken install
            raise ModelError(
                f"llama-cpp-python is not importable ({error}); reinstall with "
                "'pip install --force-reinstall llama-cpp-python'"
            ) from error
        route_native_log()
        loaded = (with_code_vocabulary(path, cache_dir()) if settings.code_vocabulary
                  else ModelFile(path, "full (codeVocabulary off)"))
        # The cores other programs leave free, chosen again before each evaluation: see
        # free_cores.py.
        threads = FreeCores(pinned=settings.threads)

        def open_model(file: Path) -> object:
            return Llama(model_path=str(file), n_ctx=settings.context_size,
                         n_threads=threads.current, n_threads_batch=threads.current,
                         n_gpu_layers=settings.gpu_layers, seed=0, verbose=False)

        try:
            try:
                llm = open_model(loaded.path)
            except (ValueError, RuntimeError, OSError) as error:
                if loaded.path == path:
                    raise
                logger.warning("llama.cpp could not load the code-vocabulary copy %s (%s); "
                               "loading %s as it is", loaded.path, error, path)
                loaded = ModelFile(path, f"full (the copy did not load: {error})")
                llm = open_model(path)
        except (ValueError, RuntimeError, OSError) as error:
            raise ModelError(
                f"llama.cpp could not load {path} ({error}); the file may be truncated or "
                "corrupt, or its architecture too new for this llama-cpp-python: "
                "re-download it or upgrade llama-cpp-python"
            ) from error
        info = replace(cls._describe(llm, path, settings), vocabulary=loaded.vocabulary)
        logger.info("CPU threads: %s", threads.describe())
        return cls(llm, info, settings.warm_start_memory_mb * MIB, threads)

    @staticmethod
    def _describe(llm: object, path: Path, settings: Settings) -> ModelInfo:
        metadata = dict(llm.metadata)

        def token_id_of(text: str) -> int | None:
            tokens = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
            return tokens[0] if len(tokens) == 1 else None

        fim = detect_fim_tokens(metadata, token_id_of)
        if fim is None:
            # llama.cpp also recognises FIM tokens by their text when loading a vocabulary.
            pre, suf, mid = (llm._model.token_prefix(), llm._model.token_suffix(),
                             llm._model.token_middle())
            if min(pre, suf, mid) >= 0:
                fim = FimTokens(pre, suf, mid, source="llama.cpp vocabulary")
        bos_id = llm.token_bos()
        bos = (bos_id,) if bos_id >= 0 and llm._model.add_bos_token() else ()
        name = metadata.get("general.name") or path.stem
        import llama_cpp

        return ModelInfo(
            name=name,
            path=str(path),
            context_size=llm.n_ctx(),
            fim=fim,
            bos=bos,
            gpu_offload=bool(settings.gpu_layers) and llama_cpp.llama_supports_gpu_offload(),
        )

    def training_context(self) -> int | None:
        """The context length the model was trained with (GGUF ``<arch>.context_length``)."""
        metadata = self._llm.metadata
        value = metadata.get(f"{metadata.get('general.architecture')}.context_length")
        return int(value) if value is not None and str(value).isdigit() else None

    def tokenize(self, text: str) -> list[int]:
        """Tokens of ``text``, without BOS and without parsing special-token text."""
        if not text:
            return []
        return self._llm.tokenize(text.encode("utf-8", "surrogatepass"), add_bos=False,
                                  special=False)

    def detokenize(self, tokens: list[int]) -> str:
        """Text of ``tokens``, special tokens written out (for showing prompts)."""
        return self._llm.detokenize(tokens, special=True).decode("utf-8", "replace")

    def generate(
        self, request: GenerationRequest, is_cancelled: Callable[[], bool]
    ) -> GenerationResult:
        """Stream tokens, checking for cancellation and the stop rule after each one."""
        llm = self._llm
        started = time.perf_counter()
        prompt = request.prompt
        if not prompt:
            raise ModelError("empty prompt")
        if len(prompt) + request.max_tokens > self.info.context_size:
            raise ModelError(
                f"prompt of {len(prompt)} tokens plus {request.max_tokens} to generate does not "
                f"fit the context of {self.info.context_size} tokens"
            )
        self._use_slot(request.slot)
        reused = min(common_prefix_length(llm._input_ids, prompt), len(prompt) - 1)
        self._llama_cpp.llama_perf_context_reset(llm.ctx)
        if request.temperature > 0:
            llm.set_seed(request.seed)
        pieces = bytearray()
        text = ""
        generated = 0
        reason = "length"
        self._evaluate(prompt[:-1], is_cancelled)  # the last token: by generate, for logits
        if is_cancelled():
            return self._result("", 0, prompt, reused, "cancelled", started)
        for token in self._tokens(request):
            self._fit_threads()  # for the next token, evaluated when the loop asks for it
            if token is None or self._is_end_of_generation(token):
                reason = "eos"
                break
            generated += 1
            pieces += llm.detokenize([token])
            text = pieces.decode("utf-8", "ignore")
            if request.stop:
                text, stopped = cut_at_stop(text, request.stop)
                if stopped:
                    reason = "stop"
                    break
            if request.should_stop is not None and request.should_stop(text):
                reason = "stop"
                break
            if generated >= request.max_tokens:
                reason = "length"
                break
            if is_cancelled():
                reason = "cancelled"
                break
        return self._result(text, generated, prompt, reused, reason, started)

    def prefill(self, prompt: list[int], slot: str | None,
                is_cancelled: Callable[[], bool]) -> int:
        """Evaluate what ``prompt`` adds to the KV cache of ``slot``'s document, a chunk at a
        time, until done or ``is_cancelled``; return how many tokens were evaluated."""
        if len(prompt) > self.info.context_size:
            raise ModelError(f"prompt of {len(prompt)} tokens does not fit the context of "
                             f"{self.info.context_size} tokens")
        self._use_slot(slot)
        return self._evaluate(prompt, is_cancelled)

    def _evaluate(self, prompt: list[int], is_cancelled: Callable[[], bool]) -> int:
        """Bring the KV cache to ``prompt`` (reusing the common prefix) in chunks of
        ``PREFILL_CHUNK``, stopping early once ``is_cancelled``; the tokens evaluated."""
        llm = self._llm
        common = common_prefix_length(llm._input_ids, prompt)
        if common == len(prompt):
            return 0  # already there (the cache may hold more: leave it for the next prompt)
        llm.n_tokens = common
        start = llm.n_tokens
        while llm.n_tokens < len(prompt):
            self._fit_threads()
            llm.eval(prompt[llm.n_tokens:llm.n_tokens + PREFILL_CHUNK])
            if llm.n_tokens < len(prompt) and is_cancelled():
                break
        return llm.n_tokens - start

    def _fit_threads(self) -> None:
        """Evaluate with as many threads as :attr:`threads` chooses now."""
        count = self.threads.choose()
        if count != self._threads_set:
            self._llama_cpp.llama_set_n_threads(self._llm.ctx, count, count)
            self._threads_set = count

    def cached_prefix(self, prompt: list[int], slot: str | None) -> int:
        """How many leading tokens of ``prompt`` the KV cache of ``slot``'s document holds."""
        self._use_slot(slot)
        return common_prefix_length(self._llm._input_ids, prompt)

    def keep_states(self, budget_bytes: int) -> None:
        """Keep the KV states of documents left behind within ``budget_bytes`` (0: none)."""
        self.states.set_budget(budget_bytes)

    def state_bytes_per_token(self) -> float:
        """Bytes of saved KV state per prompt token (measured on a short prompt)."""
        llm = self._llm
        probe = self.tokenize("def measure(state):\n    return state\n" * 8)[:48]
        self._use_slot(None)
        llm.n_tokens = 0
        llm.eval(probe[:16])
        small = self._llama_cpp.llama_state_get_size(llm.ctx)
        llm.eval(probe[16:48])
        large = self._llama_cpp.llama_state_get_size(llm.ctx)
        return (large - small) / 32

    def _use_slot(self, slot: str | None) -> None:
        """Make ``slot``'s document the one in the KV cache: save the current document's
        state (when kept at all) and restore ``slot``'s saved one, if any."""
        if slot == self._slot:
            return
        llm = self._llm
        if self._slot is not None and llm.n_tokens >= MIN_SAVED_TOKENS and self.states.budget:
            self.states.put(self._slot, self._save())
        self._slot = slot
        saved = self.states.take(slot) if slot is not None else None
        if saved is not None:
            self._restore(saved)

    def _save(self) -> SavedState:
        """The whole context's state. It holds this one sequence only; unlike a sequence's
        state, it keeps the cells that sliding-window layers no longer attend to, which a
        prompt that diverges before the end needs again."""
        llm = self._llm
        cpp = self._llama_cpp
        size = cpp.llama_state_get_size(llm.ctx)
        buffer = (ctypes.c_uint8 * size)()
        written = cpp.llama_state_get_data(llm.ctx, buffer, size)
        return SavedState(tuple(int(t) for t in llm._input_ids),
                          bytes(memoryview(buffer)[:written]))

    def _restore(self, saved: SavedState) -> None:
        """Put ``saved`` in the KV cache; on failure the cache is just empty (a cold prompt)."""
        llm = self._llm
        cpp = self._llama_cpp
        # Read in place (no copy): llama.cpp only reads from it.
        buffer = ctypes.cast(ctypes.c_char_p(saved.data), ctypes.POINTER(ctypes.c_uint8))
        llm.n_tokens = 0
        if cpp.llama_state_set_data(llm.ctx, buffer, saved.size) != saved.size:
            logger.info("could not restore a saved KV state; evaluating the prompt again")
            llm._ctx.kv_cache_seq_rm(-1, 0, -1)
            return
        count = len(saved.tokens)
        llm.input_ids[:count] = saved.tokens
        llm.n_tokens = count
        llm._requires_eval = True

    def _tokens(self, request: GenerationRequest) -> Iterator[int | None]:
        """Generated tokens; None when a grammar allows nothing more."""
        grammar = self._grammar_for(request.json_schema)
        if grammar is not None and request.temperature <= 0:
            yield from self._greedy_under_grammar(request.prompt, grammar)
            return
        yield from self._llm.generate(request.prompt, temp=request.temperature, top_k=40,
                                      top_p=0.95, min_p=0.05, repeat_penalty=1.0,
                                      grammar=grammar)

    def _greedy_under_grammar(self, prompt: list[int], grammar: object) -> Iterator[int | None]:
        """Greedy tokens under ``grammar``, the likeliest tokens checked first."""
        llm = self._llm
        sampler = GreedyGrammarSampler(self._llama_cpp, llm._model.vocab,
                                       grammar._grammar, grammar._root)  # type: ignore[attr-defined]
        try:
            llm.n_tokens = min(common_prefix_length(llm._input_ids, prompt), len(prompt) - 1)
            llm.eval(prompt[llm.n_tokens:])
            while True:
                logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
                token = sampler.pick(logits)
                yield token
                if token is None:
                    return
                sampler.accept(token)
                llm.eval([token])
        finally:
            sampler.close()

    def _grammar_for(self, json_schema: str | None) -> object | None:
        """A llama.cpp grammar that admits only JSON following ``json_schema`` (cached)."""
        if json_schema is None:
            return None
        grammar = self._grammars.get(json_schema)
        if grammar is None:
            try:
                grammar = self._llama_cpp.LlamaGrammar.from_json_schema(json_schema, verbose=False)
            except (ValueError, RuntimeError) as error:
                raise ModelError(f"cannot build a grammar from the JSON schema: {error}") from error
            self._grammars[json_schema] = grammar
        return grammar

    def _logits_for(self, context: list[int], tail: list[int]) -> np.ndarray:
        """Logits after each token of ``tail``, evaluated after ``context`` (KV cache reused)."""
        llm = self._llm
        self._fit_threads()
        reused = common_prefix_length(llm._input_ids, context)
        llm.n_tokens = min(reused, llm.n_tokens)
        llm.eval(context[llm.n_tokens:])
        n_past = llm.n_tokens
        llm._ctx.kv_cache_seq_rm(-1, n_past, -1)
        llm._batch.set_batch(batch=tail, n_past=n_past, logits_all=True)
        llm._ctx.decode(llm._batch)
        logits = np.ctypeslib.as_array(llm._ctx.get_logits(),
                                       shape=(len(tail), llm.n_vocab())).copy()
        llm.input_ids[n_past:n_past + len(tail)] = tail
        llm.n_tokens = n_past + len(tail)
        llm._requires_eval = True
        return logits

    def top_next_tokens(self, prompt: list[int], count: int) -> list[int]:
        """The ``count`` most likely next tokens after ``prompt``, best first."""
        row = self._logits_for(prompt[:-1], prompt[-1:])[0]
        best = np.argpartition(-row, count)[:count]
        return [int(token) for token in best[np.argsort(-row[best])]]

    def score_continuation(self, prompt: list[int], continuation: list[int],
                           scratch: bool = False) -> float:
        """Log-probability of ``continuation`` following ``prompt``. ``scratch``: ``prompt``
        is not the current document's: save that document's KV state first (as switching
        documents does), so its next request finds it again."""
        if not continuation:
            return 0.0
        if scratch:
            self._use_slot(None)
        logits = self._logits_for(prompt[:-1], [prompt[-1], *continuation[:-1]])
        peak = logits.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(logits - peak).sum(axis=1)) + peak[:, 0]
        chosen = logits[np.arange(len(continuation)), continuation]
        return float((chosen - log_norm).sum())

    def _result(self, text: str, generated: int, prompt: list[int], reused: int, reason: str,
                started: float) -> GenerationResult:
        perf = self._llama_cpp.llama_perf_context(self._llm.ctx)
        return GenerationResult(
            text=text,
            n_generated=generated,
            n_prompt=len(prompt),
            n_reused=reused,
            stop_reason=reason,  # type: ignore[arg-type]
            wall_ms=(time.perf_counter() - started) * 1000,
            engine_ms=perf.t_p_eval_ms + perf.t_eval_ms,
        )

    def close(self) -> None:
        """Free the model and its context."""
        close = getattr(self._llm, "close", None)
        if close is not None:
            close()
