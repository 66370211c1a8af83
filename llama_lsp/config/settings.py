"""Every user-facing option in one table, and their resolution into a frozen ``Settings``.

Clients send options as a JSON object (``initializationOptions``, ``workspace/configuration``
for the section ``llama-lsp``, or ``workspace/didChangeConfiguration``). Keys are camelCase.
Invalid values are reported and replaced by their defaults; they never stop the server.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

CONFIG_SECTION = "llama-lsp"

# Files whose names match these globs never reach a prompt.
DEFAULT_SECRET_PATTERNS: tuple[str, ...] = (
    ".env", ".env.*", "*.env", ".envrc",
    "*.pem", "*.key", "*.crt", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.kdbx",
    "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*",
    "credentials", "credentials.*", "*credentials*.json", "*secret*", ".netrc", ".npmrc",
    ".pypirc", ".git-credentials", ".htpasswd", "*.tfvars", "*.tfstate",
)


@dataclass(frozen=True)
class Option:
    """One documented option: its wire key, settings field, default and validator."""

    key: str
    field_name: str
    default: Any
    description: str
    parse: Callable[[Any], Any]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True)
class Bounded:
    """A numeric validator with inclusive bounds (the VS Code schema shows them too)."""

    minimum: float
    maximum: float
    integer: bool = True
    optional: bool = False
    """None is accepted too (meaning: the default behaviour)."""
    note: str = ""

    def __call__(self, value: Any) -> Any:
        if value is None and self.optional:
            return None
        kinds = (int,) if self.integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or value != value \
                or not self.minimum <= value <= self.maximum:
            kind = "an integer" if self.integer else "a number"
            nullable = "null or " if self.optional else ""
            note = f" ({self.note})" if self.note else ""
            raise ValueError(f"must be {nullable}{kind} between {_number(self.minimum)} and "
                             f"{_number(self.maximum)}{note}")
        return value if self.integer else float(value)


def _optional_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value


def _language_switches(value: Any) -> dict[str, bool]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, bool) for k, v in value.items()
    ):
        raise ValueError('must map language ids to true/false, e.g. {"markdown": false}')
    return dict(value)


def _globs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError('must be a list of glob patterns, e.g. ["*.pem", ".env*"]')
    return tuple(value)


def _docstring_style(value: Any) -> str:
    if value not in ("auto", "google", "numpy", "sphinx"):
        raise ValueError("must be one of auto, google, numpy, sphinx")
    return str(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


BACKENDS = ("embedded", "llamacpp-server", "openai")


def _sha256(value: Any) -> str | None:
    if value is None or value == "":
        return None
    text = value.strip().lower() if isinstance(value, str) else ""
    if text.startswith("sha256:"):
        text = text[len("sha256:"):]
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise ValueError("must be a SHA-256: 64 hex digits (as printed by sha256sum or "
                         "llama-lsp doctor)")
    return text


def _backend(value: Any) -> str:
    if value not in BACKENDS:
        raise ValueError("must be one of " + ", ".join(BACKENDS))
    return value


def _env_var_name(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.replace("_", "a").isalnum() or value[0].isdigit():
        raise ValueError("must be the NAME of an environment variable that holds the key "
                         "(the key itself never goes in settings)")
    return value


def _audit_path(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or "\x00" in value or value.endswith(("/", "\\")):
        raise ValueError("must be the path of a file to append JSON lines to")
    return value


def _fim_template(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be auto, none, a template name or a text template")
    if "{" in value and not ("{prefix}" in value and "{suffix}" in value):
        raise ValueError("a text template needs both {prefix} and {suffix}")
    return value


# Settings that decide where code and API keys are sent. Only the user's own configuration may
# set them: not a repository's files (review config, VS Code workspace settings).
REMOTE_SETTING_KEYS = ("backend", "endpoint", "remoteModel", "apiKeyEnv", "allowInsecureHttp")
# Settings that decide what is hidden from the model and where the audit trail goes: user
# settings only too (a workspace must not switch redaction off or aim the log elsewhere).
PRIVACY_SETTING_KEYS = ("redactSecrets", "auditLog", "auditLogPrompts")
USER_ONLY_SETTING_KEYS = (*REMOTE_SETTING_KEYS, *PRIVACY_SETTING_KEYS)

OPTIONS: tuple[Option, ...] = (
    Option("model", "model", None,
           "Path to a .gguf file, or hf:<owner>/<repo>/<file.gguf> (needs the hf extra and network). "
           "Empty: the embedded demo model when installed.", _optional_str),
    Option("modelSha256", "model_sha256", None,
           "The approved model file's SHA-256 (64 hex digits): a model file with another hash "
           "is refused. Checked once per file version (cached by path, size and time). "
           "Empty: no check.", _sha256),
    Option("contextSize", "context_size", 4096, "Model context window in tokens.",
           Bounded(128, 1_048_576)),
    Option("threads", "threads", None, "CPU threads for generation (default: as many as other programs leave cores free, all but one where that cannot be read).",
           Bounded(1, 1024, optional=True)),
    Option("codeVocabulary", "code_vocabulary", True,
           "Load a copy of a SentencePiece model with 100k tokens or more (Gemma, the demo "
           "model) whose output layer keeps only the tokens code and its comments use, made "
           "once in the user cache: each generated token costs less. Off: the model as it is.",
           _bool),
    Option("gpuLayers", "gpu_layers", 0, "Layers to offload to the GPU (-1: all).",
           Bounded(-1, 10_000, note="-1 offloads all layers")),
    Option("maxTokens", "max_tokens", 64, "Most tokens generated for one completion.",
           Bounded(1, 8192)),
    Option("temperature", "temperature", 0.0, "Sampling temperature; 0 is greedy.",
           Bounded(0, 2, integer=False)),
    Option("languages", "languages", {},
           'Enable or disable completions per language id, e.g. {"markdown": false}.',
           _language_switches),
    Option("enabled", "enabled", True, "Serve completions at all.", _bool),
    Option("prefixLines", "prefix_lines", 128, "Lines before the cursor kept in the prompt.",
           Bounded(1, 100_000)),
    Option("suffixLines", "suffix_lines", 32, "Lines after the cursor kept in the prompt.",
           Bounded(1, 100_000)),
    Option("maxFileBytes", "max_file_bytes", 2_000_000,
           "Files larger than this are not parsed and get no completions.",
           Bounded(1, 1_000_000_000)),
    Option("maxParseLines", "max_parse_lines", 20_000,
           "Files with more lines get no syntax tree: completions see only the text around "
           "the cursor, and code actions are not offered.", Bounded(1, 10_000_000)),
    Option("maxParseBytes", "max_parse_bytes", 1_000_000,
           "Files larger than this get no syntax tree (as for maxParseLines).",
           Bounded(1, 1_000_000_000)),
    Option("crossFileContext", "cross_file_context", True,
           "Add definitions and similar code from other files to the prompt.", _bool),
    Option("contextTokens", "context_tokens", 1024,
           "Most prompt tokens spent on context from outside the cursor window.",
           Bounded(1, 1_048_576)),
    Option("rerankCandidates", "rerank_candidates", 1,
           "Models without FIM tokens: single-line candidates compared by how well the next line "
           "of code follows them (1 turns this off).", Bounded(1, 32)),
    Option("rerankSamples", "rerank_samples", 0,
           "Also compare this many single-line candidates sampled at temperature 0.8 with fixed "
           "seeds (0 turns this off). With a FIM model, the greedy line, the lines that start "
           "with the next likeliest tokens (fimCandidates) and these samples are then all scored "
           "by how well the next line of code follows them after the code before the cursor.",
           Bounded(0, 64)),
    Option("invokedRerankCandidates", "invoked_rerank_candidates", 3,
           "Like rerankCandidates, for a suggestion the user asks for explicitly (the editor's "
           "trigger-suggestion command, `llama-lsp complete`); the larger of the two applies.",
           Bounded(1, 32)),
    Option("invokedRerankSamples", "invoked_rerank_samples", 8,
           "Like rerankSamples, for a suggestion the user asks for explicitly; the larger of the "
           "two applies.", Bounded(0, 64)),
    Option("fimCandidates", "fim_candidates", 3,
           "Models with FIM tokens: when the greedy line repeats a line of the code after the "
           "cursor, compare it with this many lines in all that start with the next likeliest "
           "tokens (and the fimRepeatSamples samples; with those at 0, by how likely the model "
           "finds each one as the whole fill). 1 turns the branches off.",
           Bounded(1, 32)),
    Option("invokedFimCandidates", "invoked_fim_candidates", 5,
           "Like fimCandidates, for a suggestion the user asks for explicitly; the larger of the "
           "two applies.", Bounded(1, 32)),
    Option("fimRepeatSamples", "fim_repeat_samples", 8,
           "Models with FIM tokens: when the greedy line is empty or repeats a line of the code "
           "after the cursor, also sample this many lines, and score them, the greedy line and "
           "the fimCandidates lines by how well the next line of code follows them, as "
           "rerankSamples does (0: compare the fimCandidates lines only, as the whole fill).",
           Bounded(0, 64)),
    Option("completionCache", "completion_cache", True,
           "Reuse earlier completions (same context, typed-through, speculative) instead of "
           "asking the model again.", _bool),
    Option("cacheSize", "cache_size", 256, "Completions kept in the cache (LRU).",
           Bounded(1, 100_000)),
    Option("cacheTtlSeconds", "cache_ttl_seconds", 300,
           "Cached and shown completions are not reused after this many seconds.",
           Bounded(1, 86_400)),
    Option("speculativeCompletion", "speculative_completion", True,
           "After a suggestion is shown, compute the next one in the background as if it were "
           "accepted.", _bool),
    Option("debounceMinMs", "debounce_min_ms", 10,
           "Hold before generating after a pause in typing (ms).", Bounded(0, 2_000)),
    Option("debounceMaxMs", "debounce_max_ms", 120,
           "Longest hold before generating while typing, adapted to typing speed (ms).",
           Bounded(0, 5_000)),
    Option("firstRequestBudgetMs", "first_request_budget_ms", 250,
           "Time limit (ms) for ghost text asked for after a pause: a suggestion not whole by "
           "then is finished in the background and announced ($/llama-lsp/suggestionReady).",
           Bounded(1, 60_000)),
    Option("warmStart", "warm_start", True,
           "Evaluate the prompt ahead of need (when a document is opened or first edited, and "
           "when the model becomes ready), as background work any request interrupts.", _bool),
    Option("warmStartMemoryMb", "warm_start_memory_mb", 256,
           "Memory (MiB) for the model state of recently edited files, so returning to one is "
           "not a cold start (embedded engine; 0 keeps none).", Bounded(0, 16_384)),
    Option("secretPatterns", "secret_patterns", DEFAULT_SECRET_PATTERNS,
           "File name globs that never reach a prompt (replaces the default list).", _globs),
    Option("docstringStyle", "docstring_style", "auto",
           "Python docstring style for generated docstrings: auto (detected from the file's "
           "docstrings, else google), google, numpy or sphinx.", _docstring_style),
    Option("backend", "backend", "embedded",
           "Inference engine: embedded (in-process, default), llamacpp-server (llama.cpp's "
           "llama-server) or openai (an OpenAI-compatible /v1/completions: vLLM, Ollama, ...).",
           _backend),
    Option("endpoint", "endpoint", None,
           "Remote backends: the server's URL, e.g. http://127.0.0.1:8080 or "
           "https://gpu-box:8000/v1.", _optional_str),
    Option("remoteModel", "remote_model", None,
           "openai backend: the model name to request (default: the first of /v1/models).",
           _optional_str),
    Option("apiKeyEnv", "api_key_env", None,
           "Remote backends: NAME of the environment variable holding the API key "
           "(sent as a Bearer token; the key itself is never put in settings or logs).",
           _env_var_name),
    Option("allowInsecureHttp", "allow_insecure_http", False,
           "Allow plain http:// to hosts other than this machine (code travels unencrypted).",
           _bool),
    Option("requestTimeoutSeconds", "request_timeout_seconds", 30.0,
           "Remote backends: longest wait for the server's next byte (connecting: at most 5 s).",
           Bounded(0.1, 3_600, integer=False)),
    Option("fimTemplate", "fim_template", "auto",
           "openai backend: FIM markers as text: auto (ask the server's tokenizer), none "
           "(prefix-only prompts), qwen, starcoder, deepseek, codellama, or a template such as "
           "'<PRE> {prefix} <SUF>{suffix} <MID>'.", _fim_template),
    Option("redactSecrets", "redact_secrets", True,
           "Replace secret values (keys, tokens, passwords, private keys, random-looking "
           "literals) by markers such as <redacted:aws-secret> in every prompt.", _bool),
    Option("auditLog", "audit_log", None,
           "A file to append one JSON line to per model call: time, feature, files and lines "
           "in the prompt, redaction counts, token counts, model and prompt hashes.",
           _audit_path),
    Option("auditLogPrompts", "audit_log_prompts", False,
           "Also write each prompt's text (after redaction) into the audit log.", _bool),
)


@dataclass(frozen=True)
class Settings:
    """Resolved, validated settings. Build with :func:`resolve_settings`."""

    model: str | None = None
    model_sha256: str | None = None
    context_size: int = 4096
    threads: int | None = None
    code_vocabulary: bool = True
    gpu_layers: int = 0
    max_tokens: int = 64
    temperature: float = 0.0
    languages: Mapping[str, bool] = field(default_factory=dict)
    enabled: bool = True
    prefix_lines: int = 128
    suffix_lines: int = 32
    max_file_bytes: int = 2_000_000
    max_parse_lines: int = 20_000
    max_parse_bytes: int = 1_000_000
    cross_file_context: bool = True
    context_tokens: int = 1024
    rerank_candidates: int = 1
    rerank_samples: int = 0
    invoked_rerank_candidates: int = 3
    invoked_rerank_samples: int = 8
    fim_candidates: int = 3
    invoked_fim_candidates: int = 5
    fim_repeat_samples: int = 8
    completion_cache: bool = True
    cache_size: int = 256
    cache_ttl_seconds: int = 300
    speculative_completion: bool = True
    debounce_min_ms: int = 10
    debounce_max_ms: int = 120
    first_request_budget_ms: int = 250
    warm_start: bool = True
    warm_start_memory_mb: int = 256
    secret_patterns: tuple[str, ...] = DEFAULT_SECRET_PATTERNS
    docstring_style: str = "auto"
    backend: str = "embedded"
    endpoint: str | None = None
    remote_model: str | None = None
    api_key_env: str | None = None
    allow_insecure_http: bool = False
    request_timeout_seconds: float = 30.0
    fim_template: str = "auto"
    redact_secrets: bool = True
    audit_log: str | None = None
    audit_log_prompts: bool = False

    def language_enabled(self, language_id: str) -> bool:
        """True unless completions are off, or off for this language."""
        return self.enabled and self.languages.get(language_id, True)

    def for_invoked_request(self) -> Settings:
        """The settings of a suggestion the user asked for explicitly (more candidates)."""
        return replace(
            self,
            rerank_candidates=max(self.rerank_candidates, self.invoked_rerank_candidates),
            rerank_samples=max(self.rerank_samples, self.invoked_rerank_samples),
            fim_candidates=max(self.fim_candidates, self.invoked_fim_candidates),
        )

    def model_identity(self) -> tuple[Any, ...]:
        """The fields that require reloading the model when they change."""
        return (self.model, self.model_sha256, self.context_size, self.threads,
                self.code_vocabulary, self.gpu_layers, self.backend,
                self.endpoint, self.remote_model, self.api_key_env, self.allow_insecure_http,
                self.request_timeout_seconds, self.fim_template)


def _unwrap_section(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """Accept both ``{...options}`` and ``{"llama-lsp": {...options}}``."""
    for name in (CONFIG_SECTION, "llamaLsp", "llama_lsp"):
        inner = raw.get(name)
        if isinstance(inner, Mapping):
            return inner
    return raw


def resolve_settings(
    raw: Mapping[str, Any] | None, base: Settings | None = None
) -> tuple[Settings, list[str]]:
    """Resolve raw client options over ``base``; return the settings and one message per problem."""
    base = base or Settings()
    if raw is None:
        return base, []
    if not isinstance(raw, Mapping):
        return base, [f"llama-lsp settings must be a JSON object, got {type(raw).__name__}"]
    raw = _unwrap_section(raw)
    known = {option.key: option for option in OPTIONS}
    changes: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        option = known.get(key)
        if option is None:
            problems.append(f"unknown llama-lsp setting {key!r} (ignored)")
            continue
        try:
            changes[option.field_name] = option.parse(value)
        except ValueError as error:
            problems.append(
                f"llama-lsp setting {key!r} {error}; using {getattr(base, option.field_name)!r}"
            )
    return dataclasses.replace(base, **changes), problems
