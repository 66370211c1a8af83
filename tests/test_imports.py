"""Import resolution to workspace files, per language, on real temp workspaces.

ImportRefs come from ``outline.imports()`` on real source, parsed with tree-sitter, so these
tests also pin the contract between the import queries and the resolvers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tree_sitter import Parser

from llama_lsp.context.imports import package_siblings, resolve_import
from llama_lsp.context.syntax.languages import load_language, spec_for
from llama_lsp.context.syntax.outline import ImportRef, imports


def _write(root: Path, relative: str, text: str = "") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _refs(language_id: str, source: str) -> list[ImportRef]:
    spec = spec_for(language_id)
    assert spec is not None
    data = source.encode()
    return imports(Parser(load_language(spec)).parse(data), data, spec)


def _ref(language_id: str, source: str) -> ImportRef:
    (ref,) = _refs(language_id, source)
    return ref


def _resolve(language_id: str, statement: str, file: Path, roots: list[Path]) -> list[Path]:
    return resolve_import(_ref(language_id, statement), file, language_id, roots)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return tmp_path / "ws"


# --- Python -------------------------------------------------------------------------------------


def test_python_absolute_module(ws: Path) -> None:
    main = _write(ws, "app/main.py")
    mod = _write(ws, "pkg/mod.py")
    _write(ws, "pkg/__init__.py")
    assert _resolve("python", "import pkg.mod\n", main, [ws]) == [mod]
    assert _resolve("python", "from pkg.mod import thing\n", main, [ws]) == [mod]


def test_python_package_init(ws: Path) -> None:
    main = _write(ws, "main.py")
    init = _write(ws, "pkg/__init__.py")
    assert _resolve("python", "import pkg\n", main, [ws]) == [init]


def test_python_src_layout(ws: Path) -> None:
    main = _write(ws, "tests/test_core.py")
    core = _write(ws, "src/proj/core.py")
    assert _resolve("python", "from proj.core import run\n", main, [ws]) == [core]


def test_python_from_package_import_module(ws: Path) -> None:
    main = _write(ws, "main.py")
    init = _write(ws, "pkg/__init__.py")
    mod = _write(ws, "pkg/mod.py")
    sub = _write(ws, "pkg/sub/__init__.py")
    found = _resolve("python", "from pkg import mod, sub, not_a_module\n", main, [ws])
    assert found == [init, mod, sub]


def test_python_namespace_package_without_init(ws: Path) -> None:
    main = _write(ws, "main.py")
    mod = _write(ws, "nspkg/mod.py")
    assert _resolve("python", "from nspkg import mod\n", main, [ws]) == [mod]


def test_python_sibling_module_without_root(ws: Path, tmp_path: Path) -> None:
    main = _write(ws, "scripts/run.py")
    helper = _write(ws, "scripts/helper.py")
    assert _resolve("python", "import helper\n", main, [tmp_path / "elsewhere"]) == [helper]


def test_python_relative_imports(ws: Path) -> None:
    file = _write(ws, "pkg/sub/here.py")
    mod = _write(ws, "pkg/sub/mod.py")
    up = _write(ws, "pkg/up.py")
    x = _write(ws, "pkg/sub/x.py")
    init = _write(ws, "pkg/sub/__init__.py")
    assert _resolve("python", "from .mod import f\n", file, [ws]) == [mod]
    assert _resolve("python", "from ..up import g\n", file, [ws]) == [up]
    assert _resolve("python", "from . import x\n", file, [ws]) == [init, x]
    assert _resolve("python", "from .. import up\n", file, [ws]) == [up]


def test_python_relative_import_beyond_the_filesystem_root_is_empty(ws: Path) -> None:
    file = _write(ws, "a.py")
    dots = "." * (len(file.parts) + 3)
    ref = ImportRef(f"{dots}mod", ("f",), True, 0, 1)
    assert resolve_import(ref, file, "python", [ws]) == []


def test_python_external_and_missing_modules_resolve_to_nothing(ws: Path) -> None:
    main = _write(ws, "main.py")
    assert _resolve("python", "import os\n", main, [ws]) == []
    assert _resolve("python", "from numpy import array\n", main, [ws]) == []
    assert _resolve("python", "from .missing import x\n", main, [ws]) == []


def test_a_file_never_resolves_to_itself(ws: Path) -> None:
    main = _write(ws, "pkg/main.py")
    assert _resolve("python", "from . import main\n", main, [ws]) == []


# --- JavaScript / TypeScript --------------------------------------------------------------------


def test_typescript_relative_with_extension_inference(ws: Path) -> None:
    file = _write(ws, "src/app.ts")
    util = _write(ws, "src/util.ts")
    lib = _write(ws, "lib.tsx")
    assert _resolve("typescript", "import { a } from './util';\n", file, [ws]) == [util]
    assert _resolve("typescript", "import b from '../lib';\n", file, [ws]) == [lib]


def test_typescript_directory_index(ws: Path) -> None:
    file = _write(ws, "src/app.ts")
    index = _write(ws, "src/components/index.ts")
    assert _resolve("typescript", "import { C } from './components';\n", file, [ws]) == [index]


def test_javascript_explicit_extension_and_require(ws: Path) -> None:
    file = _write(ws, "src/app.js")
    z = _write(ws, "src/z.js")
    y = _write(ws, "src/y.mjs")
    assert _resolve("javascript", "import z from './z.js';\n", file, [ws]) == [z]
    assert _resolve("javascript", "const y = require('./y');\n", file, [ws]) == [y]


def test_a_file_beats_a_directory_of_the_same_name(ws: Path) -> None:
    file = _write(ws, "app.ts")
    direct = _write(ws, "util.ts")
    _write(ws, "util/index.ts")
    assert _resolve("typescript", "import u from './util';\n", file, [ws]) == [direct]


def test_typescriptreact_uses_the_same_resolver(ws: Path) -> None:
    file = _write(ws, "App.tsx")
    button = _write(ws, "Button.tsx")
    assert _resolve("typescriptreact", "import { Button } from './Button';\n", file,
                    [ws]) == [button]


def test_javascript_packages_resolve_to_nothing(ws: Path) -> None:
    file = _write(ws, "app.ts")
    _write(ws, "node_modules/react/index.js")
    assert _resolve("typescript", "import * as React from 'react';\n", file, [ws]) == []
    assert _resolve("typescript", "import m from './missing';\n", file, [ws]) == []


# --- Go -----------------------------------------------------------------------------------------


def test_go_module_path_to_package_files(ws: Path) -> None:
    _write(ws, "go.mod", "module example.com/app\n\ngo 1.22\n")
    main = _write(ws, "cmd/main.go", "package main\n")
    a = _write(ws, "util/a.go", "package util\n")
    b = _write(ws, "util/b.go", "package util\n")
    _write(ws, "util/a_test.go", "package util\n")
    _write(ws, "util/deeper/c.go", "package deeper\n")
    source = 'package main\n\nimport (\n\t"fmt"\n\t"example.com/app/util"\n)\n'
    refs = _refs("go", source)
    assert [r.module for r in refs] == ["fmt", "example.com/app/util"]
    assert resolve_import(refs[0], main, "go", [ws]) == []
    assert resolve_import(refs[1], main, "go", [ws]) == [a, b]


def test_go_module_in_a_subdirectory_of_the_root(ws: Path) -> None:
    _write(ws, "services/api/go.mod", "module github.com/acme/api\n")
    main = _write(ws, "services/api/main.go", "package main\n")
    handler = _write(ws, "services/api/internal/h/handler.go", "package h\n")
    assert _resolve("go", 'package main\nimport "github.com/acme/api/internal/h"\n', main,
                    [ws]) == [handler]


def test_go_other_modules_and_missing_go_mod(ws: Path, tmp_path: Path) -> None:
    _write(ws, "go.mod", "module example.com/app\n")
    main = _write(ws, "main.go")
    _write(ws, "other/x.go")
    assert _resolve("go", 'package main\nimport "example.com/application/other"\n', main,
                    [ws]) == []
    lonely = _write(tmp_path / "nomod", "main.go")
    assert _resolve("go", 'package main\nimport "example.com/app/other"\n', lonely,
                    [tmp_path / "nomod"]) == []


# --- Rust ---------------------------------------------------------------------------------------


@pytest.fixture
def crate(ws: Path) -> Path:
    _write(ws, "Cargo.toml", '[package]\nname = "demo"\n')
    return ws


def test_rust_mod_declaration_from_lib_rs(crate: Path) -> None:
    lib = _write(crate, "src/lib.rs")
    foo = _write(crate, "src/foo.rs")
    bar = _write(crate, "src/bar/mod.rs")
    refs = _refs("rust", "mod foo;\nmod bar;\nmod inline { fn a() {} }\n")
    assert [r.module for r in refs] == ["foo", "bar"]  # an inline module is not an import
    assert resolve_import(refs[0], lib, "rust", [crate]) == [foo]
    assert resolve_import(refs[1], lib, "rust", [crate]) == [bar]


def test_rust_mod_declaration_from_a_non_mod_rs_file(crate: Path) -> None:
    a = _write(crate, "src/a.rs")
    child = _write(crate, "src/a/child.rs")
    _write(crate, "src/child.rs")  # a decoy at the wrong level
    assert _resolve("rust", "mod child;\n", a, [crate]) == [child]


def test_rust_mod_declaration_from_mod_rs(crate: Path) -> None:
    mod = _write(crate, "src/net/mod.rs")
    tcp = _write(crate, "src/net/tcp.rs")
    assert _resolve("rust", "mod tcp;\n", mod, [crate]) == [tcp]


def test_rust_crate_path_takes_the_longest_module(crate: Path) -> None:
    main = _write(crate, "src/main.rs")
    b = _write(crate, "src/a/b.rs")
    _write(crate, "src/a/mod.rs")
    assert _resolve("rust", "use crate::a::b::Item;\n", main, [crate]) == [b]
    assert _resolve("rust", "use crate::a::Thing;\n", main, [crate]) == [crate / "src/a/mod.rs"]


def test_rust_crate_path_with_module_dir_file(crate: Path) -> None:
    main = _write(crate, "src/main.rs")
    models = _write(crate, "src/models/mod.rs")
    assert _resolve("rust", "use crate::models::User;\n", main, [crate]) == [models]


def test_rust_self_and_super_from_mod_rs(crate: Path) -> None:
    mod = _write(crate, "src/net/mod.rs")
    tcp = _write(crate, "src/net/tcp.rs")
    config = _write(crate, "src/config.rs")
    assert _resolve("rust", "use self::tcp::Stream;\n", mod, [crate]) == [tcp]
    assert _resolve("rust", "use super::config::Config;\n", mod, [crate]) == [config]


def test_rust_self_and_super_from_a_non_mod_rs_file(crate: Path) -> None:
    # src/net/tcp.rs is module net::tcp: `self::` is src/net/tcp/, `super::` is src/net/.
    tcp = _write(crate, "src/net/tcp.rs")
    codec = _write(crate, "src/net/tcp/codec.rs")
    udp = _write(crate, "src/net/udp.rs")
    assert _resolve("rust", "use self::codec::Frame;\n", tcp, [crate]) == [codec]
    assert _resolve("rust", "use super::udp::Socket;\n", tcp, [crate]) == [udp]


def test_rust_super_super(crate: Path) -> None:
    # src/a/b/c.rs is a::b::c: super::super is `a`, whose children live in src/a/.
    deep = _write(crate, "src/a/b/c.rs")
    top = _write(crate, "src/a/top.rs")
    _write(crate, "src/top.rs")
    assert _resolve("rust", "use super::super::top::T;\n", deep, [crate]) == [top]


def test_rust_external_crates_resolve_to_nothing(crate: Path) -> None:
    main = _write(crate, "src/main.rs")
    _write(crate, "src/io.rs")
    ref = _ref("rust", "use std::io;\n")
    assert not ref.is_local
    assert resolve_import(ref, main, "rust", [crate]) == []
    assert _resolve("rust", "use serde::Serialize;\n", main, [crate]) == []


def test_rust_crate_path_without_cargo_toml(ws: Path) -> None:
    main = _write(ws, "src/main.rs")
    _write(ws, "src/a.rs")
    assert _resolve("rust", "use crate::a::X;\n", main, [ws]) == []


# --- Java ---------------------------------------------------------------------------------------


def test_java_package_path_under_src_main_java(ws: Path) -> None:
    app = _write(ws, "src/main/java/com/acme/App.java")
    helper = _write(ws, "src/main/java/com/acme/util/Helper.java")
    refs = _refs("java", "package com.acme;\nimport com.acme.util.Helper;\n"
                         "import java.util.List;\n")
    assert resolve_import(refs[0], app, "java", [ws]) == [helper]
    assert resolve_import(refs[1], app, "java", [ws]) == []


def test_java_test_sources_and_plain_src(ws: Path) -> None:
    test = _write(ws, "src/test/java/com/acme/AppTest.java")
    fixture = _write(ws, "src/test/java/com/acme/Fixture.java")
    plain = _write(ws, "src/org/x/Y.java")
    assert _resolve("java", "import com.acme.Fixture;\n", test, [ws]) == [fixture]
    assert _resolve("java", "import org.x.Y;\n", test, [ws]) == [plain]


# --- C / C++ ------------------------------------------------------------------------------------


def test_c_quoted_include_relative_to_the_file(ws: Path) -> None:
    main = _write(ws, "src/main.c")
    util = _write(ws, "src/util.h")
    _write(ws, "include/util.h")  # the file's own directory wins
    assert _resolve("c", '#include "util.h"\n', main, [ws]) == [util]


def test_c_quoted_include_from_root_and_include_dir(ws: Path) -> None:
    main = _write(ws, "src/net/main.c")
    config = _write(ws, "config.h")
    api = _write(ws, "include/lib/api.h")
    parent = _write(ws, "src/common.h")
    assert _resolve("c", '#include "config.h"\n', main, [ws]) == [config]
    assert _resolve("c", '#include "lib/api.h"\n', main, [ws]) == [api]
    assert _resolve("c", '#include "../common.h"\n', main, [ws]) == [parent]


def test_cpp_quoted_include(ws: Path) -> None:
    main = _write(ws, "src/main.cpp")
    header = _write(ws, "include/app/widget.hpp")
    assert _resolve("cpp", '#include "app/widget.hpp"\n', main, [ws]) == [header]


def test_angle_includes_resolve_to_nothing(ws: Path) -> None:
    main = _write(ws, "main.c")
    _write(ws, "stdio.h")  # even a same-named workspace header
    _write(ws, "include/vector")
    ref = _ref("c", "#include <stdio.h>\n")
    assert not ref.is_local
    assert resolve_import(ref, main, "c", [ws]) == []
    assert _resolve("cpp", "#include <vector>\n", _write(ws, "main.cpp"), [ws]) == []


# --- other languages, errors --------------------------------------------------------------------


def test_unknown_language_resolves_to_nothing(ws: Path) -> None:
    file = _write(ws, "x.rb")
    _write(ws, "y.rb")
    assert resolve_import(ImportRef("./y", (), True, 0, 1), file, "ruby", [ws]) == []


def test_a_broken_go_mod_is_not_an_error(ws: Path) -> None:
    (ws / "go.mod").mkdir(parents=True)  # a directory where the file should be
    main = _write(ws, "main.go")
    assert resolve_import(ImportRef("example.com/x", (), False, 0, 1), main, "go", [ws]) == []


# --- package siblings ---------------------------------------------------------------------------


def test_go_package_siblings_skip_tests_and_self(ws: Path) -> None:
    a = _write(ws, "pkg/a.go")
    b = _write(ws, "pkg/b.go")
    c = _write(ws, "pkg/c.go")
    _write(ws, "pkg/a_test.go")
    _write(ws, "pkg/sub/d.go")
    assert package_siblings(b, "go") == [a, c]


def test_java_package_siblings(ws: Path) -> None:
    app = _write(ws, "src/main/java/com/acme/App.java")
    model = _write(ws, "src/main/java/com/acme/Model.java")
    _write(ws, "src/main/java/com/acme/util/Helper.java")
    assert package_siblings(app, "java") == [model]


def test_c_source_sibling_is_its_header(ws: Path) -> None:
    source = _write(ws, "src/widget.c")
    header = _write(ws, "src/widget.h")
    assert package_siblings(source, "c") == [header]
    cpp = _write(ws, "src/engine.cpp")
    hpp = _write(ws, "src/engine.hpp")
    assert package_siblings(cpp, "cpp") == [hpp]
    # A header has no sibling; nor does a source file without a header.
    assert package_siblings(header, "c") == []
    assert package_siblings(_write(ws, "src/lonely.c"), "c") == []


def test_other_languages_have_no_package_siblings(ws: Path) -> None:
    a = _write(ws, "a.py")
    _write(ws, "b.py")
    assert package_siblings(a, "python") == []
    assert package_siblings(_write(ws, "a.ts"), "typescript") == []


def test_java_static_import_and_nested_class_resolve_to_the_outer_file(ws: Path) -> None:
    app = _write(ws, "src/main/java/com/acme/App.java")
    maths = _write(ws, "src/main/java/com/acme/util/MathUtils.java")
    assert _resolve("java", "import static com.acme.util.MathUtils.clamp;\n", app, [ws]) == [maths]
    assert _resolve("java", "import com.acme.util.MathUtils.Range;\n", app, [ws]) == [maths]
    assert _resolve("java", "import static java.lang.Math.max;\n", app, [ws]) == []


def test_rust_use_list_of_modules_resolves_each_module(crate: Path) -> None:
    main = _write(crate, "src/main.rs")
    user = _write(crate, "src/models/user.rs")
    order = _write(crate, "src/models/order/mod.rs")
    found = _resolve("rust", "use crate::models::{user, order, Missing};\n", main, [crate])
    assert found == [user, order]


def test_typescript_esm_import_of_the_emitted_js_name(ws: Path) -> None:
    app = _write(ws, "src/app.ts")
    util = _write(ws, "src/util.ts")
    view = _write(ws, "src/view.tsx")
    assert _resolve("typescript", "import { f } from './util.js';\n", app, [ws]) == [util]
    assert _resolve("typescript", "import { V } from './view.jsx';\n", app, [ws]) == [view]
