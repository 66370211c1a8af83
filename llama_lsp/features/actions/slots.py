"""The model's part of a docstring: a JSON schema with one string per empty prose slot.

The engine enforces the schema with a llama.cpp grammar, so the answer is always parseable
JSON with exactly these properties; values are kept short (``maxLength``) because grammar
sampling is slow with big vocabularies.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from llama_lsp.context.redaction import has_marker, strip_markers
from llama_lsp.features.actions.analysis import Target
from llama_lsp.features.actions.docmodel import ERRORS, PANICS, RETURNS, SUMMARY, YIELDS
from llama_lsp.features.audit import Source
from llama_lsp.features.guard import Privacy, call_model
from llama_lsp.model.backend import Backend, GenerationRequest, ModelError

SUMMARY_CHARS = 100
SLOT_CHARS = 80
SOURCE_CHARS = 2400
_FIXED = {SUMMARY: "summary", RETURNS: "returns", YIELDS: "yields", ERRORS: "errors",
          PANICS: "panics"}
_EXAMPLE_CODE = ("def area(width, height):\n"
                 "    if width < 0:\n"
                 "        raise ValueError(width)\n"
                 "    return width * height")
_EXAMPLE_JSON = ('{"summary": "Compute the area of a rectangle.", '
                 '"width": "Width of the rectangle.", "height": "Height of the rectangle.", '
                 '"returns": "The area.", "raises ValueError": "If the width is negative."}')


def property_names(slots: list[str]) -> dict[str, str]:
    """Slot key -> JSON property name (parameter names as they are, unless they clash)."""
    names: dict[str, str] = {}
    taken = set(_FIXED.values())
    for slot in slots:
        if slot in _FIXED:
            names[slot] = _FIXED[slot]
        elif slot.startswith("param:"):
            name = slot[6:]
            names[slot] = f"param {name}" if name in taken else name
        else:
            names[slot] = f"raises {slot[7:]}"
    return names


def slot_schema(slots: list[str]) -> str:
    """The JSON schema (as text) of the model's answer: exactly these slots, all required."""
    names = property_names(slots)
    properties = {
        names[slot]: {"type": "string", "minLength": 3,
                      "maxLength": SUMMARY_CHARS if slot == SUMMARY else SLOT_CHARS}
        for slot in slots
    }
    return json.dumps({"type": "object", "properties": properties,
                       "required": list(properties), "additionalProperties": False})


def slot_prompt(target: Target, source: str) -> str:
    """A one-shot prompt: an example, then the definition's source, then ``JSON:``."""
    code = source if len(source) <= SOURCE_CHARS else source[:SOURCE_CHARS] + "\n..."
    what = {"class": "class", "struct": "type", "interface": "interface"}.get(target.kind,
                                                                             target.kind)
    return (
        "Write short documentation for code as JSON: one sentence per field.\n\n"
        f"Code:\n{_EXAMPLE_CODE}\n\nJSON:\n{_EXAMPLE_JSON}\n\n"
        f"Code ({target.language_id} {what} {target.name}):\n{code}\n\nJSON:\n"
    )


def tidy(text: str) -> str:
    """One clean sentence: whitespace collapsed, capitalised, ending with a full stop."""
    text = " ".join(text.split()).strip(" \"'`")
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def go_summary(name: str, summary: str) -> str:
    """Go convention: the doc comment's first word is the name."""
    if summary.startswith(name + " "):
        return summary
    first = summary.split(" ", 1)[0]
    if first and not first.isupper():
        summary = summary[0].lower() + summary[1:]
    return f"{name} {summary}"


def parse_answer(text: str, slots: list[str]) -> dict[str, str]:
    """Slot key -> tidy prose from the model's JSON; raises ModelError when unusable."""
    try:
        answer = json.loads(text, strict=False)  # a raw tab or newline inside a value is fine
    except json.JSONDecodeError as error:
        raise ModelError(f"the model's answer is not complete JSON ({error.msg}); "
                         "try again or raise maxTokens") from error
    if not isinstance(answer, dict):
        raise ModelError("the model's answer is not a JSON object")
    names = property_names(slots)
    filled = {}
    for slot in slots:
        value = answer.get(names[slot])
        if not isinstance(value, str) or not tidy(value):
            raise ModelError(f"the model wrote nothing for {names[slot]!r}")
        filled[slot] = tidy(value)
    return filled


def max_tokens_for(slots: list[str]) -> int:
    """Enough tokens for every slot at its longest, even at one character per token (a cap:
    real answers stop much earlier)."""
    chars = sum(SUMMARY_CHARS if slot == SUMMARY else SLOT_CHARS for slot in slots)
    return 16 + chars + 12 * len(slots)


def fill_slots(backend: Backend, target: Target, source: str, slots: list[str],
               is_cancelled: Callable[[], bool], privacy: Privacy = Privacy(),
               sources: tuple[Source, ...] = (), feature: str = "docstring") -> dict[str, str]:
    """Ask the model for ``slots`` (schema-constrained, greedy); slot key -> prose.

    The prompt is redacted and the call audited (``privacy``); prose never quotes a redacted
    value (a marker the model copied becomes "a secret value")."""
    if not slots:
        return {}

    def request(prompt: list[int]) -> GenerationRequest:
        max_tokens = min(max_tokens_for(slots), backend.info.context_size - len(prompt))
        if max_tokens < 8:
            raise ModelError("the definition is too long for the model's context")
        return GenerationRequest(prompt=prompt, max_tokens=max_tokens, temperature=0.0,
                                 json_schema=slot_schema(slots))

    result, _ = call_model(backend, slot_prompt(target, source), request, is_cancelled,
                           privacy, feature, sources)
    if result.stop_reason == "cancelled":
        raise ModelError("cancelled")
    answers = parse_answer(result.text, slots)
    return {slot: strip_markers(text) if has_marker(text) else text
            for slot, text in answers.items()}


