"""Unit tests of the code-action logic: parsers, merge, schema, validation, code generation."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from llama_lsp.context.documents import Document, DocumentSnapshot
from llama_lsp.features.actions import codegen, docstrings, service
from llama_lsp.features.actions.analysis import analyze
from llama_lsp.features.actions.docmodel import Docstring, Entry
from llama_lsp.features.actions.merge import merge, missing_slots
from llama_lsp.features.actions.parse_comment import parse_go, parse_rust, parse_tagged
from llama_lsp.features.actions.parse_python import detect_style, parse_python_docstring
from llama_lsp.features.actions.placement import Edit
from llama_lsp.features.actions.slots import (
    go_summary,
    parse_answer,
    property_names,
    slot_schema,
    tidy,
)
from llama_lsp.features.actions.validate import EditRejected, check_edit
from llama_lsp.model.backend import GenerationRequest, GenerationResult, ModelError, ModelInfo


def snapshot_of(text: str, language: str = "python", version: int = 1) -> DocumentSnapshot:
    extension = {"python": "py", "javascript": "js", "rust": "rs", "go": "go", "typescript": "ts",
                 "java": "java", "c": "c"}[language]
    return Document(f"file:///t.{extension}", language, version, text, 10**7).snapshot()


# --- parsing existing docs ----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "style"), [
    ("Sum.\n\nArgs:\n    a: x\n", "google"),
    ("Sum.\n\nParameters\n----------\na : int\n    x\n", "numpy"),
    ("Sum.\n\n:param a: x\n:returns: y\n", "sphinx"),
    ("Just a sentence.", None),
])
def test_style_detection(text: str, style: str | None) -> None:
    assert detect_style(text) == style


def test_google_docstring_parts_are_read_and_multi_line_entries_joined() -> None:
    doc = parse_python_docstring(
        "Summary line.\n\n    More text.\n\n    Args:\n        a (int): First,\n"
        "            continued.\n        *args: Rest.\n\n    Returns:\n        Value.\n\n"
        "    Raises:\n        KeyError: Missing.\n\n    Note:\n        Careful.\n    ")
    assert doc.summary == "Summary line." and doc.description == "More text."
    assert [(e.name, e.type, e.text) for e in doc.params] == [
        ("a", "int", "First, continued."), ("*args", None, "Rest.")]
    assert doc.returns == "Value."
    assert [(e.name, e.text) for e in doc.raises] == [("KeyError", "Missing.")]
    assert doc.extra == [("Note", "Careful.")]


def test_sphinx_types_attach_to_their_parameters() -> None:
    doc = parse_python_docstring("Do.\n\n:param str name: Who.\n:param n: How many.\n"
                                 ":type n: int\n:rtype: bool\n:raises OSError: Disk.\n")
    assert [(e.name, e.type, e.text) for e in doc.params] == [("name", "str", "Who."),
                                                               ("n", "int", "How many.")]
    assert doc.returns_type == "bool"
    assert doc.raises[0].name == "OSError"


def test_tagged_comments_read_types_dashes_and_unknown_tags() -> None:
    doc = parse_tagged("/**\n * Pad it.\n *\n * Details here.\n * @param {number} [width=2] - "
                       "How wide.\n * @returns {string} Padded.\n * @throws {@link RangeError} "
                       "Bad width.\n * @example pad(1)\n */")
    assert doc.summary == "Pad it." and doc.description == "Details here."
    assert (doc.params[0].name, doc.params[0].type, doc.params[0].text) == (
        "width", "number", "How wide.")
    assert (doc.returns_type, doc.returns) == ("string", "Padded.")
    assert doc.raises[0].name == "RangeError" and doc.raises[0].text == "Bad width."
    assert doc.extra == [("@example", "pad(1)")]


def test_go_and_rust_comments() -> None:
    assert parse_go("// Run runs.\n//\n// More.").description == "More."
    doc = parse_rust("/// Parse.\n///\n/// # Arguments\n///\n/// * `s` - Text.\n///\n"
                     "/// # Errors\n///\n/// Bad input.\n///\n/// # Safety\n///\n/// None.")
    assert doc.params[0].name == "s" and doc.params[0].text == "Text."
    assert doc.errors == "Bad input."
    assert doc.extra == [("Safety", "None.")]


# --- merge ------------------------------------------------------------------------------------


def _target(text: str, language: str = "python"):  # type: ignore[no-untyped-def]
    snapshot = snapshot_of(text, language)
    definitions = docstrings.outline_of(snapshot)
    assert snapshot.tree is not None
    return analyze(definitions[-1], snapshot.tree, docstrings.source_of(snapshot), language)


def test_two_renamed_parameters_are_not_guessed() -> None:
    target = _target("def f(x, y):\n    return x\n")
    existing = Docstring("F.", params=[Entry("a", "A."), Entry("b", "B.")])
    merged = merge(existing, target)
    assert [(e.name, e.text) for e in merged.params] == [("x", ""), ("y", "")]
    assert missing_slots(merged, target) == ["param:x", "param:y", "returns"]


def test_documented_exceptions_the_body_does_not_raise_are_kept() -> None:
    target = _target("def f():\n    raise KeyError()\n")
    existing = Docstring("F.", raises=[Entry("OSError", "From open().")])
    merged = merge(existing, target)
    assert [(e.name, e.text) for e in merged.raises] == [("OSError", "From open()."),
                                                          ("KeyError", "")]
    assert missing_slots(merged, target) == ["raises:KeyError"]


def test_none_annotation_means_no_returns_slot() -> None:
    target = _target("def f(a) -> None:\n    return\n")
    assert missing_slots(merge(None, target), target) == ["summary", "param:a"]


# --- the model's JSON ---------------------------------------------------------------------------


def test_schema_has_exactly_the_slots_with_bounds() -> None:
    slots = ["summary", "param:summary", "param:b", "returns", "raises:ValueError"]
    schema = json.loads(slot_schema(slots))
    names = list(property_names(slots).values())
    assert names == ["summary", "param summary", "b", "returns", "raises ValueError"]
    assert list(schema["properties"]) == names and schema["required"] == names
    assert schema["additionalProperties"] is False
    assert all(p["type"] == "string" and p["maxLength"] <= 100
               for p in schema["properties"].values())


def test_answers_are_tidied_and_bad_answers_are_model_errors() -> None:
    assert parse_answer('{"summary": " add  two\\nnumbers ", "a": "x"}',
                        ["summary", "param:a"]) == {"summary": "Add two numbers.",
                                                    "param:a": "X."}
    assert parse_answer('{"summary": "two\tlines\nhere"}', ["summary"]) == {
        "summary": "Two lines here."}
    with pytest.raises(ModelError, match="not complete JSON"):
        parse_answer('{"summary": "cut', ["summary"])
    with pytest.raises(ModelError, match="nothing"):
        parse_answer('{"summary": "  "}', ["summary"])
    assert tidy("done!") == "Done!"
    assert go_summary("Run", "Runs the job.") == "Run runs the job."
    assert go_summary("Run", "Run starts.") == "Run starts."


# --- validation -------------------------------------------------------------------------------


def test_edits_outside_bounds_or_adding_errors_are_rejected() -> None:
    snapshot = snapshot_of("def f():\n    pass\n")
    assert snapshot.language is not None
    with pytest.raises(EditRejected, match="outside"):
        check_edit(snapshot.language, snapshot.text, snapshot.tree, Edit(0, 3, "def"), (4, 10))
    with pytest.raises(EditRejected, match="would not parse"):
        check_edit(snapshot.language, snapshot.text, snapshot.tree, Edit(13, 17, "pass("),
                   (0, 18))


def test_a_file_that_was_already_broken_can_still_be_edited() -> None:
    snapshot = snapshot_of("def f(:\n    pass\n\ndef g():\n    pass\n")
    assert snapshot.language is not None
    edited, _ = check_edit(snapshot.language, snapshot.text, snapshot.tree,
                           Edit(30, 30, '"""G."""\n    '), (17, 39))
    assert '"""G."""' in edited


# --- implement and fix --------------------------------------------------------------------------


class ScriptedBackend:
    """A backend that answers every generation with a fixed text (unit tests only)."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.info = ModelInfo("scripted", "", 4096, None, ())
        self.prompts: list[str] = []

    def tokenize(self, text: str) -> list[int]:
        self.prompts.append(text)
        return [ord(c) % 256 for c in text[-500:]]

    def detokenize(self, tokens: list[int]) -> str:
        return "".join(chr(t) for t in tokens)

    def generate(self, request: GenerationRequest,
                 is_cancelled: Callable[[], bool]) -> GenerationResult:
        text = ""
        for char in self.answer:
            text += char
            if request.should_stop is not None and request.should_stop(text):
                break
        return GenerationResult(text, len(text), len(request.prompt), 0, "stop", 1.0, 1.0)

    def close(self) -> None:
        pass


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("def f():\n    pass\n", "python", True),
    ('def f():\n    """Doc."""\n    ...\n', "python", True),
    ("def f():\n    # TODO: later\n    raise NotImplementedError('x')\n", "python", True),
    ("def f():\n    return 1\n", "python", False),
    ("function f() {\n  // TODO\n}\n", "javascript", True),
    ("function f() {\n  throw new Error('not implemented');\n}\n", "javascript", True),
    ("function f() {\n  return 1;\n}\n", "javascript", False),
    ("fn f() -> u8 {\n    todo!()\n}\n", "rust", True),
    ("func f() {\n}\n", "go", True),
])
def test_unimplemented_bodies_are_recognised(text: str, language: str, expected: bool) -> None:
    snapshot = snapshot_of(text, language)
    definition = docstrings.outline_of(snapshot)[0]
    assert codegen.is_unimplemented(definition, docstrings.source_of(snapshot),
                                    language) is expected


