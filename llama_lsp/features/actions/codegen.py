"""Model-written code: a function body from its docstring/TODO, or a function fixed for a
diagnostic. The result is cut to the definition and validated by the caller."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable

from llama_lsp.context.redaction import RestoreError, has_marker, restore
from llama_lsp.context.scanning import brackets
from llama_lsp.context.syntax.outline import Definition
from llama_lsp.features.actions.placement import ByteEdit
from llama_lsp.features.audit import Source, lines_of
from llama_lsp.features.guard import Privacy, call_model, redacted
from llama_lsp.model.backend import Backend, GenerationRequest, ModelError

BODY_TOKENS = 256
PREFIX_CHARS = 6000
FENCE = "```"
_PY_PLACEHOLDER = re.compile(r"^(pass|\.\.\.|raise NotImplementedError\b.*)$")
_BRACE_PLACEHOLDER = re.compile(
    r"^(todo!\(.*\);?|unimplemented!\(.*\);?"
    r"|throw new (Error|UnsupportedOperationException|NotImplementedException|"
    r"std::logic_error|std::runtime_error)\(.*(not implemented|todo|unsupported).*\);?"
    r"|throw new (UnsupportedOperationException|NotImplementedException)\(\);?"
    r"|panic\(\s*\".*(not implemented|todo).*\"\s*\);?)$", re.I)
_LINE_COMMENT = re.compile(r"^(#|//)")


def _code_lines(text: str) -> list[str]:
    """The lines of ``text`` that hold code (comments and blank lines dropped)."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return [line.strip() for line in text.split("\n")
            if line.strip() and not _LINE_COMMENT.match(line.strip())]


def is_unimplemented(definition: Definition, source: bytes, language_id: str) -> bool:
    """Body empty, ``pass``, ``...``, only a TODO comment, or a not-implemented raise."""
    if definition.body_start_byte is None or definition.body_end_byte is None:
        return False
    body = source[definition.body_start_byte:definition.body_end_byte].decode("utf-8", "replace")
    if language_id == "python":
        if definition.doc_start_byte is not None and definition.doc_end_byte is not None \
                and definition.doc_start_byte >= definition.body_start_byte:
            body = source[definition.doc_end_byte:definition.body_end_byte].decode(
                "utf-8", "replace")
        code = _code_lines(body)
        return all(_PY_PLACEHOLDER.match(line) for line in code)
    inner = body.strip()
    if not (inner.startswith("{") and inner.endswith("}")):
        return False
    code = _code_lines(inner[1:-1])
    return len(code) <= 1 and all(_BRACE_PLACEHOLDER.match(line) for line in code)


def _generate(backend: Backend, prompt_text: str, max_tokens: int,
              should_stop: Callable[[str], bool], is_cancelled: Callable[[], bool],
              privacy: Privacy, feature: str, sources: tuple[Source, ...]) -> str:
    def request(prompt: list[int]) -> GenerationRequest:
        limit = min(max_tokens, backend.info.context_size - len(prompt))
        if limit < 16:
            raise ModelError("the code is too long for the model's context")
        return GenerationRequest(prompt=prompt, max_tokens=limit, temperature=0.0,
                                 should_stop=should_stop)

    result, _ = call_model(backend, prompt_text, request, is_cancelled, privacy, feature,
                           sources)
    if result.stop_reason == "cancelled":
        raise ModelError("cancelled")
    return result.text


def _no_markers(text: str) -> str:
    """New code may not use a value the model never saw."""
    if has_marker(text):
        raise ModelError("the model's code uses a redacted secret value; nothing was changed")
    return text


def _python_body(generated: str, def_indent: str) -> list[str]:
    """Generated lines up to the first one that leaves the function (dedent)."""
    lines = generated.replace("\r\n", "\n").split("\n")
    kept = [lines[0]]
    for line in lines[1:]:
        if line.strip() and len(line) - len(line.lstrip()) <= len(def_indent):
            break
        kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    return kept


def _leaves_block(generated: str, def_indent: str) -> bool:
    """True once a generated line (after the first) is indented no deeper than the ``def``."""
    return any(line.strip() and len(line) - len(line.lstrip()) <= len(def_indent)
               for line in generated.split("\n")[1:])


def _brace_body(generated: str, language_id: str) -> str | None:
    """Generated text up to the brace that closes the function (None if it never closes)."""
    for position, bracket, depth in brackets(generated, language_id):
        if depth < 0:
            return generated[:position] if bracket == "}" else None
    return None


