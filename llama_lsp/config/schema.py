"""JSON schema of the OPTIONS table, for editor settings UIs (VS Code contributes.configuration).

Each option's schema comes from its parser when the parser is one of the known validators, else
from the type of its default; an option whose type cannot be told gets a schema with no type,
so any JSON value is accepted by the editor and validated by the server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llama_lsp.config import settings
from llama_lsp.config.settings import OPTIONS, Bounded, Option

_BY_PARSER: dict[str, dict[str, Any]] = {
    "_optional_str": {"type": ["string", "null"]},
    "_audit_path": {"type": ["string", "null"]},
    "_language_switches": {"type": "object", "additionalProperties": {"type": "boolean"}},
    "_globs": {"type": "array", "items": {"type": "string"}},
    "_bool": {"type": "boolean"},
    "_sha256": {"type": ["string", "null"], "pattern": "^$|^(sha256:)?[0-9a-fA-F]{64}$"},
}


def _json_value(value: Any) -> Any:
    """A default as JSON (tuples become lists, mappings become dicts)."""
    if isinstance(value, tuple | list):
        return [_json_value(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _json_value(item) for key, item in value.items()}
    return value


def _type_of_default(default: Any) -> dict[str, Any]:
    if isinstance(default, bool):
        return {"type": "boolean"}
    if isinstance(default, int):
        return {"type": "integer"}
    if isinstance(default, float):
        return {"type": "number"}
    if isinstance(default, str):
        return {"type": "string"}
    if isinstance(default, tuple | list):
        return {"type": "array"}
    if isinstance(default, Mapping):
        return {"type": "object"}
    return {}


def option_schema(option: Option) -> dict[str, Any]:
    """The JSON schema of one option, with its default and description."""
    parser_name = getattr(option.parse, "__name__", "")
    choices = getattr(option.parse, "choices", None)
    if choices:
        schema: dict[str, Any] = {"type": "string", "enum": list(choices)}
    elif isinstance(option.parse, Bounded):
        bounds = option.parse
        kind = "integer" if bounds.integer else "number"
        schema = {"type": [kind, "null"] if bounds.optional else kind,
                  "minimum": bounds.minimum, "maximum": bounds.maximum}
    elif parser_name in _BY_PARSER and getattr(settings, parser_name, None) is option.parse:
        schema = dict(_BY_PARSER[parser_name])
    else:
        schema = _type_of_default(option.default)
    return {**schema, "default": _json_value(option.default), "description": option.description}


def settings_schema(prefix: str = "") -> dict[str, dict[str, Any]]:
    """Every option's schema by key (``prefix`` + key), in table order."""
    return {prefix + option.key: option_schema(option) for option in OPTIONS}
