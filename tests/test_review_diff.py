"""Unified diff parsing against diffs from real git repositories."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_helpers import GitRepo

from llama_lsp.features.review.diff import DiffError, parse_diff, unquote_path
from llama_lsp.features.review.source import DiffSource


def _diff(repo: GitRepo) -> str:
    return DiffSource("base", repo.root, "HEAD~1").diff_text()


@pytest.fixture()
def changed_repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.write("app.py", "def f(xs):\n    return xs\n")
    repo.write("old_name.py", "".join(f"line_{i} = {i}\n" for i in range(30)))
    repo.write("gone.py", "x = 1\n")
    repo.write("crlf.txt", "one\r\ntwo\r\nthree\r\n")
    repo.write("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    repo.commit("base")
    repo.write("app.py", "def f(xs):\n    for i in range(len(xs) + 1):\n        print(xs[i])\n"
                         "    return xs\n")
    repo.git("mv", "old_name.py", "new_name.py")
    repo.write("new_name.py", "".join(f"line_{i} = {i}\n" for i in range(30)) + "extra = 1\n")
    repo.git("rm", "-q", "gone.py")
    repo.write("crlf.txt", "one\r\nTWO\r\nthree\r\n")
    repo.write("image.png", b"\x89PNG\r\n\x1a\n\x00\x01\x02\x03")
    repo.write("dir é/ünï cödé.py", "value = 'ä'\n")
    repo.write('quote"tab\t.py', "q = 1\n")
    repo.commit("change")
    return repo


def test_git_diff_files_statuses_and_added_lines(changed_repo: GitRepo) -> None:
    files = {f.path: f for f in parse_diff(_diff(changed_repo))}
    assert set(files) == {"app.py", "new_name.py", "gone.py", "crlf.txt", "image.png",
                          "dir é/ünï cödé.py", 'quote"tab\t.py'}
    assert files["app.py"].status == "modified" and files["app.py"].added_lines == {2, 3}
    renamed = files["new_name.py"]
    assert renamed.status == "renamed" and renamed.old_path == "old_name.py"
    assert renamed.added_lines == {31}
    assert files["gone.py"].status == "deleted" and files["gone.py"].new_path is None
    assert files["image.png"].binary and not files["image.png"].hunks
    assert files["crlf.txt"].added_lines == {2}
    added = [line for line in files["crlf.txt"].hunks[0].lines if line.kind == "+"]
    assert [line.text for line in added] == ["TWO"]  # the CR is not part of the text
    assert files["dir é/ünï cödé.py"].status == "added"
    assert files["dir é/ünï cödé.py"].added_lines == {1}
    assert files['quote"tab\t.py'].added_lines == {1}


def test_huge_hunk_line_numbers(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("big.py", "a = 0\n")
    repo.commit()
    repo.write("big.py", "a = 0\n" + "".join(f"v{i} = {i}\n" for i in range(5000)))
    repo.commit()
    (file,) = parse_diff(_diff(repo))
    assert file.added_lines == set(range(2, 5002))
    assert file.hunks[0].lines[-1].text == "v4999 = 4999"


def test_plain_diff_u_with_two_files_and_no_newline_marker() -> None:
    text = (
        "--- a/one.py\t2024-01-01 00:00:00\n+++ b/one.py\t2024-01-01 00:00:01\n"
        "@@ -1,2 +1,2 @@\n a = 1\n-b = 2\n+b = 3\n\\ No newline at end of file\n"
        "--- a/two.py\n+++ b/two.py\n@@ -5 +5,2 @@\n x\n+y\n"
    )
    one, two = parse_diff(text)
    assert (one.path, one.added_lines) == ("one.py", {2})
    assert (two.path, two.added_lines) == ("two.py", {6})


def test_crlf_diff_text_parses_the_same_as_lf() -> None:
    lf = "--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
    (crlf,) = parse_diff(lf.replace("\n", "\r\n"))
    (plain,) = parse_diff(lf)
    assert crlf.added_lines == plain.added_lines == {2}
    assert crlf.hunks[0].lines[-1].text == "c"


def test_malformed_diffs_raise_diff_error() -> None:
    with pytest.raises(DiffError, match="hunk header"):
        parse_diff("--- a/x\n+++ b/x\n@@ nonsense @@\n")
    with pytest.raises(DiffError, match="ends early|ends inside"):
        parse_diff("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\nGARBAGE\n")


@pytest.mark.parametrize("text, message", [
    ("hello\nworld\n", "not a unified diff"),
    ("\x00\x01garbage\x7f", "not a unified diff"),
    ("--- a/x\n+++ b/x\n", "without any hunk"),
    ("--- a/x\n", "without its '\\+\\+\\+' line"),
    ("--- a/x\n+++ b/x\n@@ -1,1 +1,1 @@\n", "ends inside a hunk"),
    ("--- a/x\n+++ b/x\n@@ -1,3 +1,4 @@\n a\n+b\n", "ends inside a hunk"),
    ("--- a/x\n+++ b/x\n@@ -1 +0,3 @@\n-a\n+b\n+c\n+d\n", "start at 1"),
    ("--- /dev/null\n+++ b/missing.py\n@@ -0,0 +1000000000000,1 @@\n+x\n", "past line"),
    ("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n--- a/y\n+++ b/y\n", "y without any hunk"),
])
def test_garbage_and_truncated_input_raise_diff_error(text: str, message: str) -> None:
    with pytest.raises(DiffError, match=message):
        parse_diff(text)


def test_empty_input_is_an_empty_diff_and_a_lost_final_blank_context_line_is_tolerated() -> None:
    assert parse_diff("") == parse_diff("\n") == []
    (file,) = parse_diff("--- a/x\n+++ b/x\n@@ -1,2 +1,3 @@\n a\n+b\n")
    assert file.added_lines == {2}


def test_unquote_path_handles_octal_utf8_and_escapes() -> None:
    assert unquote_path('"a/\\303\\244 b.py"') == "a/ä b.py"
    assert unquote_path('"q\\"t\\tx"') == 'q"t\tx'
    assert unquote_path("plain/path.py") == "plain/path.py"


def test_symlinks_and_submodules_are_marked_and_skipped(tmp_path: Path) -> None:
    from llama_lsp.features.review.config import ReviewConfig
    from llama_lsp.features.review.skips import SkipRules

    repo = GitRepo(tmp_path / "repo")
    repo.write("a.py", "x = 1\n")
    repo.commit()
    (repo.root / "link.py").symlink_to("a.py")
    commit = repo.git("rev-parse", "HEAD").strip()
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{commit},vendored_sub")
    repo.write("a.py", "x = 2\n")
    repo.git("add", "a.py", "link.py")
    repo.git("commit", "-q", "-m", "links")
    files = {f.path: f for f in parse_diff(_diff(repo))}
    rules = SkipRules(ReviewConfig())
    assert files["link.py"].mode == "120000"
    assert rules.by_diff(files["link.py"]) == "symbolic link"
    assert rules.by_diff(files["vendored_sub"]) == "submodule"
    assert files["a.py"].mode == "100644" and rules.by_diff(files["a.py"]) is None


def test_absolute_paths_under_the_root_become_repo_relative(tmp_path: Path) -> None:
    from llama_lsp.features.review.source import make_relative

    text = (f"--- {tmp_path}/src/a.py\n+++ {tmp_path}/src/a.py\n@@ -1 +1 @@\n-a\n+b\n"
            "--- /elsewhere/b.py\n+++ /elsewhere/b.py\n@@ -1 +1 @@\n-a\n+b\n")
    inside, outside = make_relative(parse_diff(text), tmp_path)
    assert inside.path == "src/a.py" and outside.path == "/elsewhere/b.py"


def test_secret_files_and_paths_that_climb_out_are_never_reviewed() -> None:
    from llama_lsp.features.review.config import ReviewConfig
    from llama_lsp.features.review.skips import SkipRules

    text = "".join(f"--- a/{p}\n+++ b/{p}\n@@ -1 +1 @@\n-a\n+b\n"
                   for p in (".env.production", "deploy/server.pem", "src/../../etc/x.py",
                             "src/app.py"))
    rules = SkipRules(ReviewConfig())
    reasons = {f.path: rules.by_diff(f) for f in parse_diff(text)}
    assert reasons[".env.production"].startswith("secret-bearing file")
    assert reasons["deploy/server.pem"].startswith("secret-bearing file")
    assert reasons["src/../../etc/x.py"] == "outside the repository"
    assert reasons["src/app.py"] is None
