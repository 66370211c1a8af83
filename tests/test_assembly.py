"""Context assembly (definitions, similar chunks, exclusions) and the pipeline's use of it.

Workspaces are real temp folders; documents are parsed with tree-sitter; the pipeline tests use
the tiny GGUF models from conftest.py, so prompts are real token lists that we detokenize.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from tiny_models import TinyModelInfo

from llama_lsp.config.settings import Settings
from llama_lsp.context import assembly
from llama_lsp.context.assembly import (
    MAX_DEFINITION_CHUNKS,
    WHOLE_DEFINITION_LINES,
    ContextChunk,
    WorkspaceContext,
    definition_chunks,
    joined_brackets,
    gather_context,
    identifiers_near,
    repository_name,
    similar_chunks,
)
from llama_lsp.context.callee import called_names
from llama_lsp.context.documents import Document, DocumentSnapshot
from llama_lsp.context.exclusions import ExclusionPolicy
from llama_lsp.context.positions import PositionEncoding
from llama_lsp.context.syntax.languages import language_id_for_path
from llama_lsp.context.workspace import DISK_CHECK_SECONDS, WorkspaceIndex
from llama_lsp.features.completion.pipeline import CompletionPipeline
from llama_lsp.model.embedded import EmbeddedBackend

CURSOR = "<|cursor|>"
SENTINEL = "LEAKED_SENTINEL_7f3a"


class Workspace:
    """A temp workspace with a .git folder, files on disk and open documents."""

    def __init__(self, root: Path, secret_patterns: tuple[str, ...] | None = None) -> None:
        self.root = root
        (root / ".git").mkdir(parents=True, exist_ok=True)
        policy = ExclusionPolicy([root]) if secret_patterns is None else \
            ExclusionPolicy([root], secret_patterns)
        self.now = 0.0
        self.index = WorkspaceIndex([root], policy, background=False, clock=lambda: self.now)
        self.open_documents: list[DocumentSnapshot] = []

    def write(self, relative: str, text: str) -> Path:
        """Write a file; the index notices it at its next disk check (time moves on)."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        self.now += DISK_CHECK_SECONDS
        return path

    def open(self, relative: str, text: str | None = None, version: int = 1) -> DocumentSnapshot:
        """Open a document (its disk text by default; a CURSOR marker is removed)."""
        path = self.root / relative
        if text is None:
            text = path.read_text()
        elif not path.exists():
            self.write(relative, text.replace(CURSOR, ""))
        document = Document(path.as_uri(), language_id_for_path(str(path)), version,
                            text.replace(CURSOR, ""), 10**6)
        snapshot = document.snapshot()
        self.open_documents = [s for s in self.open_documents if s.uri != snapshot.uri]
        self.open_documents.append(snapshot)
        return snapshot

    def context(self) -> WorkspaceContext:
        return WorkspaceContext(self.index, self.open_documents)


def _cursor(text: str) -> tuple[int, int]:
    """(line, code-point offset) of the CURSOR marker."""
    offset = text.index(CURSOR)
    return text[:offset].count("\n"), offset


def _filler(count: int, word: str = "filler") -> str:
    return "".join(f"{word}_{i} = {i}\n" for i in range(count))


def _all_text(chunks: list[ContextChunk] | tuple[ContextChunk, ...]) -> str:
    return "\n".join(f"{c.path}\n{c.text}" for c in chunks)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


# --- definitions --------------------------------------------------------------------------------

LIB = '''\
def imported_fn(value):
    """Scale a value."""
    return value * 3


def unused_fn():
    return None


def shared_name():
    return "from lib"
'''

MAIN = f'''\
from lib import imported_fn, unused_fn, shared_name


def local_helper(x):
    return x * 2


def shared_name():
    return "from main"


{_filler(45)}
def main():
    a = local_helper(1)
    b = imported_fn(a)
    c = shared_name()
    {CURSOR}
    return a + b
'''


def _main_window(text: str) -> tuple[int, int]:
    clean = text.replace(CURSOR, "")
    first = clean.split("\n").index("def main():")
    return first, clean.count("\n")


def test_definitions_outside_the_window_reach_the_chunks(ws: Workspace) -> None:
    ws.write("lib.py", LIB)
    snapshot = ws.open("main.py", MAIN)
    line, _ = _cursor(MAIN)
    chunks = gather_context(snapshot, line, _main_window(MAIN), ws.index, ws.open_documents)
    definitions = [c for c in chunks if c.kind == "definition"]
    assert [(c.path, c.origin, c.text.split("(")[0]) for c in definitions] == [
        ("main.py", "this file", "def local_helper"),
        ("main.py", "this file", "def shared_name"),
        ("lib.py", "imported file", "def imported_fn"),
    ]
    assert definitions[0].text == "def local_helper(x):\n    return x * 2"
    assert definitions[0].key == ("main.py", 3)
    # The same name defined here and in an imported file: this file's definition wins.
    assert "from main" in definitions[1].text and "from lib" not in _all_text(chunks)
    # Names only in the (far away) import line are not used near the cursor.
    assert "unused_fn():" not in _all_text(chunks)


def test_definitions_in_the_window_or_enclosing_the_cursor_are_left_out(ws: Workspace) -> None:
    text = f'''\
{_filler(20)}
def outer_helper():
    return 1


{_filler(20, "more")}
def in_window():
    return 2


def main():
    x = in_window() + outer_helper()
    main()
    {CURSOR}
'''
    snapshot = ws.open("m.py", text)
    line, _ = _cursor(text)
    first = text.split("\n").index("def in_window():")
    chunks = gather_context(snapshot, line, (first, line + 1), ws.index, [])
    assert [c.text.split("(")[0] for c in chunks if c.kind == "definition"] == [
        "def outer_helper"]


