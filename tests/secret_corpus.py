"""Planted secrets for the redaction tests: each value, and files in several languages that
hold them the way real code does (assignments, defaults, URLs, headers, key blocks)."""

from __future__ import annotations

from pathlib import Path

AWS_KEY_ID = "AKIAQ3EGRTXPL7ZK4WVN"
AWS_SECRET = "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"
GITHUB_TOKEN = "ghp_R8sK2mPq7LxV4nZt9WcB1yHd6FgJ3aQeUo5N"
GITLAB_TOKEN = "glpat-Zx8Kq2Lm9Vb4Nt7Rw1Yp"
SLACK_TOKEN = "xoxb-2048193745-5830174629-Qm7Rt2Kx9Lp4Vz8Nb3Wc6Hd"
STRIPE_KEY = "sk_live_51Hq8ZxK2mLp9Vb4Nt7Rw1YpQe"
GOOGLE_KEY = "AIzaSyC7xK2mLp9Vb4Nt7Rw1YpQe3Hd6FgJ8aQz"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZG1pbiIsImlhdCI6MTcwMDAwMDAwMH0."
       "Xq9vK2mLp7Vb4Nt8Rw1YpQe3Hd6FgJ5aZcUo0sTiE")
DB_PASSWORD = "Pg-Adm1n!2024"
DEFAULT_PASSWORD = "hunter2-default"
OWN_KEY = "own-file-k3y-9Xq2"
VAULT_TOKEN = "hvs.CAESIKx8Vq2Lm9Zt4Rw7Np1Yb3Hd6Fg"
NOTES_PASSWORD = "Winter2024!Blue"
GO_TOKEN = "go-svc-T0ken-8821Zq"
JS_SECRET = "js-client-s3cret-771"
RUST_KEY = "rust-api-k3y-55Qw"
JAVA_PASSWORD = "j4va-Passw0rd-31"
ENTROPY_LITERAL = "Zq8Xv2Lm9Kp4Rt7Wn1Yb3Hd6Fg5JsQe"
BEARER = "Vb4Nt7Rw1YpQe3Hd6FgJ8aQzZx8Kq2Lm"
PRIVATE_KEY_BODY = (
    "MIIEowIBAAKCAQEAx9Kq2Lm7Vb4Nt8Rw1YpQe3Hd6FgJ5aZcUo0sTiEXq9vK2mLp",
    "Vb4Nt8Rw1YpQe3Hd6FgJ5aZcUo0sTiEXq9vK2mLp7Vb4Nt8Rw1YpQe3Hd6FgJ5aZ",
    "cUo0sTiE7Q==",
)
PRIVATE_KEY = ("-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(PRIVATE_KEY_BODY)
               + "\n-----END RSA PRIVATE KEY-----")
REVIEW_PASSWORD = "rev1ew-Passw0rd"
REVIEW_TOKEN = "rev1ew-t0ken-Zq88"
REVIEW_KEY = "sk_live_71Rq8ZxK2mLp9Vb4Nt7Rw1YpQe"

SECRETS: tuple[str, ...] = (
    AWS_KEY_ID, AWS_SECRET, GITHUB_TOKEN, GITLAB_TOKEN, SLACK_TOKEN, STRIPE_KEY, GOOGLE_KEY, JWT,
    DB_PASSWORD, DEFAULT_PASSWORD, OWN_KEY, VAULT_TOKEN, NOTES_PASSWORD, GO_TOKEN, JS_SECRET,
    RUST_KEY, JAVA_PASSWORD, ENTROPY_LITERAL, BEARER, *PRIVATE_KEY_BODY, REVIEW_PASSWORD,
    REVIEW_TOKEN, REVIEW_KEY,
)
"""Every planted value: none may appear in any prompt."""

CONFIG_PY = f'''"""Service configuration."""

AWS_ACCESS_KEY_ID = "{AWS_KEY_ID}"
AWS_SECRET_ACCESS_KEY = "{AWS_SECRET}"
GITHUB = "{GITHUB_TOKEN}"
GITLAB = "{GITLAB_TOKEN}"
SLACK = "{SLACK_TOKEN}"
STRIPE = "{STRIPE_KEY}"
MAPS = "{GOOGLE_KEY}"
SESSION = "{JWT}"
DATABASE_URL = "postgresql://admin:{DB_PASSWORD}@db.internal:5432/app"
SIGNING_KEY = """{PRIVATE_KEY}"""
FINGERPRINT = "{ENTROPY_LITERAL}"
HEADERS = {{"Authorization": "Bearer {BEARER}"}}


def connect(host: str, user: str = "admin", password: str = "{DEFAULT_PASSWORD}") -> str:
    """Open a connection to the database."""
    return f"{{user}}@{{host}}"


def settings() -> dict:
    """All settings."""
    return {{"url": DATABASE_URL, "key": AWS_ACCESS_KEY_ID}}


def rotate(key: str) -> str:
    """Rotate the key."""
    raise NotImplementedError
'''

APP_PY = f'''from config import connect, settings

API_KEY = "{OWN_KEY}"


def start(host):
    options = settings()
    link = connect(host'''

VAULT_PY = f'''VAULT_TOKEN = "{VAULT_TOKEN}"


def vault_client(address):
    return (address, VAULT_TOKEN)
'''

NOTES_TXT = f'''Deployment notes
start(host) then settings() and connect(host)
db password: {NOTES_PASSWORD}
options = settings() link = connect(host) vault_client
'''

CLIENT_GO = f'''package main

const serviceToken = "{GO_TOKEN}"

func client(host string) string {{
	return host + serviceToken
}}
'''

CLIENT_JS = f'''const clientSecret = "{JS_SECRET}";

function client(host) {{
  return host + clientSecret;
}}
'''

CLIENT_RS = f'''const API_KEY: &str = "{RUST_KEY}";

fn client(host: &str) -> String {{
    format!("{{}}{{}}", host, API_KEY)
}}
'''

CLIENT_JAVA = f'''class Client {{
    private static final String password = "{JAVA_PASSWORD}";

    String client(String host) {{
        return host + password;
    }}
}}
'''


def write_project(root: Path) -> dict[str, Path]:
    """The corpus as a project under ``root``; name -> path."""
    files = {
        "config.py": CONFIG_PY, "app.py": APP_PY, "secrets/vault.py": VAULT_PY,
        "notes.txt": NOTES_TXT, "client.go": CLIENT_GO, "client.js": CLIENT_JS,
        "client.rs": CLIENT_RS, "Client.java": CLIENT_JAVA,
    }
    paths = {}
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths[name] = path
    return paths


def leaked(text: str) -> list[str]:
    """The planted values found in ``text``."""
    return [secret for secret in SECRETS if secret in text]
