"""``llama-lsp complete FILE:LINE:COL``: the server's completion pipeline, once, from a shell."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from llama_lsp.cli.options import settings_from_args
from llama_lsp.context.assembly import WorkspaceContext
from llama_lsp.config.settings import Settings
from llama_lsp.context.documents import Document, DocumentSnapshot
from llama_lsp.context.exclusions import ExclusionPolicy
from llama_lsp.context.positions import Position, PositionEncoding, PositionError
from llama_lsp.context.syntax.languages import language_id_for_path
from llama_lsp.context.workspace import WorkspaceIndex
from llama_lsp.features.audit import check_writable, model_file_sha256
from llama_lsp.features.completion.prompt_report import (
    PromptRefused,
    format_prompt_report,
    prompt_report,
)
from llama_lsp.features.completion.pipeline import CompletionPipeline
from llama_lsp.model.backend import ModelError
from llama_lsp.model.host import load_backend


def parse_location(location: str) -> tuple[Path, int, int]:
    """``FILE:LINE:COL`` (1-based) -> path and 0-based line and column."""
    try:
        path, line, column = location.rsplit(":", 2)
        line_number, column_number = int(line), int(column)
    except ValueError as error:
        raise ValueError(f"expected FILE:LINE:COL, got {location!r}") from error
    if line_number < 1 or column_number < 1:
        raise ValueError("LINE and COL count from 1")
    return Path(path), line_number - 1, column_number - 1


def project_root(file: Path) -> Path:
    """The enclosing git work tree (or project marker folder), else the current folder when
    the file is inside it (so that ``secrets/x.py`` keeps its folder name), else the file's
    folder."""
    for directory in file.parents:
        if any((directory / marker).exists() for marker in
               (".git", "pyproject.toml", "package.json", "go.mod", "Cargo.toml", "pom.xml")):
            return directory
    cwd = Path.cwd().resolve()
    inside = file.is_relative_to(cwd) and cwd != Path(cwd.anchor)
    return cwd if inside else file.parent


def run_complete(args: argparse.Namespace) -> int:
    """Print the completion (exit 0), nothing found (exit 1), or an error (exit 2)."""
    settings = settings_from_args(args)
    if settings is None:
        return 2
    if not args.quick:  # asked for explicitly: compare more candidates
        settings = settings.for_invoked_request()
    if args.audit_log:
        settings = replace(settings, audit_log=args.audit_log,
                           audit_log_prompts=args.audit_log_prompts)
        try:
            check_writable(args.audit_log)
        except OSError as error:
            print(f"llama-lsp: cannot write the audit log {args.audit_log}: {error}",
                  file=sys.stderr)
            return 2
    try:
        path, line, column = parse_location(args.location)
        text = path.read_text(encoding="utf-8")
    except (ValueError, OSError, UnicodeDecodeError) as error:
        print(f"llama-lsp: {error}", file=sys.stderr)
        return 2
    document = Document(path.resolve().as_uri(), language_id_for_path(str(path)), 0, text,
                        settings.max_file_bytes, settings.max_parse_lines,
                        settings.max_parse_bytes)
    snapshot = document.snapshot()
    try:
        offset = snapshot.index.offset_at(Position(line, column), PositionEncoding.UTF32)
        backend = load_backend(settings)
    except (PositionError, ModelError) as error:
        print(f"llama-lsp: {error}", file=sys.stderr)
        return 2
    if settings.audit_log:  # the audit line names the model file by its hash
        model_file_sha256(backend.info.path, wait=True)
    root = project_root(path.resolve())
    index = WorkspaceIndex([root], ExclusionPolicy([root], settings.secret_patterns,
                                                   settings.max_file_bytes), background=False,
                           parse_limits=(settings.max_parse_lines, settings.max_parse_bytes))
    context = WorkspaceContext(index, [snapshot])
    try:
        return _complete_and_print(CompletionPipeline(backend), snapshot, offset, settings,
                                   context, args.show_prompt)
    except ModelError as error:  # e.g. the server went away, or the prompt does not fit
        print(f"llama-lsp: {error}", file=sys.stderr)
        return 2


def _complete_and_print(pipeline: CompletionPipeline, snapshot: DocumentSnapshot, offset: int,
                        settings: Settings, context: WorkspaceContext,
                        show_prompt: bool) -> int:
    backend = pipeline.backend
    if show_prompt:
        try:
            report = prompt_report(pipeline, snapshot, offset, settings, context)
        except PromptRefused as error:
            print(f"llama-lsp: {error}", file=sys.stderr)
            return 1
        print(format_prompt_report(report))
        if backend.info.engine == "llamacpp-server" and report["fim"]:
            print("--- sent to /infill as prefix, suffix and input_extra files: the server lays "
                  "out the same parts with its own FIM tokens ---")
        print("--- completion ---")
    outcome = pipeline.complete(snapshot, offset, settings, context)
    if outcome.skipped:
        print(f"llama-lsp: {outcome.skipped}", file=sys.stderr)
    if not outcome.suggestions:
        print("llama-lsp: the model suggested nothing here", file=sys.stderr)
        return 1
    print(outcome.suggestions[0].text)
    return 0