def test_definitions_from_imported_typescript_go_and_rust_files(ws: Workspace) -> None:
    ws.write("src/util.ts", "export function formatName(first: string): string {\n"
                            "  return first.trim();\n}\n")
    text = f"import {{ formatName }} from './util';\n\nconst who = formatName(' a ');\n{CURSOR}\n"
    snapshot = ws.open("src/app.ts", text)
    line, _ = _cursor(text)
    chunks = gather_context(snapshot, line, (line, line), ws.index, [])
    assert [(c.path, c.origin) for c in chunks] == [("src/util.ts", "imported file")]
    assert chunks[0].text.startswith("export function formatName(first: string)")

    ws.write("go/go.mod", "module example.com/demo\n")
    ws.write("go/store/store.go", "package store\n\nfunc Open(name string) int {\n"
                                  "\treturn len(name)\n}\n")
    go_text = ('package main\n\nimport "example.com/demo/store"\n\nfunc main() {\n'
               f'\tn := store.Open("db")\n\t{CURSOR}\n}}\n')
    snapshot = ws.open("go/main.go", go_text)
    line, _ = _cursor(go_text)
    chunks = gather_context(snapshot, line, (line - 2, line + 1), ws.index, [])
    assert [(c.path, c.text.split("(")[0]) for c in chunks] == [("go/store/store.go",
                                                                 "func Open")]

    ws.write("rs/Cargo.toml", '[package]\nname = "demo"\n')
    ws.write("rs/src/shapes.rs", "pub fn area(w: u32, h: u32) -> u32 {\n    w * h\n}\n")
    rs_text = f"mod shapes;\n\nfn main() {{\n    let a = shapes::area(2, 3);\n    {CURSOR}\n}}\n"
    snapshot = ws.open("rs/src/main.rs", rs_text)
    line, _ = _cursor(rs_text)
    chunks = gather_context(snapshot, line, (line - 2, line + 1), ws.index, [])
    assert [(c.path, c.text.split("(")[0]) for c in chunks] == [("rs/src/shapes.rs",
                                                                 "pub fn area")]


def test_long_definitions_are_signature_and_docstring(ws: Workspace) -> None:
    body = "".join(f"    step_{i} = value + {i}\n" for i in range(WHOLE_DEFINITION_LINES + 2))
    ws.write("lib.py", f'def long_fn(value):\n    """Transform a value.\n\n    Slowly.\n    """\n'
                       f'{body}    return value\n\n\ndef short_fn(a):\n    return a\n')
    ws.write("util.ts", "/** Parse a thing. */\nexport function parseThing(s: string): number {\n"
             + "".join(f"  const v{i} = s.length + {i};\n" for i in range(14))
             + "  return 0;\n}\n")
    py = f"from lib import long_fn, short_fn\n\nx = long_fn(short_fn(1))\n{CURSOR}\n"
    snapshot = ws.open("main.py", py)
    line, _ = _cursor(py)
    chunks = gather_context(snapshot, line, (line, line), ws.index, [])
    assert [c.text for c in chunks] == [
        'def long_fn(value):\n    """Transform a value.\n\n    Slowly.\n    """\n    ...',
        "def short_fn(a):\n    return a",
    ]
    ts = f"import {{ parseThing }} from './util';\n\nconst n = parseThing('x');\n{CURSOR}\n"
    snapshot = ws.open("main.ts", ts)
    line, _ = _cursor(ts)
    (chunk,) = gather_context(snapshot, line, (line, line), ws.index, [])
    assert chunk.text == ("/** Parse a thing. */\n"
                          "export function parseThing(s: string): number { ... }")


def test_long_python_classes_show_how_to_build_one(ws: Workspace) -> None:
    methods = "".join(f"\n    def step_{i}(self):\n        return {i}\n" for i in range(6))
    ws.write("shapes.py", f'''\
@dataclass
class Box:
    """A box."""

    width: int
    height: int = 1
    label: str = field(default="")
    LIMIT = 3
{methods}

class Pipeline:
    """Runs steps."""

    def __init__(self, backend: str,
                 retries: int = 2) -> None:
        """Keep the backend."""
        self.backend = backend
{methods}''')
    text = f"from shapes import Box, Pipeline\n\nb = Box(1)\np = Pipeline(b)\n{CURSOR}\n"
    snapshot = ws.open("main.py", text)
    line, _ = _cursor(text)
    chunks = gather_context(snapshot, line, (line, line), ws.index, [])
    assert [c.text for c in chunks] == [
        '@dataclass\nclass Box:\n    """A box."""\n\n    width: int\n    height: int = 1\n'
        '    label: str = field(default="")\n    ...',
        'class Pipeline:\n    """Runs steps."""\n\n'
        '    def __init__(self, backend: str, retries: int = 2) -> None:\n        ...\n    ...',
    ]


@pytest.mark.parametrize(("language", "text", "joined"), [
    ("python", "def f(\n    a: int,\n    b: str = \"(\",\n) -> None:\n    ",
     'def f(a: int, b: str = "(") -> None:\n    '),
    ("python", "def f(a,\n      b):", "def f(a, b):"),
    ("python", "def f(a='it\\'s (',\n      b):", "def f(a='it\\'s (', b):"),
    ("rust", "fn x(\n  a: Vec<u8>,\n) -> u32 {", "fn x(a: Vec<u8>) -> u32 {"),
    ("python", "def f(\n    a,  # why\n    b):", "def f(\n    a,  # why\n    b):"),
    ("go", "func f(a int, // why\n\tb int)", "func f(a int, // why\n\tb int)"),
    ("c", "int f(int a, /* n */\n      int b)", "int f(int a, /* n */\n      int b)"),
    ("python", 'def f(a="""x\n  y""",\n      b):', 'def f(a="""x\n  y""",\n      b):'),
    ("python", "def f(a):\n    return a", "def f(a):\n    return a"),
])
def test_wrapped_signatures_are_joined(language: str, text: str, joined: str) -> None:
    assert joined_brackets(text, language) == joined