def test_implement_replaces_the_placeholder_with_the_body_up_to_the_dedent() -> None:
    text = 'class A:\n    def f(self, x):\n        """Double x."""\n        pass\n\nz = 1\n'
    backend = ScriptedBackend("return x * 2\n\nprint('outside')\n")
    snapshot = snapshot_of(text)
    offer = next(o for o in service.offers(snapshot, 20, 20, [])
                 if o.kind is service.ActionKind.IMPLEMENT)
    edit = service.compute(snapshot, service.Request(offer.kind, offer.byte_offset), backend,
                           lambda: False)
    assert edit.apply(text) == ('class A:\n    def f(self, x):\n        """Double x."""\n'
                                "        return x * 2\n\nz = 1\n")
    assert backend.prompts[0].endswith('"""Double x."""\n        ')


def test_implement_in_braces_stops_at_the_closing_brace() -> None:
    text = "function f(a) {\n  // TODO: sum\n}\n"
    snapshot = snapshot_of(text, "javascript")
    request = service.Request(service.ActionKind.IMPLEMENT, text.index("f("))
    edit = service.compute(snapshot, request, ScriptedBackend("return a + 1;\n}\nmore();"),
                           lambda: False)
    assert edit.apply(text) == "function f(a) {\n  return a + 1;\n}\n"


