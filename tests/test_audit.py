"""The audit trail and redaction in the features: one JSON line per model call, prompts only
when asked, secret values restored in fixes or refused, never inserted by a completion."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import secret_corpus as corpus
from test_actions_units import ScriptedBackend, snapshot_of
from tiny_models import TinyModelInfo

from llama_lsp.config.settings import Settings, resolve_settings
from llama_lsp.context.documents import Document
from llama_lsp.context.exclusions import ExclusionPolicy, secret_reason
from llama_lsp.features import audit
from llama_lsp.features.actions import service
from llama_lsp.features.audit import AuditTarget
from llama_lsp.features.completion.pipeline import CompletionPipeline
from llama_lsp.features.guard import Privacy
from llama_lsp.model.backend import GenerationRequest, GenerationResult, ModelInfo

FIX_SOURCE = (
    "def connect(host):\n"
    f'    password = "{corpus.DEFAULT_PASSWORD}"\n'
    "    return host + password\n"
)


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _privacy(tmp_path: Path, prompts: bool = False) -> Privacy:
    return Privacy(True, AuditTarget(str(tmp_path / "audit.jsonl"), prompts, True))


def _fix(snapshot_text: str, answer: str, privacy: Privacy) -> tuple[str, ScriptedBackend]:
    snapshot = snapshot_of(snapshot_text)
    backend = ScriptedBackend(answer)
    offer = next(o for o in service.offers(snapshot, 4, 4, [service.Problem(40, 41, "bug")])
                 if o.kind is service.ActionKind.FIX)
    request = service.Request(offer.kind, offer.byte_offset, "bug", privacy=privacy,
                              path="db.py")
    edit = service.compute(snapshot, request, backend, lambda: False)
    return edit.apply(snapshot_text), backend


def test_a_fix_gets_the_secret_back_and_the_model_never_sees_it(tmp_path: Path) -> None:
    fixed = ("def connect(host: str) -> str:\n"
             '    password = "<redacted:password>"\n'
             "    return host + ':' + password\n```")
    text, backend = _fix(FIX_SOURCE, fixed, _privacy(tmp_path, prompts=True))
    assert f'password = "{corpus.DEFAULT_PASSWORD}"' in text and "host: str" in text
    assert all(corpus.DEFAULT_PASSWORD not in prompt for prompt in backend.prompts)
    [line] = _lines(tmp_path / "audit.jsonl")
    assert line["feature"] == "fix" and line["redactions"] == {"password": 1}
    assert line["sources"] == [{"path": "db.py", "lines": [1, 3], "part": "definition"}]
    assert corpus.DEFAULT_PASSWORD not in line["prompt"]  # type: ignore[operator]
    assert line["prompt_sha256"] == audit.prompt_sha256(line["prompt"])  # type: ignore[arg-type]


def test_a_fix_that_moves_a_redacted_value_is_refused(tmp_path: Path) -> None:
    moved = ('def connect(host):\n    password = "<redacted:token>"\n'
             "    return host + password\n```")
    with pytest.raises(service.ActionFailed, match="redacted secret"):
        _fix(FIX_SOURCE, moved, _privacy(tmp_path))


def test_implement_refuses_code_that_uses_a_redacted_value() -> None:
    source = (f'TOKEN = "{corpus.GITHUB_TOKEN}"\n\n\ndef auth():\n    """Header."""\n'
              "    pass\n")
    snapshot = snapshot_of(source)
    offer = next(o for o in service.offers(snapshot, source.index("auth"),
                                           source.index("auth"), [])
                 if o.kind is service.ActionKind.IMPLEMENT)
    backend = ScriptedBackend('return "<redacted:github-token>"\n\ndef other():\n')
    with pytest.raises(service.ActionFailed, match="redacted secret value"):
        service.compute(snapshot, service.Request(offer.kind, offer.byte_offset), backend,
                        lambda: False)
    assert all(corpus.GITHUB_TOKEN not in prompt for prompt in backend.prompts)


def test_docstring_prompts_are_redacted_audited_and_prose_has_no_marker(tmp_path: Path) -> None:
    source = f'def login(user, password="{corpus.DEFAULT_PASSWORD}"):\n    return user\n'
    snapshot = snapshot_of(source)
    answer = json.dumps({"summary": "Log in with <redacted:password>.", "user": "The user.",
                         "password": "The password.", "returns": "The user."})
    backend = ScriptedBackend(answer)
    edit = service.compute(snapshot, service.Request(service.ActionKind.DOCSTRING, 4,
                                                     privacy=_privacy(tmp_path), path="a.py"),
                           backend, lambda: False)
    new_text = edit.apply(source)
    assert "Log in with a secret value." in new_text and "<redacted" not in new_text
    assert all(corpus.DEFAULT_PASSWORD not in prompt for prompt in backend.prompts)
    [line] = _lines(tmp_path / "audit.jsonl")
    assert line["feature"] == "docstring" and "prompt" not in line  # no auditLogPrompts
    assert line["redactions"] == {"password": 1}
    assert line["model"] == {"name": "scripted", "engine": "embedded", "location": ""}


def test_actions_in_a_secret_file_are_refused_before_any_model_call() -> None:
    backend = ScriptedBackend("x")
    snapshot = snapshot_of("def f():\n    pass\n")
    request = service.Request(service.ActionKind.DOCSTRING, 4,
                              refusal="secret-bearing file (matches '*secret*')")
    with pytest.raises(service.ActionFailed, match="no model actions in a secret-bearing"):
        service.compute(snapshot, request, backend, lambda: False)
    with pytest.raises(service.ActionFailed):
        service.file_targets(snapshot, request.refusal)
    assert backend.prompts == []


def test_secret_patterns_match_folder_names(tmp_path: Path) -> None:
    assert secret_reason("secrets/vault.py", ("*secret*",)) == \
        "secret-bearing folder 'secrets' (matches '*secret*')"
    assert secret_reason("app/credentials/db.py", ("credentials",))
    assert secret_reason("app/main.py", ("*secret*",)) is None
    root = tmp_path / "my-secrets-project"  # the root's own name does not count
    (root / "secrets").mkdir(parents=True)
    policy = ExclusionPolicy([root])
    assert policy.secret_reason(root / "secrets" / "vault.py")
    assert policy.secret_reason(root / "main.py") is None


class _MarkerBackend(ScriptedBackend):
    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.info = ModelInfo("scripted", "", 4096, None, ())

    def tokenize(self, text: str) -> list[int]:
        self.prompts.append(text)
        return [ord(c) for c in text]

    def generate(self, request: GenerationRequest,
                 is_cancelled: Callable[[], bool]) -> GenerationResult:
        return GenerationResult(self.answer, 3, len(request.prompt), 0, "stop", 1.0, 1.0)


def test_a_completion_never_inserts_a_marker_and_is_audited(tmp_path: Path) -> None:
    text = f'API_KEY = "{corpus.OWN_KEY}"\nkey = '
    snapshot = Document("file:///w/app.py", "python", 1, text, 2_000_000).snapshot()
    backend = _MarkerBackend('"<redacted:api-key>"\n')
    settings = Settings(audit_log=str(tmp_path / "audit.jsonl"), audit_log_prompts=True)
    outcome = CompletionPipeline(backend).complete(snapshot, len(text), settings)
    assert [s.text for s in outcome.suggestions] == ['"']
    assert all(corpus.OWN_KEY not in prompt for prompt in backend.prompts)
    assert outcome.prompt is not None and outcome.prompt.redactions == {"api-key": 1}
    [line] = _lines(tmp_path / "audit.jsonl")
    assert line["feature"] == "completion" and line["redactions"] == {"api-key": 1}
    assert line["sources"] == [{"path": "file:///w/app.py", "lines": [1, 2], "part": "window"}]
    assert line["tokens"] == {"prompt": len(outcome.prompt.tokens), "generated": 3}
    assert corpus.OWN_KEY not in line["prompt"]  # type: ignore[operator]


def test_redaction_can_be_switched_off(tmp_path: Path) -> None:
    text = f'API_KEY = "{corpus.OWN_KEY}"\nkey = '
    snapshot = Document("file:///w/app.py", "python", 1, text, 2_000_000).snapshot()
    backend = _MarkerBackend("1\n")
    CompletionPipeline(backend).complete(snapshot, len(text), Settings(redact_secrets=False))
    assert any(corpus.OWN_KEY in prompt for prompt in backend.prompts)


def test_the_model_hash_is_cached_by_path_size_and_mtime(tmp_path: Path,
                                                         tiny_fim_model: TinyModelInfo) -> None:
    import hashlib

    path = str(tiny_fim_model.path)
    expected = hashlib.sha256(tiny_fim_model.path.read_bytes()).hexdigest()
    assert audit.model_file_sha256(path, wait=True) == expected
    assert audit.model_file_sha256(path, wait=False) == expected  # from the cache
    copy = tmp_path / "copy.gguf"
    copy.write_bytes(b"model")
    first = audit.model_file_sha256(str(copy), wait=False)  # hashing in the background
    assert first in (None, hashlib.sha256(b"model").hexdigest())
    assert audit.model_file_sha256(str(copy), wait=True) == hashlib.sha256(b"model").hexdigest()
    assert audit.model_file_sha256(str(tmp_path / "missing.gguf"), wait=True) is None


@pytest.mark.parametrize(("key", "value", "message"), [
    ("auditLog", 3, "path of a file"),
    ("auditLog", "logs/", "path of a file"),
    ("auditLogPrompts", "yes", "true or false"),
    ("redactSecrets", 0, "true or false"),
])
def test_privacy_settings_are_validated(key: str, value: object, message: str) -> None:
    settings, problems = resolve_settings({key: value})
    assert settings == Settings() and len(problems) == 1 and message in problems[0]


def test_an_unwritable_audit_log_stops_review_before_the_model(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from llama_lsp.cli.main import main

    diff = tmp_path / "change.diff"
    diff.write_text("--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n")
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = main(["review", "--diff", str(diff), "--audit-log", str(blocker / "audit.jsonl"),
                 "--quiet", "--model", str(tmp_path / "never-loaded.gguf")])
    assert code == 2
    assert "cannot write the audit log" in capsys.readouterr().err


def test_review_skips_files_in_secret_folders() -> None:
    from llama_lsp.features.review.config import ReviewConfig
    from llama_lsp.features.review.diff import parse_diff
    from llama_lsp.features.review.skips import SkipRules

    text = "".join(f"--- a/{p}\n+++ b/{p}\n@@ -1 +1 @@\n-a\n+b\n"
                   for p in ("secrets/vault.py", "app/credentials/db.py", "src/app.py"))
    rules = SkipRules(ReviewConfig())
    reasons = {f.path: rules.by_diff(f) for f in parse_diff(text)}
    assert reasons["secrets/vault.py"] == "secret-bearing folder 'secrets' (matches '*secret*')"
    assert (reasons["app/credentials/db.py"] or "").startswith("secret-bearing folder")
    assert reasons["src/app.py"] is None