def test_methods_come_dedented(ws: Workspace) -> None:
    ws.write("shapes.py", "class Point:\n    x = 1\n" + _filler(14, "    y")
             + "\n    def norm(self):\n        return 0\n")
    text = f"from shapes import Point\n\nn = Point().norm()\n{CURSOR}\n"
    snapshot = ws.open("main.py", text)
    line, _ = _cursor(text)
    chunks = gather_context(snapshot, line, (line, line), ws.index, [])
    assert [c.text for c in chunks] == ["class Point:\n    ...",
                                        "def norm(self):\n    return 0"]
    fields = "".join(f"  f{i} = {i};\n" for i in range(14))
    ws.write("shape.ts", "export class Shape {\n" + fields + "  /**\n   * The area.\n   */\n"
             "  area(scale: number): number {\n    return 1;\n  }\n}\n")
    ts = f"import {{ Shape }} from './shape';\n\nconst a = new Shape().area(2);\n{CURSOR}\n"
    snapshot = ws.open("main.ts", ts)
    line, _ = _cursor(ts)
    chunks = gather_context(snapshot, line, (line, line), ws.index, [])
    assert [c.text for c in chunks][1:] == [
        "/**\n * The area.\n */\narea(scale: number): number {\n  return 1;\n}"]


def test_at_most_max_definition_chunks(ws: Workspace) -> None:
    count = MAX_DEFINITION_CHUNKS + 6
    ws.write("lib.py", "".join(f"def fn_{i}():\n    return {i}\n\n\n" for i in range(count)))
    calls = "".join(f"    fn_{i}()\n" for i in range(count))
    text = f"from lib import *\n\ndef main():\n{calls}    {CURSOR}\n"
    # `import *` has no names: the module file itself is the import.
    snapshot = ws.open("main.py", text)
    line, _ = _cursor(text)
    chunks = gather_context(snapshot, line, (2, line), ws.index, [])
    definitions = [c for c in chunks if c.kind == "definition"]
    assert len(definitions) == MAX_DEFINITION_CHUNKS
    # In file order, so the choice is deterministic.
    assert [c.text.split("(")[0] for c in definitions] == [
        f"def fn_{i}" for i in range(MAX_DEFINITION_CHUNKS)]


def test_a_definition_inside_one_shown_whole_is_not_repeated(ws: Workspace) -> None:
    ws.write("shapes.py", "class Point:\n    def norm(self):\n        return 0\n")
    text = f"from shapes import Point\n\np = Point()\nn = p.norm()\n{CURSOR}\n"
    snapshot = ws.open("main.py", text)
    line, _ = _cursor(text)
    chunks = gather_context(snapshot, line, (line, line), ws.index, [])
    assert [c.text for c in chunks] == ["class Point:\n    def norm(self):\n        return 0"]


def test_the_cursor_line_does_not_choose_definitions(ws: Workspace) -> None:
    ws.write("lib.py", "def alpha():\n    return 1\n\n\ndef beta():\n    return 2\n")
    on_line = f"import lib\n\nx = 1\ny = lib.beta() + {CURSOR}\n"
    snapshot = ws.open("main.py", on_line)
    line, _ = _cursor(on_line)
    assert identifiers_near(snapshot, line) == {"lib", "x"}
    assert gather_context(snapshot, line, (line, line), ws.index, []) == []
    above = f"import lib\n\ny = lib.beta()\n{CURSOR}\n"
    snapshot = ws.open("main.py", above, version=2)
    line, _ = _cursor(above)
    chunks = gather_context(snapshot, line, (line, line), ws.index, [])
    assert [c.text.split("(")[0] for c in chunks] == ["def beta"]


@pytest.mark.parametrize(("language", "line_before", "names"), [
    ("python", "x = scale(", ["scale"]),
    ("python", "    return lib.scale(a, ", ["scale"]),
    ("python", "x = outer(inner(a), ", ["outer", "inner"]),
    ("python", "x = f(a) + g(b) + f(c)", ["f", "g"]),
    ("python", 'x = f("g(b)", ', ["f"]),
    ("python", "x = a(1) + b(2) + c(3) + d(4) + e(", ["a", "b", "c", "d"]),
    ("rust", "let a = shapes::area(2, ", ["area"]),
    ("javascript", "function local(a, ", []),
    ("python", "def local(a, ", []),
    ("python", "x = (", []),
    ("python", "", []),
])
def test_called_names(language: str, line_before: str, names: list[str]) -> None:
    assert called_names(line_before, language) == names


def test_the_call_being_written_brings_its_definition(ws: Workspace) -> None:
    ws.write("lib.py", LIB)
    text = MAIN.replace(f"    {CURSOR}", f"    d = unused_fn({CURSOR}")
    snapshot = ws.open("main.py", text)
    line, offset = _cursor(text)
    line_before = text[:offset].rsplit("\n", 1)[1]
    window = _main_window(text)
    chunks = gather_context(snapshot, line, window, ws.index, [], line_before)
    # Most important first: the callee, marked for the end of the prompt; the rest unchanged.
    assert [(c.text.split("(")[0], c.at_cursor) for c in chunks] == [
        ("def unused_fn", True), ("def local_helper", False), ("def shared_name", False),
        ("def imported_fn", False)]
    assert chunks[0].origin == "imported file"
    assert chunks[1:] == gather_context(snapshot, line, window, ws.index, [])
    # A callee already among the definitions used nearby is not repeated or moved.
    again = gather_context(snapshot, line, window, ws.index, [], "    d = imported_fn(")
    assert again == chunks[1:]
    # Nor is one visible in the window, or a name without a definition.
    assert gather_context(snapshot, line, window, ws.index, [], "    main(") == chunks[1:]
    assert gather_context(snapshot, line, window, ws.index, [], "    print(") == chunks[1:]
    # Closing the call keeps its definition; another call on the line is appended after it.
    assert gather_context(snapshot, line, window, ws.index, [], "    d = unused_fn(1)") == chunks
    both = gather_context(snapshot, line, window, ws.index, [], "    d = unused_fn(1) + main(")
    assert both == chunks