def test_a_fix_is_accepted_only_when_it_still_defines_the_function() -> None:
    text = "def f(a):\n    return a +\n"
    snapshot = snapshot_of(text)
    request = service.Request(service.ActionKind.FIX, text.index("f("), "invalid syntax")
    good = ScriptedBackend("def f(a):\n    return a + 1\n```\n")
    assert service.compute(snapshot, request, good, lambda: False).apply(text) == \
        "def f(a):\n    return a + 1\n"
    for broken in ("def g(a):\n    return 1\n```", "def f(a:\n```", "xxxxxxxx"):
        with pytest.raises(service.ActionFailed, match="refused"):
            service.compute(snapshot, request, ScriptedBackend(broken), lambda: False)


def test_no_model_still_updates_a_docstring_that_needs_no_prose() -> None:
    text = 'def f(a):\n    """F.\n\n    Args:\n        a: A.\n        b: Gone.\n    """\n'
    snapshot = snapshot_of(text)
    edit = service.compute(snapshot, service.Request(service.ActionKind.DOCSTRING, 4), None,
                           lambda: False)
    assert "b:" not in edit.apply(text) and "a: A." in edit.apply(text)
    with pytest.raises(service.ActionFailed, match="no model"):
        service.compute(snapshot_of("def g(x):\n    pass\n"),
                        service.Request(service.ActionKind.DOCSTRING, 4), None, lambda: False)


# --- listing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "unit"), [
    ("python", "class C{i}:\n    '''Doc.'''\n\n    def m{i}(self, a):\n        return a\n\n"),
    ("javascript", "/**\n * Doc {i}.\n */\nexport class C{i} {{\n  // note\n  m{i}(a) {{\n"
                   "    return a;\n  }}\n}}\nconst X{i} = 1;\n"),
])
def test_listing_from_part_of_the_tree_finds_what_the_full_outline_finds(
        language: str, unit: str) -> None:
    text = "".join(unit.format(i=i) for i in range(40))
    snapshot = snapshot_of(text, language)
    definitions = docstrings.outline_of(snapshot)
    for offset in range(0, len(text), 37):
        full = docstrings.target_at(snapshot, definitions, offset)
        local = docstrings.target_at(snapshot, service.local_definitions(snapshot, offset, offset),
                                     offset)
        assert (full and full.name) == (local and local.name), offset
        if full is not None and local is not None:
            assert full == local


def test_nothing_is_offered_for_files_without_a_tree() -> None:
    snapshot = Document("file:///notes.txt", "plaintext", 1, "def f(): pass", 10**7).snapshot()
    assert service.offers(snapshot, 0, 0, []) == []
    with pytest.raises(service.ActionFailed, match="syntax tree"):
        service.compute(snapshot, service.Request(service.ActionKind.DOCSTRING, 0), None,
                        lambda: False)


# --- module docstrings --------------------------------------------------------------------------


