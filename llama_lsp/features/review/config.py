"""Review options: defaults, the CI job's ``--config`` file and flags, then the few options a
repository's own ``.llama-lsp.toml`` / ``pyproject.toml`` may set (see :data:`REPOSITORY_KEYS`)."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_lsp.config.settings import REMOTE_SETTING_KEYS
from llama_lsp.features.review.safe_io import read_inside

SEVERITIES = ("error", "warning", "info")
CATEGORIES = ("bug", "security", "performance", "maintainability", "style")
CONFIDENCES = ("low", "medium", "high")
FAIL_ON = ("never", *SEVERITIES)

DEFAULT_DO_NOT_REPORT: tuple[str, ...] = (
    "style nits (naming, formatting, line length, quotes, whitespace)",
    "missing docstrings or comments",
    "missing type hints",
    "import order",
)

DEFAULT_SUPPRESS: tuple[str, ...] = (
    r"docstring", r"type (hint|annotation)", r"import(s)? (order|sort)", r"sort(ed)? imports",
    r"naming convention", r"line (is )?too long", r"line length", r"trailing whitespace",
)
"""Regular expressions (case-insensitive): findings whose message matches one are dropped."""


class ConfigError(ValueError):
    """An invalid review option; the message names the option."""


@dataclass(frozen=True)
class ReviewConfig:
    """Everything that shapes a review run. Keys in TOML use dashes (``fail-on``)."""

    fail_on: str = "never"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    min_confidence: str = "medium"
    max_findings_per_file: int = 5
    max_findings: int = 50
    max_units: int = 200
    max_unit_lines: int = 120
    max_file_bytes: int = 1_000_000
    max_diff_bytes: int = 64 * 1024 * 1024
    """A larger diff is refused (exit 2) before it is parsed."""
    plain_text: bool = True
    """Review files without a tree-sitter grammar as plain text (hunk plus nearby lines)."""
    do_not_report: tuple[str, ...] = DEFAULT_DO_NOT_REPORT
    suppress: tuple[str, ...] = DEFAULT_SUPPRESS
    ignore_categories: tuple[str, ...] = ("style",)
    instructions: str = ""
    max_tokens: int = 256
    max_seconds: int | None = None
    """Stop asking the model after this many seconds; the remaining units are listed."""
    cache_dir: str | None = None
    cache_key_env: str | None = None
    """The environment variable holding the secret key that signs cache entries."""
    jobs: int = 1
    model: str | None = None
    model_settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Server settings by their keys (``contextSize``, ``gpuLayers``, backend options...)."""


def _string(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"review option {key!r} must be a string")
    return value


def _choice(choices: tuple[str, ...]) -> Any:
    def parse(key: str, value: Any) -> str:
        if value not in choices:
            raise ConfigError(f"review option {key!r} must be one of {', '.join(choices)}")
        return value
    return parse


def _positive(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"review option {key!r} must be a positive integer")
    return value


def _strings(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"review option {key!r} must be a list of strings")
    return tuple(value)


def _categories(key: str, value: Any) -> tuple[str, ...]:
    values = _strings(key, value)
    if unknown := [v for v in values if v not in CATEGORIES]:
        raise ConfigError(f"review option {key!r}: unknown categories {unknown}; "
                          f"known: {', '.join(CATEGORIES)}")
    return values


def _patterns(key: str, value: Any) -> tuple[str, ...]:
    values = _strings(key, value)
    for pattern in values:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ConfigError(f"review option {key!r}: bad pattern {pattern!r}: {error}") from error
    return values


def _table(key: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"review option {key!r} must be a table of llama-lsp settings")
    remote = [name for name in value if name in REMOTE_SETTING_KEYS]  # a PR could change them
    if remote:
        raise ConfigError(f"review option {key!r} may not set {', '.join(remote)}: a repository's "
                          "files must not choose where code and keys are sent; use the command "
                          "line (--backend, --endpoint, --api-key-env, ...)")
    return dict(value)


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"review option {key!r} must be true or false")
    return value


_PARSERS = {
    "fail_on": _choice(FAIL_ON),
    "include": _strings,
    "exclude": _strings,
    "min_confidence": _choice(CONFIDENCES),
    "max_findings_per_file": _positive,
    "max_findings": _positive,
    "max_units": _positive,
    "max_unit_lines": _positive,
    "max_file_bytes": _positive,
    "max_diff_bytes": _positive,
    "plain_text": _bool,
    "do_not_report": _strings,
    "suppress": _patterns,
    "ignore_categories": _categories,
    "instructions": _string,
    "max_tokens": _positive,
    "max_seconds": _positive,
    "cache_dir": _string,
    "cache_key_env": _string,
    "jobs": _positive,
    "model": _string,
    "model_settings": _table,
}


