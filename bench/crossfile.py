"""Cross-file context: exact match on calls whose target is defined in another file.

Cases come from this repository's own code: every line in `llama_lsp/` that calls a function
imported from another module of the package, with the arguments on the same line. The rest of
the line after `name(` is removed and the model must write it back. The same pipeline runs
with and without cross-file context (definitions of imported symbols in the prompt, and the
callee's parameters for post-processing). `--verbose` prints each answer, and the model's own
first line where post-processing changed it.

With a model that has repo-level FIM tokens (Qwen2.5-Coder: `<|file_sep|>`), a third run
gives the same context under comment path headers (`# path` inside the FIM prefix, as for a
model without them), so the two layouts compare on the same chunks. The pipeline's repo-level
layout is `<|repo_name|>name\n` (the workspace folder's name), then `<|file_sep|>path\ntext`
per chunk and `<|file_sep|>own path\n` before `<|fim_prefix|>`; a fourth run leaves the
`<|repo_name|>` line out. The repository cases sit in a folder named `llama-lsp`, the
generated projects in one named `services`.

The cases are taken from the package as it was at a fixed commit (``--revision``, extracted
with ``git archive``), so that new code does not change the set between runs; ``--revision
worktree`` takes them from the files on disk instead.

    python bench/crossfile.py [--model M.gguf] [--limit 60] [--threads N] [--revision REV]
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from llama_lsp.config.settings import Settings, resolve_settings
from llama_lsp.context.assembly import WorkspaceContext
from llama_lsp.context.documents import Document
from llama_lsp.context.exclusions import ExclusionPolicy
from llama_lsp.context.imports import resolve_import
from llama_lsp.context.syntax.outline import imports
from llama_lsp.context.workspace import WorkspaceIndex
from llama_lsp.features.completion.pipeline import CompletionPipeline
from llama_lsp.features.completion.postprocess import CompletionMode
from llama_lsp.model.host import load_backend

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Case:
    """A file, the text up to and including `name(`, and the expected rest of the line."""

    path: Path
    text: str
    offset: int
    expected: str
    callee: str


# The commit whose code gives the repository cases (the state the figures were first taken at).
CASES_REVISION = "fa7a25ee6be1a55547249d62eb79118791543b82"


def checkout(revision: str, folder: Path) -> Path:
    """The repository's ``llama_lsp/`` at ``revision``, extracted under ``folder/llama-lsp``
    (the workspace folder, whose name is the repository name in prompts)."""
    folder = folder / "llama-lsp"
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "llama_lsp"],
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        if hasattr(tarfile, "data_filter"):  # Python 3.10.12+ / 3.11.4+
            tar.extractall(folder, filter="data")
        else:
            tar.extractall(folder)  # our own repository's archive
    return folder


def find_cases(limit: int, root: Path = ROOT) -> list[Case]:
    """Calls of functions imported from other package modules, one per callee."""
    cases: list[Case] = []
    seen: set[str] = set()
    for path in sorted((root / "llama_lsp").rglob("*.py")):
        source = path.read_text()
        document = Document(path.as_uri(), "python", 1, source, 10**8).snapshot()
        assert document.tree is not None and document.language is not None
        data = source.encode()
        local_names: set[str] = set()
        for ref in imports(document.tree, data, document.language):
            if ref.module.startswith("llama_lsp") and resolve_import(ref, path, "python", [root]):
                local_names.update(ref.names)
        body_start = max((m.end() for m in re.finditer(r"^(from|import) .*$", source, re.M)),
                         default=0)
        for name in sorted(local_names - seen):
            match = re.search(rf"^(?P<head>[^#\n]*\b{re.escape(name)}\()(?P<rest>[^\n]+\))$",
                              source[body_start:], re.M)
            if not match or match.group("rest").count("(") != match.group("rest").count(")") - 1:
                continue
            start = body_start + match.start("head")
            offset = start + len(match.group("head"))
            line_end = offset + len(match.group("rest"))
            cases.append(Case(path, source[:offset] + source[line_end:], offset,
                              match.group("rest").strip(), name))
            seen.add(name)
    return cases[:limit]


# Generated projects: a library function with telling parameter names, called from another
# file whose locals include those names among distractors.
GENERATED = [
    ("billing", "make_invoice", ["customer_id", "line_items", "currency"]),
    ("geometry", "scale_polygon", ["points", "factor", "origin"]),
    ("mailer", "send_receipt", ["recipient", "order_number", "total_amount"]),
    ("storage", "upload_blob", ["bucket_name", "object_key", "payload"]),
    ("auth", "issue_token", ["user_name", "scopes", "lifetime_seconds"]),
    ("reports", "render_summary", ["period_start", "period_end", "department"]),
    ("network", "open_tunnel", ["remote_host", "remote_port", "local_port"]),
    ("images", "resize_thumbnail", ["source_path", "max_width", "max_height"]),
    ("inventory", "reserve_stock", ["warehouse_code", "sku", "quantity"]),
    ("scheduler", "book_meeting", ["organizer", "attendees", "starts_at"]),
    ("search", "rank_documents", ["query_terms", "corpus", "top_k"]),
    ("payments", "refund_charge", ["charge_id", "refund_amount", "reason"]),
]
DISTRACTORS = ["config", "logger", "result", "items", "value", "options"]


def generated_cases(folder: Path) -> list[Case]:
    """One small project per entry of GENERATED, written under ``folder``."""
    cases = []
    for package, function, parameters in GENERATED:
        library = folder / package / "api.py"
        library.parent.mkdir(parents=True)
        (library.parent / "__init__.py").write_text("")
        signature = ", ".join(parameters)
        library.write_text(f'"""The {package} API."""\n\n\n'
                           f"def {function}({signature}):\n"
                           f'    """{function.replace("_", " ").capitalize()}."""\n'
                           f"    raise NotImplementedError\n")
        locals_ = [*DISTRACTORS[:3], *reversed(parameters), *DISTRACTORS[3:]]
        assignments = "".join(f"    {name} = load('{name}')\n" for name in locals_)
        head = (f"from {package}.api import {function}\nfrom util import load\n\n\n"
                f"def handle_request():\n{assignments}    return {function}(")
        caller = folder / package / "views.py"
        caller.write_text(head + "\n")
        cases.append(Case(caller, head + "\n", len(head), signature + ")", function))
    return cases


def _repo_level(backend: object) -> bool:
    fim = backend.info.fim  # type: ignore[attr-defined]
    return fim is not None and fim.file_separator is not None


class NoRepoName:
    """A backend seen without its ``<|repo_name|>`` token: the repo-level layout without
    the repository's name."""

    def __init__(self, backend: object) -> None:
        self._backend = backend
        info = backend.info  # type: ignore[attr-defined]
        self.info = replace(info, fim=replace(info.fim, repo_name=None))

    def __getattr__(self, name: str) -> object:
        return getattr(self._backend, name)