@pytest.mark.parametrize("ending", ["", "\n"])
def test_cursor_on_the_last_line(ws: Workspace, ending: str) -> None:
    ws.write("lib.py", "def alpha():\n    return 1\n")
    text = f"from lib import alpha\n\nvalue = alpha()\nresult = {CURSOR}{ending}"
    snapshot = ws.open("main.py", text)
    line, _ = _cursor(text)
    chunks = gather_context(snapshot, line, (0, line), ws.index, [])
    assert [c.path for c in chunks] == ["lib.py"]
    if ending:  # the empty line after the last line break
        last = snapshot.index.line_count - 1
        assert gather_context(snapshot, last, (0, last), ws.index, [])


def test_definition_chunks_without_names_is_empty(ws: Workspace) -> None:
    snapshot = ws.open("m.py", "def f():\n    pass\n")
    document = ws.index.document_outline(snapshot)
    assert document is not None
    assert definition_chunks(document, [], set(), (0, 0), [ws.root]) == []


# --- similar chunks -----------------------------------------------------------------------------

TARGET = "alpha beta gamma delta epsilon zeta eta theta"


def _doc(ws: Workspace, name: str, chunks: list[str]) -> DocumentSnapshot:
    """A document whose SIMILAR_CHUNK_LINES-line chunks hold the given words."""
    lines: list[str] = []
    for words in chunks:
        block = [words] + ["#"] * (assembly.SIMILAR_CHUNK_LINES - 1)
        lines += block
    return ws.open(name, "\n".join(lines) + "\n")


def test_similar_chunks_pick_the_most_similar_chunk(ws: Workspace) -> None:
    weak = _doc(ws, "weak.py", ["alpha beta gamma one two three four five"])  # 3/13
    strong = _doc(ws, "strong.py", [
        "alpha beta other words here and more of them",        # 2/16: below the minimum
        "alpha beta gamma delta epsilon zeta extra1 extra2",   # 6/10
    ])
    chunks = similar_chunks(TARGET, [weak, strong], [ws.root])
    assert [(c.path, c.key, c.kind, c.origin) for c in chunks] == [
        ("strong.py", ("strong.py", assembly.SIMILAR_CHUNK_LINES), "similar", "open file"),
        ("weak.py", ("weak.py", 0), "similar", "open file"),
    ]


def test_near_identical_copies_are_dropped(ws: Workspace) -> None:
    copy = _doc(ws, "copy.py", [TARGET])                                    # 1.0
    nine = " ".join(TARGET.split() + ["iota"])
    near = _doc(ws, "near.py", [nine])                                      # 8/9 = 0.89
    target = f"{TARGET} iota kappa"                                         # 10 words
    at_threshold = _doc(ws, "edge.py", [f"{TARGET} iota"])                  # 9/10 = 0.9
    assert similar_chunks(TARGET, [copy], [ws.root]) == []
    assert [c.path for c in similar_chunks(TARGET, [near], [ws.root])] == ["near.py"]
    assert similar_chunks(target, [at_threshold], [ws.root]) == []


def test_similar_chunks_limits_and_empty_inputs(ws: Workspace) -> None:
    docs = [_doc(ws, f"d{i}.py", [f"alpha beta gamma delta w{i}"]) for i in range(5)]
    assert len(similar_chunks(TARGET, docs, [ws.root])) == assembly.SIMILAR_MAX_CHUNKS
    assert similar_chunks("  \n  ", docs, [ws.root]) == []
    binary = Document((ws.root / "b.py").as_uri(), "python", 1, "alpha\x00beta", 100).snapshot()
    assert binary.problem and similar_chunks(TARGET, [binary], [ws.root]) == []


def test_gather_context_adds_similar_chunks_of_other_open_files(ws: Workspace) -> None:
    other = "\n".join(["def compute_total(items, tax_rate):",
                       "    subtotal = sum(item.price for item in items)",
                       "    return subtotal * (1 + tax_rate)", ""])
    ws.open("billing.py", other)
    text = ("def compute_discount(items, rate):\n"
            "    subtotal = sum(item.price for item in items)\n"
            f"    {CURSOR}\n")
    snapshot = ws.open("shop.py", text)
    line, _ = _cursor(text)
    chunks = gather_context(snapshot, line, (0, line), ws.index, ws.open_documents)
    assert [(c.kind, c.path) for c in chunks] == [("similar", "billing.py")]
    assert chunks[0].text.startswith("def compute_total")


# --- exclusions: secret and .gitignored files never appear --------------------------------------

SECRET_LIB = f'''\
def load_token():
    return "{SENTINEL}"


def load_password():
    return "{SENTINEL}"
'''


