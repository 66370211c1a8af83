"""The exact prompt the completion pipeline would build at a cursor, as plain data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llama_lsp.config.settings import Settings
from llama_lsp.context.documents import DocumentSnapshot
from llama_lsp.features.completion.pipeline import CompletionPipeline

if TYPE_CHECKING:
    from llama_lsp.context.assembly import ContextSource


class PromptRefused(ValueError):
    """The document must stay out of prompts (a secret-bearing file): no prompt is built."""


def prompt_report(pipeline: CompletionPipeline, snapshot: DocumentSnapshot, offset: int,
                  settings: Settings, context: ContextSource | None = None) -> dict[str, Any]:
    """Prompt text, token counts per part, mode and the context chunks from ``context`` (call
    on the model thread).

    ``prompt`` is the detokenized token list that generation would receive, so it shows FIM
    markers, context headers and redaction markers (``<redacted:kind>``) exactly as the model
    sees them; ``redactions`` counts the secret values replaced, by kind. Raises
    :class:`PromptRefused` for a secret-bearing file (a remote engine would tokenize it).
    """
    if context is not None and (refusal := context.refusal(snapshot)) is not None:
        raise PromptRefused(f"no prompt in a {refusal}")
    built = pipeline.build_prompt(snapshot, offset, settings, context)
    return {
        "prompt": pipeline.backend.detokenize(built.tokens),
        "tokens": len(built.tokens),
        "parts": dict(built.parts),
        "mode": built.mode.value,
        "fim": built.fim,
        "model": pipeline.backend.info.name,
        "redactions": dict(built.redactions),
        "context": [
            {"kind": chunk.kind, "origin": chunk.origin, "path": chunk.path,
             "line": chunk.key[1] + 1, "tokens": size}
            for chunk, size in zip(built.context, built.context_sizes)
        ],
    }


def format_prompt_report(report: dict[str, Any]) -> str:
    """The report as text: a header like ``llama-lsp complete --show-prompt`` prints, then the
    prompt."""
    parts = ", ".join(f"{name} {count}" for name, count in report["parts"].items())
    lines = [f"--- prompt for {report['model']}: {report['tokens']} tokens ({parts}); "
             f"{report['mode']}; {'FIM' if report['fim'] else 'prefix-only'} ---"]
    if report.get("redactions"):
        found = ", ".join(f"{kind} {count}" for kind, count in report["redactions"].items())
        lines.append(f"--- redacted secret values: {found} ---")
    lines += [f"--- context: {chunk['kind']} from {chunk['origin']} {chunk['path']}:"
              f"{chunk['line']} ({chunk['tokens']} tokens) ---" for chunk in report["context"]]
    lines.append(report["prompt"])
    return "\n".join(lines)
