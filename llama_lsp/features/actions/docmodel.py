"""A docstring as data: prose slots (summary, parameters, results, errors) and kept sections."""

from __future__ import annotations

from dataclasses import dataclass, field

SUMMARY = "summary"
RETURNS = "returns"
YIELDS = "yields"
ERRORS = "errors"
PANICS = "panics"


def param_slot(name: str) -> str:
    """The slot key of a parameter's description."""
    return f"param:{name.lstrip('*')}"


def raises_slot(name: str) -> str:
    """The slot key of an exception's description."""
    return f"raises:{name}"


@dataclass
class Entry:
    """A named item of a section: a parameter, field or exception, with its prose."""

    name: str
    text: str = ""
    type: str | None = None

    @property
    def key(self) -> str:
        """Name without ``*``/``**``: how entries are matched to the signature."""
        return self.name.lstrip("*")


@dataclass
class Docstring:
    """The parts of a docstring, independent of style. Text is dedented; lines join with \\n."""

    summary: str = ""
    description: str = ""
    """Paragraphs after the summary, verbatim."""
    params: list[Entry] = field(default_factory=list)
    returns: str = ""
    returns_type: str | None = None
    yields: str = ""
    raises: list[Entry] = field(default_factory=list)
    errors: str = ""
    panics: str = ""
    plain_summary: bool = False
    """Doxygen: the user's summary has no ``@brief`` tag (so none is added)."""
    extra: list[tuple[str | None, str]] = field(default_factory=list)
    """Sections we do not model (Examples, Notes, @see...): heading (None: prose) and body."""

    def slot(self, key: str) -> str:
        """The prose in slot ``key`` ("" when empty or absent)."""
        if key.startswith("param:"):
            return next((e.text for e in self.params if e.key == key[6:]), "")
        if key.startswith("raises:"):
            return next((e.text for e in self.raises if e.name == key[7:]), "")
        return str(getattr(self, key, ""))

    def fill(self, key: str, text: str) -> None:
        """Put ``text`` in slot ``key`` (which must exist)."""
        if key.startswith("param:"):
            for entry in self.params:
                if entry.key == key[6:]:
                    entry.text = text
        elif key.startswith("raises:"):
            for entry in self.raises:
                if entry.name == key[7:]:
                    entry.text = text
        else:
            setattr(self, key, text)
