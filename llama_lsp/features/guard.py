"""The one way features hand text to the model: redacted first, audited after.

Completions build token prompts from several texts and call :func:`redacted` on each; the
code actions and review send one text prompt through :func:`call_model`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from llama_lsp.config.settings import Settings
from llama_lsp.context.redaction import Redacted, redact
from llama_lsp.features.audit import AuditTarget, ModelCall, Source, record
from llama_lsp.model.backend import Backend, GenerationRequest, GenerationResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Privacy:
    """Whether prompts are redacted (on unless switched off) and where calls are audited."""

    redact: bool = True
    audit: AuditTarget = field(default_factory=AuditTarget)

    @classmethod
    def from_settings(cls, settings: Settings, wait_for_model_hash: bool = False) -> Privacy:
        """The privacy settings of a session or command."""
        return cls(settings.redact_secrets,
                   AuditTarget(settings.audit_log, settings.audit_log_prompts,
                               wait_for_model_hash))


def redacted(text: str, privacy: Privacy, code: bool = True) -> Redacted:
    """``text`` as it may enter a prompt."""
    return redact(text, code) if privacy.redact else Redacted(text)


def audit(backend: Backend, privacy: Privacy, call: ModelCall) -> None:
    """Append ``call`` to the audit log, if there is one (a failure to write is logged)."""
    if privacy.audit.path is None:
        return
    try:
        record(privacy.audit, backend.info, call)
    except OSError as error:
        logger.warning("cannot write the audit log %s: %s", privacy.audit.path, error)


def call_model(backend: Backend, prompt_text: str,
               make_request: Callable[[list[int]], GenerationRequest],
               is_cancelled: Callable[[], bool], privacy: Privacy, feature: str,
               sources: Sequence[Source]) -> tuple[GenerationResult, Redacted]:
    """Redact ``prompt_text``, tokenize it (after BOS), generate with the request that
    ``make_request`` builds from the tokens, and audit the call."""
    text = redacted(prompt_text, privacy)
    tokens = [*backend.info.bos, *backend.tokenize(text.text)]
    result = backend.generate(make_request(tokens), is_cancelled)
    audit(backend, privacy, ModelCall(feature, tuple(sources), text.counts, len(tokens),
                                      result.n_generated, text.text))
    return result, text
