"""The redactor: which values become markers, which code stays, and that it is stable."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import secret_corpus as corpus
from llama_lsp.context.redaction import (
    RestoreError,
    cut_at_marker,
    looks_random,
    redact,
    restore,
)


@pytest.mark.parametrize("line, kind, value", [
    ('AWS_ACCESS_KEY_ID = "AKIAQ3EGRTXPL7ZK4WVN"', "aws-access-key-id", corpus.AWS_KEY_ID),
    (f'aws_secret_access_key = "{corpus.AWS_SECRET}"', "aws-secret", corpus.AWS_SECRET),
    (f'token: {corpus.GITHUB_TOKEN}', "github-token", corpus.GITHUB_TOKEN),
    (f'x = "{corpus.GITLAB_TOKEN}"', "gitlab-token", corpus.GITLAB_TOKEN),
    (f'x = "{corpus.SLACK_TOKEN}"', "slack-token", corpus.SLACK_TOKEN),
    (f'stripe.api_key = "{corpus.STRIPE_KEY}"', "stripe-key", corpus.STRIPE_KEY),
    (f'maps("{corpus.GOOGLE_KEY}")', "google-api-key", corpus.GOOGLE_KEY),
    (f'cookie = "{corpus.JWT}"', "jwt", corpus.JWT),
    (f'url = "redis://:{corpus.DB_PASSWORD}@cache:6379/0"', "url-password", corpus.DB_PASSWORD),
    (f'h = {{"Authorization": "Bearer {corpus.BEARER}"}}', "bearer-token", corpus.BEARER),
    (f'def connect(password="{corpus.DEFAULT_PASSWORD}"):', "password", corpus.DEFAULT_PASSWORD),
    (f'password: str = "{corpus.DEFAULT_PASSWORD}"', "password", corpus.DEFAULT_PASSWORD),
    (f'const clientSecret = "{corpus.JS_SECRET}";', "secret", corpus.JS_SECRET),
    (f'serviceToken := "{corpus.GO_TOKEN}"', "token", corpus.GO_TOKEN),
    (f'const API_KEY: &str = "{corpus.RUST_KEY}";', "api-key", corpus.RUST_KEY),
    (f'private static final String password = "{corpus.JAVA_PASSWORD}";', "password",
     corpus.JAVA_PASSWORD),
    (f'if password == "{corpus.DEFAULT_PASSWORD}":', "password", corpus.DEFAULT_PASSWORD),
    (f'os.Setenv("API_TOKEN", "{corpus.GO_TOKEN}")', "token", corpus.GO_TOKEN),
    (f'client.setPassword("{corpus.JAVA_PASSWORD}");', "password", corpus.JAVA_PASSWORD),
    (f'{{"client_secret": "{corpus.JS_SECRET}"}}', "secret", corpus.JS_SECRET),
    (f'db password: {corpus.NOTES_PASSWORD}', "password", corpus.NOTES_PASSWORD),
    (f'checksum = "{corpus.ENTROPY_LITERAL}"', "high-entropy", corpus.ENTROPY_LITERAL),
])
def test_a_secret_value_becomes_its_marker(line: str, kind: str, value: str) -> None:
    redacted = redact(line)
    assert value not in redacted.text
    assert f"<redacted:{kind}>" in redacted.text
    assert redacted.counts == {kind: 1}
    assert redacted.found == ((kind, value),)


@pytest.mark.parametrize("line", [
    "password: str",
    "def f(password: str, token: Optional[str] = None):",
    'token = request.headers.get("Authorization")',
    "self.password = password",
    "token = tokens[0]",
    "max_tokens = 64",
    "password_hash = bcrypt(password)",
    'TOKEN_URL = "https://oauth2.googleapis.com/token"',
    'value = self.token("tokenizer.ggml.fim_sep_token_id")',
    'patterns = ("credentials", "credentials.*", ".htpasswd")',
    'x = os.environ["API_TOKEN"]',
    'password = ""',
    'password = "${DB_PASSWORD}"',
    "ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'",
    "path = 'llama_lsp/context/syntax/queries/python/definitions.scm'",
    "def render_definition_with_callers_and_docstrings(document, definition):",
])
def test_code_that_holds_no_secret_is_left_alone(line: str) -> None:
    assert redact(line).text == line
    assert redact(line).counts == {}


def test_a_bare_word_is_a_variable_in_code_and_a_value_in_prose() -> None:
    assert redact("password = hunter2").text == "password = hunter2"
    assert redact("password: hunter2", code=False).text == "password: <redacted:password>"
    assert redact("PASSWORD=hunter2", code=False).counts == {"password": 1}


def test_private_key_blocks_whole_cut_off_and_started_inside() -> None:
    text = f'KEY = """\n{corpus.PRIVATE_KEY}\n"""\nx = 1\n'
    redacted = redact(text)
    assert redacted.text == 'KEY = """\n<redacted:private-key>\n"""\nx = 1\n'
    assert corpus.leaked(redacted.text) == []
    head = text[:text.index(corpus.PRIVATE_KEY_BODY[2])]  # a window that ends inside the key
    assert corpus.leaked(redact(head).text) == []
    tail = text[text.index(corpus.PRIVATE_KEY_BODY[1]):]  # a window that starts inside it
    assert corpus.leaked(redact(tail).text) == []
    assert redact(tail).text.endswith('"""\nx = 1\n')
    escaped = f'KEY = "{corpus.PRIVATE_KEY}"'.replace("\n", "\\n")
    assert redact(escaped).text == 'KEY = "<redacted:private-key>"'