def _leaky_workspace(ws: Workspace) -> tuple[DocumentSnapshot, int, int]:
    """A workspace whose main file uses definitions from secret and ignored files.

    Returns the main snapshot, the cursor line and offset. A legitimate import (lib.py) is
    there too, so that the absence of the sentinel is not just the absence of all context.
    """
    ws.write(".gitignore", "local_settings.py\n/private/\n")
    ws.write("lib.py", "def public_fn():\n    return 1\n")
    ws.write("api_secrets.py", SECRET_LIB)                       # matches *secret*
    ws.write("local_settings.py", SECRET_LIB.replace("load_", "local_"))   # .gitignored
    ws.write("private/keys.py", SECRET_LIB.replace("load_", "private_"))   # ignored dir
    ws.write("credentials.py", SECRET_LIB.replace("load_", "cred_"))       # credentials.*
    # Open in the editor too (unsaved edits included), with text similar to the cursor area.
    similar = ("from lib import public_fn\n"
               "token = load_token()\npassword = load_password()\n"
               f"local = local_token()\n# {SENTINEL}\n")
    ws.open("api_secrets.py", SECRET_LIB + similar)
    ws.open("local_settings.py", SECRET_LIB.replace("load_", "local_") + similar)
    ws.open("private/keys.py", SECRET_LIB.replace("load_", "private_") + similar)
    ws.open(".env", f"API_TOKEN={SENTINEL}\n")
    text = ("from lib import public_fn\n"
            "from api_secrets import load_token, load_password\n"
            "from local_settings import local_token\n"
            "from private.keys import private_token\n"
            "from credentials import cred_token\n"
            "\n"
            "token = load_token()\npassword = load_password()\n"
            "local = local_token()\nkey = private_token()\ncred = cred_token()\n"
            "value = public_fn()\n"
            f"{CURSOR}\n")
    snapshot = ws.open("main.py", text)
    line, offset = _cursor(text)
    return snapshot, line, offset


def test_secret_and_ignored_files_never_reach_gather_context(ws: Workspace) -> None:
    snapshot, line, _ = _leaky_workspace(ws)
    chunks = gather_context(snapshot, line, (line, line), ws.index, ws.open_documents)
    assert [c.path for c in chunks if c.kind == "definition"] == ["lib.py"]
    assert SENTINEL not in _all_text(chunks)
    for chunk in chunks:
        assert chunk.path in ("lib.py", "main.py"), chunk


def test_ignored_c_header_reached_through_dot_dot_stays_out(ws: Workspace) -> None:
    ws.write(".gitignore", "/private/\n")
    ws.write("private/keys.h", f'#define KEY "{SENTINEL}"\nint secret_key(void);\n')
    ws.write("src/util.h", "int util_add(int a, int b);\n")
    text = ('#include "../private/keys.h"\n#include "util.h"\n\n'
            f"int main(void) {{\n  int k = secret_key() + util_add(1, 2);\n  {CURSOR}\n}}\n")
    snapshot = ws.open("src/main.c", text)
    line, _ = _cursor(text)
    chunks = gather_context(snapshot, line, (line, line), ws.index, [])
    assert [c.path for c in chunks] == ["src/util.h"]
    assert SENTINEL not in _all_text(chunks)


def test_custom_secret_patterns_apply_to_imports_and_open_files(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", secret_patterns=("vault_*",))
    ws.write("vault_keys.py", f'def vault_key():\n    return "{SENTINEL}"\n')
    ws.write("api_secrets.py", "def plain_key():\n    return 1\n")  # no longer a secret
    ws.open("vault_keys.py")
    text = ("from vault_keys import vault_key\nfrom api_secrets import plain_key\n"
            f"k = vault_key() + plain_key()\n{CURSOR}\n")
    snapshot = ws.open("main.py", text)
    line, _ = _cursor(text)
    chunks = gather_context(snapshot, line, (line, line), ws.index, ws.open_documents)
    assert [c.path for c in chunks] == ["api_secrets.py"]
    assert SENTINEL not in _all_text(chunks)


# --- stability ----------------------------------------------------------------------------------


def test_context_is_stable_across_keystrokes_on_the_same_line(ws: Workspace) -> None:
    ws.write("lib.py", LIB)
    ws.open("billing.py", "def compute_total(items):\n    return sum(items)\n"
                          "a = local_helper(1)\nb = imported_fn(a)\n")
    document = Document((ws.root / "main.py").as_uri(), "python", 1, MAIN.replace(CURSOR, ""),
                        10**6)
    line, offset = _cursor(MAIN)
    window = _main_window(MAIN)
    seen = []
    typed = "zz = unused_fn(shared_name("
    for version, character in enumerate(typed, start=2):
        snapshot = document.snapshot()
        chunks = gather_context(snapshot, line, window, ws.index, [*ws.open_documents, snapshot])
        seen.append([(c.kind, c.key, c.text) for c in chunks])
        position = snapshot.index.position_at(offset, PositionEncoding.UTF16)
        document.apply_change(position, position, character, PositionEncoding.UTF16, version)
        offset += 1
    assert seen[0] and all(entry == seen[0] for entry in seen)
    assert any(kind == "similar" for kind, _, _ in seen[0])


# --- the pipeline with context ------------------------------------------------------------------


def _backend(model: TinyModelInfo, context_size: int = 1024) -> EmbeddedBackend:
    return EmbeddedBackend.load(model.path, Settings(context_size=context_size, threads=1))


@pytest.fixture(scope="module")
def plain_backend(tiny_plain_model: TinyModelInfo) -> EmbeddedBackend:
    return _backend(tiny_plain_model)


@pytest.fixture(scope="module")
def fim_backend(tiny_fim_model: TinyModelInfo) -> EmbeddedBackend:
    return _backend(tiny_fim_model)


class _OtherFimTokens:
    """The FIM backend as if its vocabulary had other FIM tokens (``changes`` to FimTokens):
    ``file_separator=None``, say, or a ``repo_name`` token."""

    def __init__(self, backend: EmbeddedBackend, **changes: int | None) -> None:
        self._backend = backend
        assert backend.info.fim is not None
        self.info = dataclasses.replace(
            backend.info, fim=dataclasses.replace(backend.info.fim, **changes))

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._backend, name)


SMALL_LIB = "def scale(value):\n    return value * 3\n"
SMALL_MAIN = f"from lib import scale\n\nresult = scale(2)\ntotal = {CURSOR}\nprint(total)\n"
SETTINGS = Settings(max_tokens=16)