REPOSITORY_KEYS = frozenset({"instructions", "fail_on", "min_confidence"})
"""What the repository under review may set in its own files. It may add instructions, fail on
a lower severity and report less confident findings: all of which can only make the gate
stricter. What is reviewed, by which model, with what limits and where files are written
belong to the CI job: its flags, or a file it names with ``--config``."""
REPOSITORY_FILES = (".llama-lsp.toml", "pyproject.toml")
MAX_CONFIG_BYTES = 1_000_000


def apply_options(config: ReviewConfig, options: Mapping[str, Any]) -> ReviewConfig:
    """``config`` with ``options`` (dashed or underscored keys) validated and applied."""
    changes: dict[str, Any] = {}
    for key, value in options.items():
        name = key.replace("-", "_")
        parser = _PARSERS.get(name)
        if parser is None:
            raise ConfigError(f"unknown review option {key!r}")
        changes[name] = parser(key, value)
    return dataclasses.replace(config, **changes)


def _parse_toml(text: str, path: Path) -> Mapping[str, Any]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"cannot read {path}: {error}") from error


def _section(data: Mapping[str, Any], path: Path, bare: bool) -> Mapping[str, Any] | None:
    """``[tool.llama-lsp.review]``, or ``[review]`` when ``bare`` is allowed."""
    tool = data.get("tool", {})
    section = tool.get("llama-lsp", {}).get("review") if isinstance(tool, Mapping) else None
    if section is None and bare:
        section = data.get("review")
    if section is not None and not isinstance(section, Mapping):
        raise ConfigError(f"{path}: the review section must be a table")
    return section


def config_file_options(path: Path) -> Mapping[str, Any]:
    """Every option of a config file the CI job names (``[review]`` or
    ``[tool.llama-lsp.review]``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {getattr(error, 'strerror', error)}") from error
    section = _section(_parse_toml(text, path), path, bare=True)
    if section is None:
        raise ConfigError(f"{path} has no [review] or [tool.llama-lsp.review] section")
    return section


def file_options(root: Path, warn: Callable[[str], None] | None = None
                 ) -> tuple[Mapping[str, Any], Path | None]:
    """Review options from the repository's ``.llama-lsp.toml`` (``[review]`` or
    ``[tool.llama-lsp.review]``) or else ``pyproject.toml`` (``[tool.llama-lsp.review]``), and
    the file used. A symbolic link, or a file that is not regular or over 1 MB, is ignored (and
    ``warn`` is told)."""
    for name in REPOSITORY_FILES:
        path = root / name
        if not os.path.lexists(path):
            continue
        data = read_inside(root, name, MAX_CONFIG_BYTES)
        if data is None:
            if warn is not None:
                warn(f"ignoring {name}: not a regular file of the repository (a symbolic "
                     f"link?) or larger than {MAX_CONFIG_BYTES:,} bytes")
            continue
        section = _section(_parse_toml(data.decode("utf-8", "replace"), path), path,
                           bare=name == ".llama-lsp.toml")
        if section is not None:
            return section, path
    return {}, None


def _stricter(ci: ReviewConfig, repository: ReviewConfig) -> ReviewConfig:
    """The CI job's config with the repository's additions: never less strict than the job's."""
    instructions = "\n".join(text for text in (ci.instructions.strip(),
                                               repository.instructions.strip()) if text)
    return dataclasses.replace(
        ci,
        fail_on=max(ci.fail_on, repository.fail_on, key=FAIL_ON.index),
        min_confidence=min(ci.min_confidence, repository.min_confidence, key=CONFIDENCES.index),
        instructions=instructions,
    )


def load_config(root: Path, overrides: Mapping[str, Any], config_file: Path | None = None,
                read_repository: bool = True, warn: Callable[[str], None] | None = None
                ) -> ReviewConfig:
    """Defaults, then the CI job's ``config_file`` and ``overrides`` (its flags that were set),
    then what the repository's own file may add (:data:`REPOSITORY_KEYS`).

    The repository's other options are ignored and ``warn`` is told which, so that a pull
    request cannot narrow the review, change the model or move the cache.
    """
    ci = ReviewConfig()
    if config_file is not None:
        ci = apply_options(ci, config_file_options(config_file))
    ci = apply_options(ci, overrides)
    if not read_repository:
        return ci
    options, used = file_options(root, warn)
    if used is None or (config_file is not None and _same_file(used, config_file)):
        return ci
    allowed = {key: value for key, value in options.items()
               if key.replace("-", "_") in REPOSITORY_KEYS}
    if unknown := [key for key in options if key.replace("-", "_") not in _PARSERS]:
        raise ConfigError(f"unknown review option {unknown[0]!r} in {used}")
    ignored = [key for key in options if key not in allowed]
    if ignored and warn is not None:
        warn(f"ignoring {', '.join(ignored)} in {used.name}: a repository may only add "
             "instructions, fail-on (stricter) and min-confidence (lower); the CI job sets the "
             "rest with flags or --config")
    return _stricter(ci, apply_options(ReviewConfig(fail_on="never", min_confidence="high"),
                                       allowed))


def _same_file(one: Path, other: Path) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False