def test_key_markers_in_code_are_not_a_key() -> None:
    text = ('PEM_HEADER = "-----BEGIN RSA PRIVATE KEY-----"\n'
            'PEM_FOOTER = "-----END RSA PRIVATE KEY-----"\n')
    assert redact(text).text == text


@pytest.mark.parametrize("name, text", [
    ("python", corpus.CONFIG_PY), ("python", corpus.APP_PY), ("python", corpus.VAULT_PY),
    ("go", corpus.CLIENT_GO), ("javascript", corpus.CLIENT_JS), ("rust", corpus.CLIENT_RS),
    ("java", corpus.CLIENT_JAVA),
])
def test_no_planted_value_survives_in_any_language(name: str, text: str) -> None:
    assert corpus.leaked(redact(text).text) == []


def test_prose_notes_lose_their_password() -> None:
    assert corpus.leaked(redact(corpus.NOTES_TXT, code=False).text) == []


def test_own_source_has_few_false_positives() -> None:
    """The redactor's cost in quality: this package's own code keeps (almost) every line."""
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "llama_lsp"
    changed = [(path.name, kind) for path in package.rglob("*.py")
               if path.name != "redaction.py"
               for kind, _ in redact(path.read_text(encoding="utf-8")).found]
    assert len(changed) <= 3, changed


def test_looks_random_wants_mixed_classes_and_entropy() -> None:
    assert looks_random(corpus.ENTROPY_LITERAL)
    assert looks_random("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
    assert not looks_random("render_definition_with_callers")
    assert not looks_random("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    assert not looks_random("0000000000000000000000000000000000000000")


def test_the_same_text_gives_the_same_prompt() -> None:
    first = redact(corpus.CONFIG_PY)
    again = redact(corpus.CONFIG_PY)
    assert first == again
    assert redact(first.text).text == first.text  # markers are not redacted again


def test_restore_maps_markers_back_in_order_or_refuses() -> None:
    redacted = redact(corpus.CONFIG_PY)
    assert restore(redacted.text, redacted.found) == corpus.CONFIG_PY
    swapped = redacted.text.replace("<redacted:github-token>", "<redacted:x>")
    with pytest.raises(RestoreError):
        restore(swapped, redacted.found)
    assert restore("no markers here", redacted.found) == "no markers here"


def test_a_completion_is_cut_before_a_marker() -> None:
    assert cut_at_marker('"<redacted:password>")') == '"'
    assert cut_at_marker("return x") == "return x"


_CODE_TEXT = st.lists(st.sampled_from(
    list("abcdefXYZ0123456789 _=:\"'\n/+.-@") + ["password", "token", "ghp_", "AKIA",
                                                 "://", "-----BEGIN RSA PRIVATE KEY-----",
                                                 "-----END RSA PRIVATE KEY-----"]),
    max_size=120).map("".join)


@settings(max_examples=300, deadline=None)
@given(_CODE_TEXT)
def test_redaction_is_reversible_and_idempotent(text: str) -> None:
    redacted = redact(text)
    assert restore(redacted.text, redacted.found) == text
    assert redact(redacted.text).text == redacted.text
    assert sum(redacted.counts.values()) == len(redacted.found)