def _small_workspace(ws: Workspace) -> tuple[DocumentSnapshot, int]:
    ws.write("lib.py", SMALL_LIB)
    snapshot = ws.open("app/main.py", SMALL_MAIN)
    return snapshot, _cursor(SMALL_MAIN)[1]


def test_fim_model_has_a_file_separator(fim_backend: EmbeddedBackend,
                                        tiny_fim_model: TinyModelInfo) -> None:
    assert fim_backend.info.fim is not None
    assert tiny_fim_model.fim_sep_id is not None
    assert fim_backend.info.fim.file_separator == tiny_fim_model.fim_sep_id


def test_prefix_only_prompt_has_comment_path_headers(ws: Workspace,
                                                     plain_backend: EmbeddedBackend) -> None:
    snapshot, offset = _small_workspace(ws)
    pipeline = CompletionPipeline(plain_backend)
    prompt = pipeline.build_prompt(snapshot, offset, SETTINGS, ws.context())
    assert not prompt.fim
    assert [c.text for c in prompt.context] == [SMALL_LIB.rstrip("\n")]
    expected = ("# lib.py\ndef scale(value):\n    return value * 3\n\n"
                "# app/main.py\nfrom lib import scale\n\nresult = scale(2)\ntotal =")
    assert plain_backend.detokenize(prompt.tokens) == expected
    assert prompt.parts["context"] == len(plain_backend.tokenize(
        "# lib.py\ndef scale(value):\n    return value * 3\n\n# app/main.py\n"))


def test_prefix_only_prompt_uses_slash_comments_outside_python(
        ws: Workspace, plain_backend: EmbeddedBackend) -> None:
    ws.write("util.ts", "export function twice(n: number): number {\n  return n * 2;\n}\n")
    text = f"import {{ twice }} from './util';\n\nconst a = twice(2);\nconst b = {CURSOR}\n"
    snapshot = ws.open("app.ts", text)
    prompt = CompletionPipeline(plain_backend).build_prompt(
        snapshot, _cursor(text)[1], SETTINGS, ws.context())
    shown = plain_backend.detokenize(prompt.tokens)
    assert shown.startswith("// util.ts\nexport function twice(n: number): number {")
    assert "\n\n// app.ts\nimport { twice }" in shown


def test_the_callee_goes_last_and_keeps_the_stable_head(ws: Workspace,
                                                        plain_backend: EmbeddedBackend) -> None:
    ws.write("lib.py", SMALL_LIB + "\n\ndef offset(value, by):\n    return value + by\n")
    text = SMALL_MAIN.replace("total = ", "total = offset(")
    snapshot = ws.open("app/main.py", text)
    pipeline = CompletionPipeline(plain_backend)
    prompt = pipeline.build_prompt(snapshot, _cursor(text)[1], SETTINGS, ws.context())
    assert [(c.text.split("(")[0], c.at_cursor) for c in prompt.context] == [
        ("def scale", False), ("def offset", True)]
    shown = plain_backend.detokenize(prompt.tokens)
    assert shown == ("# lib.py\ndef scale(value):\n    return value * 3\n\n"
                     "# lib.py\ndef offset(value, by):\n    return value + by\n\n"
                     "# app/main.py\nfrom lib import scale\n\nresult = scale(2)\n"
                     "total = offset(")
    # Before the call was opened the prompt started the same way: only the tail changed.
    before = pipeline.build_prompt(snapshot, _cursor(text)[1] - len("offset("), SETTINGS,
                                   ws.context())
    stable = prompt.context_sizes[0]
    assert before.tokens[:stable] == prompt.tokens[:stable]
    assert [c.at_cursor for c in before.context] == [False]
    # A second call on the line appends its definition; the first one stays where it was.
    ws.write("lib.py", SMALL_LIB + "\n\ndef offset(value, by):\n    return value + by\n"
             + "\n\ndef shift(value):\n    return value\n")
    text = SMALL_MAIN.replace("total = ", "total = offset(1, 2) + shift(")
    snapshot = ws.open("app/main.py", text, version=2)
    later = CompletionPipeline(plain_backend).build_prompt(
        snapshot, _cursor(text)[1], SETTINGS, ws.context())
    assert [c.text.split("(")[0] for c in later.context] == ["def scale", "def offset",
                                                             "def shift"]
    kept = sum(prompt.context_sizes)
    assert later.tokens[:kept] == prompt.tokens[:kept]


def test_the_callee_is_chosen_first_when_the_budget_is_short(
        ws: Workspace, plain_backend: EmbeddedBackend) -> None:
    snapshot, _ = _many_definitions(ws)  # far more definitions than 100 tokens hold
    ws.write("lib.py", (ws.root / "lib.py").read_text()
             + "def far_away(value):\n    return value\n")
    text = snapshot.text.rstrip() + "\n    far_away("
    snapshot = ws.open("main.py", text, version=2)
    settings = Settings(max_tokens=16, context_tokens=100)
    prompt = CompletionPipeline(plain_backend).build_prompt(
        snapshot, len(text), settings, ws.context())
    assert prompt.context[-1].text.startswith("def far_away(value)")
    assert prompt.context[-1].at_cursor and prompt.parts["context"] <= 100


def test_repo_level_fim_layout(ws: Workspace, fim_backend: EmbeddedBackend,
                               tiny_fim_model: TinyModelInfo) -> None:
    snapshot, offset = _small_workspace(ws)
    prompt = CompletionPipeline(fim_backend).build_prompt(snapshot, offset, SETTINGS, ws.context())
    tokenize = fim_backend.tokenize
    sep = tiny_fim_model.fim_sep_id
    assert prompt.fim and len(prompt.context) == 1
    assert prompt.tokens == [
        sep, *tokenize(f"lib.py\n{SMALL_LIB}"),
        sep, *tokenize("app/main.py\n"),
        tiny_fim_model.fim_pre_id, *tokenize("from lib import scale\n\nresult = scale(2)\ntotal ="),
        tiny_fim_model.fim_suf_id, *tokenize("\nprint(total)\n"),
        tiny_fim_model.fim_mid_id,
    ]
    assert fim_backend.detokenize(prompt.tokens).startswith(
        "<|file_sep|>lib.py\ndef scale(value):\n    return value * 3\n<|file_sep|>app/main.py\n"
        "<fim_prefix>from lib import scale")


