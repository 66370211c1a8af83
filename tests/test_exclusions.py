"""ExclusionPolicy: which files may reach a prompt (.gitignore, secrets, binary, size)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llama_lsp.config.settings import DEFAULT_SECRET_PATTERNS, resolve_settings
from llama_lsp.context.exclusions import (
    BINARY_SNIFF_BYTES,
    ExclusionPolicy,
    read_context_file,
)


def _write(root: Path, relative: str, text: str | bytes = "x = 1\n") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    (workspace / ".git").mkdir(parents=True)
    return workspace


# --- .gitignore ---------------------------------------------------------------------------------


def test_root_gitignore_patterns(root: Path) -> None:
    _write(root, ".gitignore", "*.log\n/local_only.py\nsecret_dir/\n# comment\n\n")
    policy = ExclusionPolicy([root])
    assert "ignored by" in policy.ignored_reason(_write(root, "debug.log"))
    assert "ignored by" in policy.ignored_reason(_write(root, "deep/er/trace.log"))
    assert policy.ignored_reason(_write(root, "local_only.py")) is not None
    # An anchored pattern only matches at its own level.
    assert policy.ignored_reason(_write(root, "pkg/local_only.py")) is None
    assert policy.ignored_reason(_write(root, "secret_dir/a.py")) is not None
    assert policy.ignored_reason(_write(root, "pkg/secret_dir/b.py")) is not None
    assert policy.ignored_reason(_write(root, "app.py")) is None
    assert policy.excluded_reason(root / "app.py") is None


def test_reason_names_the_gitignore_file(root: Path) -> None:
    ignore = _write(root, ".gitignore", "*.tmp\n")
    reason = ExclusionPolicy([root]).ignored_reason(_write(root, "a.tmp"))
    assert reason == f"ignored by {ignore}"


def test_negation_in_the_same_file(root: Path) -> None:
    _write(root, ".gitignore", "*.py\n!keep.py\n")
    policy = ExclusionPolicy([root])
    assert policy.ignored_reason(_write(root, "drop.py")) is not None
    assert policy.ignored_reason(_write(root, "keep.py")) is None
    assert policy.ignored_reason(_write(root, "sub/keep.py")) is None


def test_directory_pattern_matches_directories_only(root: Path) -> None:
    _write(root, ".gitignore", "build/\n")
    policy = ExclusionPolicy([root])
    assert policy.ignored_reason(_write(root, "build/out.py")) is not None
    assert policy.ignored_reason(_write(root, "src/build/gen.py")) is not None
    # A *file* named build is not matched by a directory pattern.
    assert policy.ignored_reason(_write(root, "tools/build")) is None


def test_a_file_inside_an_ignored_directory_cannot_be_re_included(root: Path) -> None:
    # git: "It is not possible to re-include a file if a parent directory of that file is
    # excluded." The negation must not let build/keep.py into prompts.
    _write(root, ".gitignore", "build/\n!build/keep.py\n")
    policy = ExclusionPolicy([root])
    assert policy.ignored_reason(_write(root, "build/keep.py")) is not None


def test_nested_gitignore_applies_below_its_directory(root: Path) -> None:
    nested = _write(root, "pkg/.gitignore", "generated_*.py\n/local.py\n")
    policy = ExclusionPolicy([root])
    assert policy.ignored_reason(_write(root, "pkg/generated_api.py")) == f"ignored by {nested}"
    assert policy.ignored_reason(_write(root, "pkg/sub/generated_x.py")) is not None
    assert policy.ignored_reason(_write(root, "pkg/local.py")) is not None
    # Not above its own directory, and anchored patterns are relative to it.
    assert policy.ignored_reason(_write(root, "generated_top.py")) is None
    assert policy.ignored_reason(_write(root, "local.py")) is None
    assert policy.ignored_reason(_write(root, "pkg/sub/local.py")) is None


def test_nested_gitignore_negation_overrides_the_root(root: Path) -> None:
    _write(root, ".gitignore", "*.log\n")
    _write(root, "logs/.gitignore", "!keep.log\n")
    policy = ExclusionPolicy([root])
    assert policy.ignored_reason(_write(root, "logs/keep.log")) is None
    assert policy.ignored_reason(_write(root, "logs/other.log")) is not None


def test_gitignore_edits_are_picked_up(root: Path) -> None:
    ignore = _write(root, ".gitignore", "*.a\n")
    policy = ExclusionPolicy([root])
    target = _write(root, "file.b")
    assert policy.ignored_reason(target) is None
    ignore.write_text("*.a\n*.b\n")
    stat = ignore.stat()
    os.utime(ignore, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    assert policy.ignored_reason(target) is not None
    ignore.unlink()
    assert policy.ignored_reason(target) is None


def test_files_inside_dot_git_are_excluded(root: Path) -> None:
    policy = ExclusionPolicy([root])
    assert policy.ignored_reason(_write(root, ".git/config", "[core]\n")) == "inside .git"
    assert policy.excluded_reason(_write(root, "sub/.git/HEAD", "ref: x\n")) == "inside .git"


def test_paths_outside_every_root_are_not_gitignored(root: Path, tmp_path: Path) -> None:
    _write(root, ".gitignore", "*.py\n")
    outside = _write(tmp_path / "elsewhere", "mod.py")
    assert ExclusionPolicy([root]).ignored_reason(outside) is None


def test_the_innermost_root_is_used(root: Path) -> None:
    inner = root / "inner"
    _write(inner, ".gitignore", "*.gen\n")
    policy = ExclusionPolicy([root, inner])
    assert policy.ignored_reason(_write(inner, "x.gen")) is not None


def test_a_gitignored_file_reached_through_a_symlinked_root_stays_out(tmp_path: Path) -> None:
    real = tmp_path / "real"
    _write(real, ".gitignore", "private/\n")
    hidden = _write(real, "private/notes.py")
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    # The editor names the workspace by the link; resolvers may hand over resolved paths.
    policy = ExclusionPolicy([link])
    assert policy.ignored_reason(link / "private" / "notes.py") is not None
    assert policy.ignored_reason(hidden.resolve()) is not None


# --- secrets ------------------------------------------------------------------------------------


SECRET_NAMES = [
    ".env", ".env.local", ".env.production", "prod.env", ".envrc",
    "server.pem", "tls.key", "ca.crt", "cert.p12", "cert.pfx", "store.jks", "app.keystore",
    "vault.kdbx",
    "id_rsa", "id_rsa.pub", "id_dsa", "id_ecdsa", "id_ed25519", "id_ed25519.pub",
    "credentials", "credentials.json", "credentials.yml", "gcp-credentials.json",
    "client_secret.json", "secrets.py", "my_secret_config.ts",
    ".netrc", ".npmrc", ".pypirc", ".git-credentials", ".htpasswd",
    "prod.tfvars", "terraform.tfstate",
    # Case does not hide a secret.
    "ID_RSA", "Server.PEM", ".ENV",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_default_secret_patterns(root: Path, name: str) -> None:
    path = _write(root, f"config/{name}", "TOKEN=abc\n")
    policy = ExclusionPolicy([root])
    reason = policy.secret_reason(path)
    assert reason is not None and reason.startswith("secret-bearing file")
    assert policy.excluded_reason(path) == reason
    assert read_context_file(path, policy) is None


@pytest.mark.parametrize("name", ["env.py", "keys.py", "environment.ts", "key_value.go",
                                  "credential_helpers.py", "id.rs", "README.md", "pem.c"])
def test_ordinary_files_are_not_secrets(root: Path, name: str) -> None:
    path = _write(root, name)
    assert ExclusionPolicy([root]).secret_reason(path) is None


def test_every_default_pattern_is_exercised() -> None:
    matched = {pattern for pattern in DEFAULT_SECRET_PATTERNS for name in SECRET_NAMES
               if ExclusionPolicy([], (pattern,)).secret_reason(Path(name))}
    assert matched == set(DEFAULT_SECRET_PATTERNS)


def test_secrets_are_excluded_even_outside_roots(tmp_path: Path) -> None:
    assert ExclusionPolicy([]).excluded_reason(_write(tmp_path, ".env")) is not None


def test_custom_secret_patterns_replace_the_defaults(root: Path) -> None:
    settings, problems = resolve_settings({"secretPatterns": ["*.private", "vault_*"]})
    assert problems == []
    policy = ExclusionPolicy([root], settings.secret_patterns)
    assert policy.secret_reason(_write(root, "db.private")) is not None
    assert policy.secret_reason(_write(root, "vault_token.py")) is not None
    # The defaults no longer apply: the list replaces them.
    assert policy.secret_reason(_write(root, ".env")) is None
    assert policy.secret_reason(_write(root, "id_rsa")) is None


def test_empty_secret_patterns_turn_the_check_off(root: Path) -> None:
    assert ExclusionPolicy([root], ()).secret_reason(_write(root, ".env")) is None


# --- content: binary, size, unreadable ----------------------------------------------------------


def test_binary_files_are_excluded(root: Path) -> None:
    policy = ExclusionPolicy([root])
    assert policy.content_reason(_write(root, "blob.py", b"abc\x00def")) == "binary"
    late_nul = b"a" * (BINARY_SNIFF_BYTES - 1) + b"\x00"
    assert policy.content_reason(_write(root, "late.py", late_nul)) == "binary"
    # Only the first 8 KB are sniffed.
    after = b"a" * BINARY_SNIFF_BYTES + b"\x00"
    assert policy.content_reason(_write(root, "after.py", after)) is None


def test_files_over_max_bytes_are_excluded(root: Path) -> None:
    policy = ExclusionPolicy([root], max_bytes=100)
    assert policy.content_reason(_write(root, "ok.py", "a" * 100)) is None
    reason = policy.content_reason(_write(root, "big.py", "a" * 101))
    assert reason == "larger than 100 bytes"
    assert read_context_file(root / "big.py", policy) is None


def test_missing_and_unreadable_files(root: Path) -> None:
    policy = ExclusionPolicy([root])
    missing = policy.content_reason(root / "absent.py")
    assert missing is not None and missing.startswith("unreadable")
    (root / "a_directory.py").mkdir()
    unreadable = policy.content_reason(root / "a_directory.py")
    assert unreadable is not None and unreadable.startswith("unreadable")
    assert read_context_file(root / "absent.py", policy) is None
    assert read_context_file(root / "a_directory.py", policy) is None


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_permission_denied(root: Path) -> None:
    path = _write(root, "locked.py")
    path.chmod(0)
    try:
        reason = ExclusionPolicy([root]).content_reason(path)
        assert reason is not None and reason.startswith("unreadable")
    finally:
        path.chmod(0o644)


def test_read_context_file(root: Path) -> None:
    _write(root, ".gitignore", "ignored.py\n")
    policy = ExclusionPolicy([root])
    assert read_context_file(_write(root, "ok.py", "def f():\n    pass\n"), policy) == \
        "def f():\n    pass\n"
    assert read_context_file(_write(root, "ignored.py"), policy) is None
    assert read_context_file(_write(root, ".env.local", "A=1\n"), policy) is None
    assert read_context_file(_write(root, "latin1.py", "é = 1\n".encode("latin-1")),
                             policy) is None


def test_excluded_reason_order_secret_first(root: Path) -> None:
    _write(root, ".gitignore", ".env\n")
    policy = ExclusionPolicy([root])
    assert policy.excluded_reason(_write(root, ".env", b"\x00")).startswith("secret-bearing")
