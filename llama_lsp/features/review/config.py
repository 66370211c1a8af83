"""Review options: defaults, ``[tool.llama-lsp.review]`` / ``.llama-lsp.toml``, CLI overrides."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_lsp.config.settings import REMOTE_SETTING_KEYS

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
    "plain_text": _bool,
    "do_not_report": _strings,
    "suppress": _patterns,
    "ignore_categories": _categories,
    "instructions": _string,
    "max_tokens": _positive,
    "max_seconds": _positive,
    "cache_dir": _string,
    "jobs": _positive,
    "model": _string,
    "model_settings": _table,
}


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


def _read_toml(path: Path) -> Mapping[str, Any]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from error


def file_options(root: Path) -> tuple[Mapping[str, Any], Path | None]:
    """Review options from ``.llama-lsp.toml`` (``[review]`` or ``[tool.llama-lsp.review]``)
    or else ``pyproject.toml`` (``[tool.llama-lsp.review]``) in ``root``, and the file used."""
    for name in (".llama-lsp.toml", "pyproject.toml"):
        path = root / name
        if not path.is_file():
            continue
        data = _read_toml(path)
        section = data.get("tool", {}).get("llama-lsp", {}).get("review")
        if section is None and name == ".llama-lsp.toml":
            section = data.get("review")
        if section is not None:
            if not isinstance(section, Mapping):
                raise ConfigError(f"{path}: the review section must be a table")
            return section, path
    return {}, None


def load_config(root: Path, overrides: Mapping[str, Any]) -> ReviewConfig:
    """Defaults, then the project's config file, then ``overrides`` (CLI flags that were set)."""
    options, _ = file_options(root)
    return apply_options(apply_options(ReviewConfig(), options), overrides)