def test_repo_level_layout_opens_with_the_workspace_folder_name(
        ws: Workspace, fim_backend: EmbeddedBackend, tiny_fim_model: TinyModelInfo) -> None:
    snapshot, offset = _small_workspace(ws)
    repo = tiny_fim_model.fim_pad_id
    assert repo is not None
    backend = _OtherFimTokens(fim_backend, repo_name=repo)
    prompt = CompletionPipeline(backend).build_prompt(snapshot, offset, SETTINGS, ws.context())
    tokenize = fim_backend.tokenize
    assert ws.context().repository_name(snapshot) == ws.root.name
    assert prompt.tokens[:prompt.parts["context"]] == [
        repo, *tokenize(f"{ws.root.name}\n"),
        tiny_fim_model.fim_sep_id, *tokenize(f"lib.py\n{SMALL_LIB}"),
        tiny_fim_model.fim_sep_id, *tokenize("app/main.py\n"),
    ]
    assert prompt.tokens[prompt.parts["context"]] == tiny_fim_model.fim_pre_id


def test_repository_name_is_the_workspace_folder_that_holds_the_file() -> None:
    roots = [Path("/w/first"), Path("/w/second")]
    assert repository_name(Path("/w/second/pkg/a.py"), roots) == "second"
    assert repository_name(Path("/elsewhere/a.py"), roots) is None
    assert repository_name(None, roots) is None


def test_fim_without_file_separator_puts_context_after_the_prefix_token(
        ws: Workspace, fim_backend: EmbeddedBackend) -> None:
    snapshot, offset = _small_workspace(ws)
    backend = _OtherFimTokens(fim_backend, file_separator=None)
    prompt = CompletionPipeline(backend).build_prompt(snapshot, offset, SETTINGS, ws.context())
    assert fim_backend.detokenize(prompt.tokens) == (
        "<fim_prefix># lib.py\ndef scale(value):\n    return value * 3\n\n# app/main.py\n"
        "from lib import scale\n\nresult = scale(2)\ntotal =<fim_suffix>\nprint(total)\n"
        "<fim_middle>")


def _many_definitions(ws: Workspace, count: int = 40) -> tuple[DocumentSnapshot, int]:
    ws.write("lib.py", "".join(
        f'def helper_{i}(value):\n    """Helper number {i} does a long thing."""\n'
        f"    return value + {i} * {i}\n\n\n" for i in range(count)))
    calls = "".join(f"    helper_{i}(x)\n" for i in range(count))
    text = f"from lib import *\n\n\ndef main(x):\n{calls}    {CURSOR}\n"
    snapshot = ws.open("main.py", text)
    return snapshot, _cursor(text)[1]


