"""``llama-lsp review``: review a diff with the local model and report in CI-friendly formats.

Exit codes: 0 ran and nothing at or above ``--fail-on``; 1 findings at or above it; 2 tool
error (bad arguments or config, no model, not a git repository, malformed or oversized diff).

The gate belongs to the CI job: what is reviewed, the model, the limits and the cache come from
its flags or the ``--config`` file it names; the repository's own file may only add (see
``features/review/config.py``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from llama_lsp.cli.options import add_model_options, add_network_option, model_flags
from llama_lsp.config.settings import Settings, resolve_settings
from llama_lsp.features.audit import AuditTarget, check_writable
from llama_lsp.features.guard import Privacy
from llama_lsp.features.review.cache import MIN_KEY_BYTES, AnswerCache, CacheError, open_cache
from llama_lsp.features.review.config import (
    CONFIDENCES,
    FAIL_ON,
    ConfigError,
    ReviewConfig,
    load_config,
)
from llama_lsp.features.review.diff import DiffError, parse_diff
from llama_lsp.features.review.escape import printable
from llama_lsp.features.review.progress import progress_for
from llama_lsp.features.review.render import FORMATS, render
from llama_lsp.features.review.render import github as github_caps
from llama_lsp.features.review.render.markdown import overflow_section
from llama_lsp.features.review.report import ReviewReport
from llama_lsp.features.review.runner import Reviewer
from llama_lsp.features.review.safe_io import links_on_the_way, write_text
from llama_lsp.features.review.source import DiffSource, SourceError, make_relative, repo_root
from llama_lsp.model.backend import Backend, ModelError


def load_backend(settings: Settings) -> Backend:
    """The model, or the remote server's client (the engine is imported only when needed, so
    refusing a bad diff stays fast)."""
    from llama_lsp.model.host import load_backend as load

    return load(settings)


class UsageError(ValueError):
    """A bad command line; the message is shown as one line."""


def add_review_parser(commands: Any) -> None:
    """Register ``review`` on the ``llama-lsp`` subcommand parser."""
    review = commands.add_parser(
        "review", help="review a diff with the local model (for CI and pre-commit)",
        description="Review the changed code of a diff. Exit 0: ran, nothing at or above "
                    "--fail-on; 1: findings at or above it; 2: error.")
    review.error = _one_line_error  # type: ignore[method-assign]
    source = review.add_mutually_exclusive_group(required=True)
    source.add_argument("--base", metavar="REF", help="review REF...HEAD of this git repository")
    source.add_argument("--staged", action="store_true", help="review the staged changes")
    source.add_argument("--diff", metavar="FILE", help="review a unified diff file ('-': stdin)")
    review.add_argument("--format", action="append", choices=FORMATS, dest="formats",
                        help="format printed on stdout (repeatable; default text)")
    review.add_argument("--output", action="append", default=[], metavar="FORMAT=PATH",
                        help="also write FORMAT to PATH (repeatable)")
    review.add_argument("--fail-on", choices=FAIL_ON,
                        help="exit 1 when a finding is at or above this severity (default never)")
    review.add_argument("--config", metavar="PATH",
                        help="review options from this TOML file ([review] or "
                             "[tool.llama-lsp.review]); the repository's own file may only add "
                             "instructions, a stricter fail-on and a lower min-confidence")
    review.add_argument("--no-repo-config", action="store_true",
                        help="ignore the repository's .llama-lsp.toml and pyproject.toml")
    review.add_argument("--cache-dir", help="reuse answers for unchanged code from this folder "
                                            "(needs --cache-key-env)")
    review.add_argument("--cache-key-env", metavar="NAME",
                        help="environment variable holding the secret key that signs cache "
                             f"entries (at least {MIN_KEY_BYTES} bytes; unset or empty: no "
                             "cache)")
    review.add_argument("--max-diff-bytes", type=int,
                        help="refuse larger diffs (default 64 MiB)")
    review.add_argument("--jobs", type=int, help="units reviewed at once (remote backends only; "
                        "the embedded model reviews one at a time)")
    review.add_argument("--include", action="append", metavar="GLOB",
                        help="review only paths matching (repeatable)")
    review.add_argument("--exclude", action="append", metavar="GLOB",
                        help="never review paths matching (repeatable)")
    review.add_argument("--min-confidence", choices=CONFIDENCES,
                        help="drop findings the model is less sure of (default medium)")
    review.add_argument("--max-findings", type=int, help="findings reported in all (default 50)")
    review.add_argument("--max-findings-per-file", type=int,
                        help="findings reported per file (default 5)")
    review.add_argument("--max-units", type=int, help="units reviewed per run (default 200)")
    review.add_argument("--max-seconds", type=int,
                        help="stop asking the model after this long; the rest is listed")
    review.add_argument("--max-unit-lines", type=int,
                        help="lines shown to the model per unit (default 120)")
    review.add_argument("--no-plain-text", action="store_true",
                        help="skip files without a tree-sitter grammar")
    review.add_argument("--instructions", help="extra review instructions for the model")
    review.add_argument("--quiet", action="store_true", help="no progress on stderr")
    review.add_argument("--audit-log", metavar="PATH",
                        help="append one JSON line per model call to PATH")
    review.add_argument("--audit-log-prompts", action="store_true",
                        help="also write each prompt's text into the audit log")
    add_model_options(review)
    add_network_option(review)


def _one_line_error(message: str) -> NoReturn:
    """Bad flags: one line on stderr and exit code 2 (instead of argparse's usage block)."""
    print(f"llama-lsp review: {message} (see llama-lsp review --help)", file=sys.stderr)
    sys.exit(2)


_FLAGS = ("fail_on", "cache_dir", "cache_key_env", "jobs", "min_confidence", "max_findings",
          "max_findings_per_file", "max_units", "max_unit_lines", "max_seconds", "instructions",
          "model", "max_diff_bytes")


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Review options given on the command line (only those that were set)."""
    options: dict[str, Any] = {name: getattr(args, name) for name in _FLAGS
                               if getattr(args, name) is not None}
    if args.include:
        options["include"] = list(args.include)
    if args.exclude:
        options["exclude"] = list(args.exclude)
    if args.no_plain_text:
        options["plain_text"] = False
    return options


def _outputs(specs: list[str]) -> list[tuple[str, Path]]:
    pairs = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not path:
            raise UsageError(f"--output expects FORMAT=PATH, got {spec!r}")
        if name not in FORMATS:
            raise UsageError(f"--output: unknown format {name!r} (one of {', '.join(FORMATS)})")
        pairs.append((name, Path(path)))
    return pairs


def _check_outputs(outputs: list[tuple[str, Path]], checkout: Path) -> None:
    """Refuse, before any review work, an output whose folder in the checkout is a link."""
    for _, path in outputs:
        if (link := links_on_the_way(path.parent, checkout)) is not None:
            raise UsageError(f"cannot write {path}: {link} is a symbolic link")


def _source(args: argparse.Namespace, cwd: Path) -> DiffSource:
    if args.base is not None:
        source = DiffSource("base", repo_root(cwd), args.base)
        source.verify()
        return source
    if args.staged:
        return DiffSource("staged", repo_root(cwd))
    try:
        root = repo_root(cwd)
    except SourceError:
        root = cwd
    return DiffSource("file", root)


def _settings(config: ReviewConfig, args: argparse.Namespace) -> Settings:
    """Model settings from the review config and the model flags."""
    raw = dict(config.model_settings)
    if config.model is not None:
        raw["model"] = config.model
    raw.update(model_flags(args))  # the command line wins; only it may name a remote server
    settings, problems = resolve_settings(raw)
    if problems:
        raise UsageError(f"model-settings: {problems[0]}")
    return settings


def _warn(message: str) -> None:
    print(f"llama-lsp review: warning: {printable(message)}", file=sys.stderr)


def _error(error: Exception) -> int:
    print(f"llama-lsp review: {printable(str(error))}", file=sys.stderr)
    return 2


def _cache(config: ReviewConfig, checkout: Path) -> AnswerCache | None:
    """The signed answer cache the CI job asked for, or None (no folder, or no key here)."""
    if not config.cache_dir:
        return None
    if not config.cache_key_env:
        raise UsageError("--cache-dir needs --cache-key-env NAME: an environment variable with "
                         "a secret key that signs the entries (see docs/review.md)")
    secret = os.environ.get(config.cache_key_env, "")
    if not secret:
        _warn(f"no cache: ${config.cache_key_env} is empty or unset")
        return None
    if len(secret.encode("utf-8")) < MIN_KEY_BYTES:
        raise UsageError(f"${config.cache_key_env} must hold at least {MIN_KEY_BYTES} bytes")
    try:
        return open_cache(Path(config.cache_dir), secret, checkout)
    except CacheError as error:
        _warn(f"no cache: {error}")
        return None


def _write_outputs(report: ReviewReport, formats: list[str],
                   outputs: list[tuple[str, Path]], checkout: Path) -> None:
    for name in formats:
        sys.stdout.write(render(name, report))
    for name, path in outputs:
        try:
            write_text(path, render(name, report), checkout)
        except OSError as error:
            raise UsageError(f"cannot write {path}: {error.strerror or error}") from error
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    rest = github_caps.overflow(report)
    if summary and rest and ("github" in formats or any(n == "github" for n, _ in outputs)):
        try:
            with open(summary, "a", encoding="utf-8") as handle:
                handle.write(overflow_section(rest))
        except OSError as error:
            raise UsageError(f"cannot append to GITHUB_STEP_SUMMARY: {error.strerror}") from error


def _privacy(args: argparse.Namespace) -> Privacy:
    """Prompts are always redacted; ``--audit-log`` must be writable before anything runs."""
    if args.audit_log:
        try:
            check_writable(args.audit_log)
        except OSError as error:
            raise UsageError(f"cannot write the audit log {args.audit_log}: "
                             f"{error.strerror or error}") from error
    return Privacy(True, AuditTarget(args.audit_log, args.audit_log_prompts, True))


def run_review(args: argparse.Namespace) -> int:
    """Run the review; print one-line errors and return the exit code."""
    try:
        outputs = _outputs(args.output)
        cwd = Path.cwd()
        source = _source(args, cwd)
        _check_outputs(outputs, source.root)
        config = load_config(source.root, _overrides(args),
                             Path(args.config) if args.config else None,
                             read_repository=not args.no_repo_config, warn=_warn)
        source = dataclasses.replace(source, max_diff_bytes=config.max_diff_bytes,
                                     max_file_bytes=config.max_file_bytes)
        text = source.diff_text(args.diff, sys.stdin.buffer if args.diff == "-" else None)
        files = make_relative(parse_diff(text), source.root)
        settings = _settings(config, args)
        cache = _cache(config, source.root)
        privacy = _privacy(args)
    except (UsageError, ConfigError, SourceError, DiffError) as error:
        return _error(error)
    reviewer = Reviewer(lambda: load_backend(settings), config, cache,
                        progress_for(sys.stderr, args.quiet), privacy)
    try:
        description = (f"{source.base}...HEAD" if source.mode == "base" else
                       "staged changes" if source.mode == "staged" else args.diff)
        report = reviewer.review(files, source.new_content, source.new_size, description)
        _write_outputs(report, args.formats or ["text"], outputs, source.root)
    except (UsageError, ModelError) as error:
        return _error(error)
    finally:
        if reviewer.loaded:
            reviewer.backend.close()
    return 1 if report.fails(config.fail_on) else 0