def implement(backend: Backend, source: bytes, definition: Definition, language_id: str,
              indent: str, unit: str, eol: str,
              is_cancelled: Callable[[], bool], privacy: Privacy = Privacy(),
              path: str = "") -> ByteEdit:
    """Generate the body of an unimplemented function from everything above it."""
    assert definition.body_start_byte is not None and definition.body_end_byte is not None
    body_indent = indent + unit
    if language_id == "python":
        keep_until = definition.body_start_byte
        if definition.doc_end_byte is not None and definition.doc_start_byte is not None \
                and definition.doc_start_byte >= definition.body_start_byte:
            keep_until = definition.doc_end_byte
        head = source[:keep_until].decode("utf-8", "replace")
        lead = eol + body_indent if keep_until != definition.body_start_byte else ""
        prompt = head[-PREFIX_CHARS:] + ("\n" + body_indent if lead else "")

        def stop(text: str) -> bool:
            return _leaves_block(text, indent)

        sources = (_head_source(path, head, PREFIX_CHARS),)
        lines = _python_body(_no_markers(_generate(backend, prompt, BODY_TOKENS, stop,
                                                   is_cancelled, privacy, "implement",
                                                   sources)), indent)
        if not lines or not "".join(lines).strip():
            raise ModelError("the model wrote no body")
        text = eol.join([lines[0].lstrip(), *lines[1:]])
        return ByteEdit(keep_until, definition.body_end_byte, lead + text)
    body = source[definition.body_start_byte:definition.body_end_byte]
    open_at = definition.body_start_byte + body.index(b"{") + 1
    close_at = definition.body_start_byte + body.rindex(b"}")
    head = source[:open_at].decode("utf-8", "replace")
    prompt = head[-PREFIX_CHARS:] + "\n" + body_indent

    def closed(text: str) -> bool:
        return _brace_body(text, language_id) is not None

    generated = _no_markers(_generate(backend, prompt, BODY_TOKENS, closed, is_cancelled,
                                      privacy, "implement",
                                      (_head_source(path, head, PREFIX_CHARS),)))
    content = _brace_body(generated, language_id)
    if content is None or not content.strip():
        raise ModelError("the model's body never closed the function")
    lines = content.rstrip().replace("\r\n", "\n").split("\n")
    return ByteEdit(open_at, close_at,
                    eol + body_indent + eol.join(lines) + eol + indent)


def _head_source(path: str, head: str, chars: int) -> Source:
    """The lines of the last ``chars`` characters of ``head`` (the file's start)."""
    skipped = head[:max(0, len(head) - chars)].count("\n")
    return lines_of(path, skipped, head[len(head) - min(chars, len(head)):], "code above")


def fix(backend: Backend, source: bytes, definition: Definition, language_id: str,
        indent: str, eol: str, message: str, is_cancelled: Callable[[], bool],
        privacy: Privacy = Privacy(), path: str = "") -> ByteEdit:
    """Rewrite the definition so the diagnostic ``message`` no longer applies.

    Secret values in the definition reach the model as markers; the answer gets them back
    when it keeps the markers in order, and is refused when it moves or changes one."""
    original = source[definition.start_byte:definition.end_byte].decode("utf-8", "replace")
    code = textwrap.dedent(indent + original.replace("\r\n", "\n"))
    prompt = (f"This {language_id} code has a problem: {message.strip()}\n\n"
              f"{FENCE}{language_id}\n{code}\n{FENCE}\n\n"
              f"The same code with the problem fixed:\n\n{FENCE}{language_id}\n")
    budget = len(code) // 2 + 64
    generated = _generate(backend, prompt, budget, lambda text: FENCE in text, is_cancelled,
                          privacy, "fix", (lines_of(path, definition.start_line, original,
                                                    "definition"),))
    fixed = generated.split(FENCE, 1)[0].rstrip()
    try:
        fixed = restore(fixed, redacted(code, privacy).found)
    except RestoreError as error:
        raise ModelError(f"{error}; nothing was changed") from error
    if not fixed.strip():
        raise ModelError("the model wrote no code")
    lines = fixed.split("\n")
    new_text = eol.join([lines[0], *[indent + line if line.strip() else "" for line in lines[1:]]])
    return ByteEdit(definition.start_byte, definition.end_byte, new_text)