@pytest.mark.parametrize("context_tokens", [100, 150, 1024])
def test_context_never_exceeds_its_budget(ws: Workspace, tiny_fim_model: TinyModelInfo,
                                          tiny_plain_model: TinyModelInfo,
                                          context_tokens: int) -> None:
    snapshot, offset = _many_definitions(ws)
    settings = Settings(max_tokens=16, context_tokens=context_tokens)
    for model in (tiny_fim_model, tiny_plain_model):
        backend = _backend(model, context_size=512)
        prompt = CompletionPipeline(backend).build_prompt(snapshot, offset, settings, ws.context())
        budget = backend.info.context_size - 16 - len(backend.info.bos) - 8
        limit = min(context_tokens, budget // 3)
        assert 0 < prompt.parts["context"] <= limit
        assert len(prompt.tokens) <= backend.info.context_size - 16
        # What is in the prompt is what the prompt says it used.
        shown = backend.detokenize(prompt.tokens)
        for chunk in prompt.context:
            assert chunk.text in shown
        backend.close()


def test_cross_file_context_can_be_turned_off(ws: Workspace, fim_backend: EmbeddedBackend,
                                              plain_backend: EmbeddedBackend) -> None:
    snapshot, offset = _small_workspace(ws)
    settings = Settings(max_tokens=16, cross_file_context=False)
    for backend in (fim_backend, plain_backend):
        pipeline = CompletionPipeline(backend)
        prompt = pipeline.build_prompt(snapshot, offset, settings, ws.context())
        assert prompt.context == () and prompt.parts["context"] == 0
        assert prompt.tokens == CompletionPipeline(backend).build_prompt(
            snapshot, offset, settings).tokens


@pytest.mark.parametrize("model", ["fim", "plain"])
def test_secret_and_ignored_files_never_reach_the_prompt_tokens(
        ws: Workspace, model: str, fim_backend: EmbeddedBackend,
        plain_backend: EmbeddedBackend) -> None:
    backend = fim_backend if model == "fim" else plain_backend
    snapshot, _, offset = _leaky_workspace(ws)
    prompt = CompletionPipeline(backend).build_prompt(snapshot, offset, SETTINGS, ws.context())
    shown = backend.detokenize(prompt.tokens)
    assert "def public_fn" in shown  # context is on ...
    assert SENTINEL not in shown     # ... and nothing secret or ignored is in it
    for path in ("api_secrets.py", "local_settings.py", "private/keys.py", "credentials.py",
                 ".env"):
        assert f"# {path}\n" not in shown and f"<|file_sep|>{path}\n" not in shown
    assert [c.path for c in prompt.context] == ["lib.py"]


@pytest.mark.parametrize("name", [".env", ".env.local", "deploy/id_rsa", "server.pem"])
def test_completion_in_a_secret_file_is_refused(ws: Workspace, fim_backend: EmbeddedBackend,
                                                name: str) -> None:
    snapshot = ws.open(name, f"API_TOKEN={SENTINEL}\nOTHER=")
    pipeline = CompletionPipeline(fim_backend)
    outcome = pipeline.complete(snapshot, len(snapshot.text), SETTINGS, ws.context())
    assert outcome.suggestions == [] and outcome.prompt is None and outcome.generation is None
    assert outcome.skipped is not None
    assert outcome.skipped.startswith("no completions in a secret-bearing file")


def test_pipeline_context_is_stable_across_keystrokes(ws: Workspace,
                                                      fim_backend: EmbeddedBackend) -> None:
    ws.write("lib.py", LIB)
    document = Document((ws.root / "main.py").as_uri(), "python", 1, MAIN.replace(CURSOR, ""),
                        10**6)
    ws.write("main.py", document.text)
    _, offset = _cursor(MAIN)
    pipeline = CompletionPipeline(fim_backend)
    heads = []
    for version, character in enumerate("imported_fn(", start=2):
        snapshot = document.snapshot()
        ws.open_documents = [snapshot]
        prompt = pipeline.build_prompt(snapshot, offset, SETTINGS, ws.context())
        heads.append((prompt.context, prompt.tokens[:prompt.parts["context"]]))
        position = snapshot.index.position_at(offset, PositionEncoding.UTF16)
        document.apply_change(position, position, character, PositionEncoding.UTF16, version)
        offset += 1
    assert heads[0][0] and all(head == heads[0] for head in heads)


def test_disk_is_checked_at_most_every_few_seconds(ws: Workspace) -> None:
    """Exclusion verdicts and file stamps are reused for DISK_CHECK_SECONDS, then re-read."""
    path = ws.write("lib.py", "def one():\n    return 1\n")
    assert [d.name for d in ws.index.file_outline(path).definitions] == ["one"]
    path.write_text("def two():\n    return 2\n")  # the clock has not moved
    assert [d.name for d in ws.index.file_outline(path).definitions] == ["one"]
    ws.now += DISK_CHECK_SECONDS
    assert [d.name for d in ws.index.file_outline(path).definitions] == ["two"]
    assert ws.index.excluded_reason(path) is None
    (ws.root / ".gitignore").write_text("lib.py\n")
    assert ws.index.excluded_reason(path) is None
    ws.now += DISK_CHECK_SECONDS
    assert ws.index.excluded_reason(path) == f"ignored by {ws.root / '.gitignore'}"


def test_files_over_the_parse_limits_give_no_outline(ws: Workspace) -> None:
    small = ws.write("small.py", "def one():\n    return 1\n")
    big = ws.write("big.py", "def one():\n    return 1\n" + "x = 1\n" * 10)
    ws.index.parse_limits = (5, 10**6)
    assert ws.index.file_outline(small) is not None
    assert ws.index.file_outline(big) is None
    ws.index.parse_limits = (10**6, 30)
    wide = ws.write("wide.py", "def one():\n    return 1111111111111111111111111111\n")
    assert ws.index.file_outline(wide) is None
    assert ws.index.file_outline(small) is not None


def test_context_chunks_stay_pinned_while_the_window_start_does(
        ws: Workspace, plain_backend: EmbeddedBackend) -> None:
    snapshot, offset = _small_workspace(ws)
    pipeline = CompletionPipeline(plain_backend)
    first = pipeline.build_prompt(snapshot, offset, SETTINGS, ws.context())
    ws.write("lib.py", SMALL_LIB.replace("* 3", "* 4"))  # another file changes meanwhile
    fresh = CompletionPipeline(plain_backend).build_prompt(snapshot, offset, SETTINGS,
                                                           ws.context())
    assert "value * 4" in plain_backend.detokenize(fresh.tokens)
    # The same document and window start: the prompt keeps its start (and the KV cache).
    assert pipeline.build_prompt(snapshot, offset, SETTINGS, ws.context()).tokens == first.tokens
    # A file that is no longer a candidate (here: deleted) is not kept by the pin.
    (ws.root / "lib.py").unlink()
    ws.now += DISK_CHECK_SECONDS
    fresh = CompletionPipeline(plain_backend).build_prompt(snapshot, offset, SETTINGS,
                                                           ws.context())
    assert "value *" not in plain_backend.detokenize(fresh.tokens)
    later = pipeline.build_prompt(snapshot, offset, SETTINGS, ws.context())
    assert "value *" not in plain_backend.detokenize(later.tokens)


OTHER = "from lib import scale\n\nresult = scale(2)\ntotal = result + scale(3)\nprint(total)\n"


def test_no_context_stays_pinned_too_until_the_window_start_moves(
        ws: Workspace, plain_backend: EmbeddedBackend) -> None:
    snapshot = ws.open("app/main.py", SMALL_MAIN)  # lib.py does not exist yet: no context
    offset = _cursor(SMALL_MAIN)[1]
    pipeline = CompletionPipeline(plain_backend)
    first = pipeline.build_prompt(snapshot, offset, SETTINGS, ws.context())
    assert not first.context
    ws.open("app/other.py", OTHER)  # another file opens that gives context
    fresh = CompletionPipeline(plain_backend).build_prompt(snapshot, offset, SETTINGS,
                                                           ws.context())
    assert fresh.context and "other.py" in plain_backend.detokenize(fresh.tokens)
    # The document's own prompt keeps its start, and with it the saved KV state.
    assert pipeline.build_prompt(snapshot, offset, SETTINGS, ws.context()).tokens == first.tokens
