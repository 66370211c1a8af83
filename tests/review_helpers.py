"""Helpers for review tests: real git repositories in temp dirs, and a scripted backend."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from llama_lsp.model.backend import GenerationRequest, GenerationResult, ModelInfo


class GitRepo:
    """A git work tree with a fixed identity; ``write`` then ``commit``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "test@example.com")
        self.git("config", "user.name", "Test")
        self.git("config", "core.autocrlf", "false")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        done = subprocess.run(["git", *args], cwd=self.root, capture_output=True, check=True)
        return done.stdout.decode("utf-8", "replace")

    def write(self, path: str, content: str | bytes) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            target.write_bytes(content.encode("utf-8"))
        else:
            target.write_bytes(content)

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").strip()


class ScriptedBackend:
    """A stand-in for the model in tests of pure review logic: answers come from a function."""

    def __init__(self, answer: Callable[[str], dict[str, object]], path: str = "scripted.gguf"
                 ) -> None:
        self.info = ModelInfo(name="scripted", path=path, context_size=8192, fim=None, bos=())
        self._answer = answer
        self.prompts: list[str] = []

    def tokenize(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def detokenize(self, tokens: list[int]) -> str:
        return bytes(tokens).decode("utf-8", "replace")

    def generate(self, request: GenerationRequest, is_cancelled: Callable[[], bool]
                 ) -> GenerationResult:
        prompt = self.detokenize(request.prompt)
        self.prompts.append(prompt)
        text = json.dumps(self._answer(prompt))
        return GenerationResult(text, len(text), len(request.prompt), 0, "eos", 1.0, 1.0)

    def close(self) -> None:
        return None


def finding(line: int, severity: str = "warning", category: str = "bug",
            confidence: str = "high", message: str = "possible bug", **extra: object
            ) -> dict[str, object]:
    """A raw finding as the model would write it."""
    return {"line": line, "end_line": extra.pop("end_line", line), "severity": severity,
            "category": category, "confidence": confidence, "message": message, **extra}