class CommentHeaders:
    """A backend seen without its repo-level FIM tokens: the pipeline then heads context
    chunks with a path comment inside the FIM prefix instead of ``<|file_sep|>path``."""

    def __init__(self, backend: object) -> None:
        self._backend = backend
        info = backend.info  # type: ignore[attr-defined]
        self.info = replace(info, fim=replace(info.fim, file_separator=None, repo_name=None))

    def __getattr__(self, name: str) -> object:
        return getattr(self._backend, name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model")
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--threads", type=int, help="CPU threads for generation")
    parser.add_argument("--verbose", action="store_true", help="print every case")
    parser.add_argument("--revision", default=CASES_REVISION,
                        help="commit whose llama_lsp/ gives the repository cases, or 'worktree' "
                             f"(default {CASES_REVISION[:10]})")
    args = parser.parse_args()
    raw = {"model": args.model, "threads": args.threads}
    settings, problems = resolve_settings({k: v for k, v in raw.items() if v is not None})
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    backend = load_backend(settings)
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as old:
        repository = ROOT
        if args.revision != "worktree":
            try:
                repository = checkout(args.revision, Path(old))
            except (OSError, subprocess.CalledProcessError) as error:
                print(f"cannot extract {args.revision} ({error}); run with --revision worktree",
                      file=sys.stderr)
                return 2
        projects = Path(folder) / "services"
        projects.mkdir()
        generated = generated_cases(projects)
        label = f"llama_lsp/ calls at {args.revision[:10]}"
        for label, cases, root in ((label, find_cases(args.limit, repository), repository),
                                   ("generated projects", generated, projects)):
            print(f"== {label}: {len(cases)} cross-file calls; model {backend.info.name}")
            run(backend, settings, cases, root, args.verbose)
    return 0


def run(backend: object, settings: Settings, cases: list[Case], root: Path,
        verbose: bool) -> None:
    """Exact match with and without cross-file context, printed."""
    index = WorkspaceIndex([root], ExclusionPolicy([root]), background=False)
    configs: dict[str, tuple[Settings, object]] = {
        "without context": (replace(settings, cross_file_context=False), backend),
        "with context": (settings, backend)}
    if _repo_level(backend):
        # The same context under comment path headers (`# path`), as for a model without
        # repo-level tokens, against the model's own `<|file_sep|>path` layout.
        configs["comment headers"] = (settings, CommentHeaders(backend))
        if backend.info.fim.repo_name is not None:  # type: ignore[attr-defined]
            configs["no repo name"] = (settings, NoRepoName(backend))
    results: dict[str, list[bool]] = {name: [] for name in configs}
    context_tokens: list[int] = []
    for case in cases:
        snapshot = Document(case.path.as_uri(), "python", 1, case.text, 10**8).snapshot()
        for name, (config, engine) in configs.items():
            pipeline = CompletionPipeline(engine)
            started = time.perf_counter()
            outcome = pipeline.complete(snapshot, case.offset, config,
                                        WorkspaceContext(index, [snapshot]),
                                        mode=CompletionMode.SINGLE_LINE)
            got = outcome.suggestions[0].text.strip() if outcome.suggestions else ""
            results[name].append(got == case.expected)
            if name == "with context" and outcome.prompt is not None:
                context_tokens.append(outcome.prompt.parts.get("context", 0))
            if verbose:
                raw = outcome.raw_text.split("\n")[0].strip()
                wrote = f" [model wrote {raw!r}]" if raw != got else ""
                print(f"{name:>16} {case.callee}: {got!r}{wrote} (want {case.expected!r}) "
                      f"{(time.perf_counter() - started) * 1000:.0f} ms")
    for name, hits in results.items():
        print(f"{name:>16}: exact match {sum(hits)}/{len(hits)} = {sum(hits) / len(hits):.1%}")
    print(f"context tokens with context: median {statistics.median(context_tokens):.0f}")


if __name__ == "__main__":
    sys.exit(main())