def test_module_docstring_goes_after_leading_comments_and_before_the_first_statement() -> None:
    text = "#!/usr/bin/env python\n# Licence: MIT\nimport os\n\n\ndef f():\n    pass\n"
    snapshot = snapshot_of(text)
    offers = service.offers(snapshot, 0, 0, [])
    assert [o.title for o in offers] == ["Generate module docstring"]
    backend = ScriptedBackend('{"summary": "tools for the shell"}')
    edit = service.compute(snapshot, service.Request(service.ActionKind.DOCSTRING, 0), backend,
                           lambda: False)
    assert edit.apply(text) == ('#!/usr/bin/env python\n# Licence: MIT\n'
                                '"""Tools for the shell."""\n\nimport os\n\n\ndef f():\n    pass\n')
    documented = snapshot_of(edit.apply(text))
    assert service.offers(documented, 0, 0, []) == []


def test_docstring_style_setting_is_validated() -> None:
    from llama_lsp.config.settings import resolve_settings

    settings, problems = resolve_settings({"docstringStyle": "numpy"})
    assert settings.docstring_style == "numpy" and problems == []
    settings, problems = resolve_settings({"docstringStyle": "rst"})
    assert settings.docstring_style == "auto"
    assert problems and "auto, google, numpy, sphinx" in problems[0]


def test_the_file_command_documents_public_api_only() -> None:
    text = ("class Shape:\n    def __init__(self, n):\n        self.n = n\n\n"
            "    def area(self):\n        def helper():\n            return 1\n"
            "        return helper()\n\n    def _cache(self):\n        pass\n\n"
            "def documented():\n    '''Done.'''\n")
    names = [d.name for d in service.undocumented(snapshot_of(text))]
    assert names == ["Shape", "area"]


def test_an_indented_doc_comment_run_is_replaced_whole() -> None:
    """The doc of an indented method spans its lines' indentation: the update replaces all of
    it (it once stopped short by the indentation and left the old text's tail behind)."""
    text = ("impl Shape {\n    /// Area of it.\n    /// Second line.\n"
            "    pub fn area(&self, scale: f64) -> f64 {\n        scale\n    }\n}\n")
    snapshot = snapshot_of(text, "rust")
    definitions = docstrings.outline_of(snapshot)
    plan = docstrings.plan(snapshot, definitions[-1], definitions, "auto")
    docstrings.apply_answers(plan, {"param:scale": "Multiplier.", "returns": "The area."})
    updated = docstrings.edit_for(plan, snapshot).apply(text)
    assert updated.startswith("impl Shape {\n    /// Area of it.\n    /// Second line.\n")
    assert "    /// The area.\n    pub fn area(&self, scale: f64) -> f64 {\n" in updated


@pytest.mark.parametrize(("language", "source", "facts"), [
    ("python", "async def f(x) -> int:\n    def inner():\n        raise KeyError()\n"
     "    raise ValueError('v') from None\n    return x\n",
     ("int", True, False, ("ValueError",), False, True)),
    ("python", "def f(x):\n    g = lambda: (yield)\n    return\n",
     (None, False, False, (), False, False)),
    ("javascript", "function* f(a) { const g = () => { throw new Bad(); }; yield a; }\n",
     (None, False, True, (), False, False)),
    ("javascript", "const f = async (x) => x * 2;\n", (None, True, False, (), False, True)),
    ("typescript", "function f(a: number): string { throw new errors.Bad(); }\n",
     ("string", True, False, ("errors.Bad",), False, False)),
    ("go", "func f(a int) (int, error) {\n\treturn a, nil\n}\n",
     ("(int, error)", True, False, (), False, False)),
    ("rust", "fn f(a: u8) -> Result<u8, E> {\n    let c = |x: u8| x.unwrap();\n"
     "    a.expect(\"y\");\n    Ok(a)\n}\n",
     ("Result<u8, E>", True, False, (), True, False)),
    ("java", "class A {\n  int f(int a) throws IOException {\n"
     "    throw new IllegalStateException(\"x\");\n  }\n}\n",
     ("int", True, False, ("IllegalStateException", "IOException"), False, False)),
    ("c", "char *f(const char *s) {\n    return 0;\n}\n", ("char*", True, False, (), False, False)),
])
def test_facts_come_from_the_queries(language: str, source: str,
                                     facts: tuple[object, ...]) -> None:
    """Return type, returns a value, yields, raises, panics, async: from facts.scm."""
    snapshot = snapshot_of(source, language)
    assert snapshot.tree is not None
    definition = next(d for d in docstrings.outline_of(snapshot) if d.name == "f")
    target = analyze(definition, snapshot.tree, docstrings.source_of(snapshot), language)
    assert (target.return_type, target.returns_value, target.yields, target.raises,
            target.panics, target.is_async) == facts
