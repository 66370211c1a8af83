"""The query-based outline: definitions, imports, identifiers and enclosing(), every language.

Golden cases: each language's snippet with every definition and import expected in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tree_sitter import Parser, QueryCursor, Tree

from llama_lsp.context.syntax import outline as outline_module
from llama_lsp.context.syntax.languages import LANGUAGES, LanguageSpec, load_language, spec_for
from llama_lsp.context.syntax.outline import (
    QUERY_NAMES,
    Definition,
    compile_query,
    enclosing,
    identifiers_in,
    imports,
    outline,
    query_text,
)


def parse(language_id: str, source: str) -> tuple[Tree, bytes, LanguageSpec]:
    """Parse ``source`` with the registered grammar of ``language_id``."""
    spec = spec_for(language_id)
    assert spec is not None
    data = source.encode("utf-8")
    return Parser(load_language(spec)).parse(data), data, spec


@dataclass(frozen=True)
class D:
    """An expected definition. ``start``: how its full range (with decorations) begins."""

    kind: str
    name: str
    sig: str
    parent: str | None = None
    public: bool = True
    params: tuple[str, ...] = ()
    start: str | None = None
    doc: str | None = None
    body: bool = True


def observed(definition: Definition, source: bytes, expected: D) -> D:
    """``definition`` in the shape of ``expected`` (``start`` only compared when expected)."""
    text = source[definition.start_byte:definition.end_byte].decode()
    return D(
        kind=definition.kind,
        name=definition.name,
        sig=definition.signature,
        parent=definition.parent,
        public=definition.is_public,
        params=definition.parameter_names,
        start=None if expected.start is None else text[:len(expected.start)],
        doc=definition.doc,
        body=definition.body_start_byte is not None,
    )


@dataclass(frozen=True)
class Case:
    """One language's golden snippet."""

    language: str
    source: str
    definitions: list[D] = field(default_factory=list)
    imports: list[tuple[str, tuple[str, ...], bool]] = field(default_factory=list)


CASES = [
    Case(
        "python",
        '''\
"""Module docstring."""
import os.path, sys as system
from . import sibling
from ..utils import a, b as c
from pkg.mod import *
from __future__ import annotations

MAX_SIZE: int = 10
_PRIVATE = 1


# Loads things.
# Two lines.
@cache
@register("x")
async def load(path: Path, *args, mode="r", **kwargs) -> dict:
    """Load a file."""
    return {}


# One-liner.
def one(x): return x


class Store(Base, Generic[T]):
    """A store."""

    def __init__(self, root: str, /, *, strict: bool = False):
        self.root = root

    @property
    def size(self) -> int:
        return 0

    def _helper(self, *items: int, **options: str) -> None:
        def inner(y):
            return y

    class Meta:
        ordering = "name"
''',
        definitions=[
            D("constant", "MAX_SIZE", "MAX_SIZE: int"),
            D("constant", "_PRIVATE", "_PRIVATE", public=False),
            D("function", "load", 'async def load(path: Path, *args, mode="r", **kwargs) -> dict:',
              params=("path", "args", "mode", "kwargs"), start="@cache", doc="Load a file."),
            D("function", "one", "def one(x):", params=("x",), doc="# One-liner."),
            D("class", "Store", "class Store(Base, Generic[T]):", doc="A store."),
            D("method", "__init__", "def __init__(self, root: str, /, *, strict: bool = False):",
              parent="Store", params=("self", "root", "strict")),
            D("method", "size", "def size(self) -> int:",
              parent="Store", params=("self",), start="@property"),
            D("method", "_helper", "def _helper(self, *items: int, **options: str) -> None:",
              parent="Store", public=False, params=("self", "items", "options")),
            D("function", "inner", "def inner(y):", params=("y",)),
            D("class", "Meta", "class Meta:", parent="Store"),
        ],
        imports=[
            ("os.path", (), False),
            ("sys", (), False),
            (".", ("sibling",), True),
            ("..utils", ("a", "b"), True),
            ("pkg.mod", ("*",), False),
            ("__future__", ("annotations",), False),
        ],
    ),
    Case(
        "javascript",
        """\
import React, { useState, useEffect as effect } from "react";
import * as path from "path";
import "./styles.css";
import config from "./config.js";
const fs = require("fs");
const { join, resolve: res } = require("./paths");
export { helper } from "./helpers";
export * from "../shared";

export const API_URL = "https://x";

/**
 * Adds numbers.
 */
export function add(a, b = 1, ...rest) {
  return a + b;
}

async function* stream({ url, retries = 3 }, [first]) {
  function local() {}
}

export default class Widget extends Base {
  @observable count = 0;
  #secret() {}
  static create(options) { return new Widget(options); }
  render = (props) => props.children;
}

const square = (n) => n * n, cube = n => n * n * n;
let handler = function named(event) {};
""",
        definitions=[
            D("constant", "API_URL", "const API_URL", start="export const"),
            D("function", "add", "function add(a, b = 1, ...rest)",
              params=("a", "b", "rest"), start="export funct", doc="/**\n * Adds numbers.\n */"),
            D("function", "stream", "async function* stream({ url, retries = 3 }, [first])",
              params=("url", "retries", "first")),
            D("function", "local", "function local()", public=False),
            D("class", "Widget", "class Widget extends Base", start="export defau"),
            D("method", "#secret", "#secret()", parent="Widget", public=False),
            D("method", "create", "static create(options)", parent="Widget", params=("options",)),
            D("method", "render", "render = (props) =>", parent="Widget", params=("props",)),
            D("function", "square", "square = (n) =>", params=("n",)),
            D("function", "cube", "cube = n =>", params=("n",)),
            D("function", "handler", "let handler = function named(event)", params=("event",)),
        ],
        imports=[
            ("react", ("React", "useState", "useEffect"), False),
            ("path", ("path",), False),
            ("./styles.css", (), True),
            ("./config.js", ("config",), True),
            ("fs", ("fs",), False),
            ("./paths", ("join", "resolve"), True),
            ("./helpers", ("helper",), True),
            ("../shared", (), True),
        ],
    ),
    Case(
        "typescript",
        """\
import type { Foo } from "./types";
import fs = require("fs");
import { a as b } from "@scope/pkg";

/** Shapes. */
export interface Shape<T> {
  area(): number;
  name?: string;
}

export type Id = string | number;

enum Color { Red, Green }

@Component({ selector: "x" })
export abstract class View<T extends object> implements Shape<T> {
  constructor(private readonly model: T, public label?: string) { super(); }

  @Input()
  protected async refresh(force = false, ...keys: string[]): Promise<void> {}

  abstract area(): number;

  private get hidden(): boolean { return true; }
}

export const toId = <T,>(value: T, { strict }: Options = {}): Id => String(value);

declare function external(x: number): string;

function overloaded(x: string): void;
function overloaded(x: any) {}
""",
        definitions=[
            D("interface", "Shape", "interface Shape<T>",
              start="export inter", doc="/** Shapes. */"),
            D("method", "area", "area(): number", parent="Shape", body=False),
            D("type", "Id", "type Id = string | number", start="export type ", body=False),
            D("enum", "Color", "enum Color"),
            D("class", "View", "abstract class View<T extends object> implements Shape<T>",
              start="@Component({"),
            D("method", "constructor",
              "constructor(private readonly model: T, public label?: string)",
              parent="View", params=("model", "label")),
            D("method", "refresh",
              "protected async refresh(force = false, ...keys: string[]): Promise<void>",
              parent="View", public=False, params=("force", "keys"), start="@Input()"),
            D("method", "area", "abstract area(): number", parent="View", body=False),
            D("method", "hidden", "private get hidden(): boolean", parent="View", public=False),
            D("function", "toId", "const toId = <T,>(value: T, { strict }: Options = {}): Id =>",
              params=("value", "strict"), start="export const"),
            D("function", "external", "function external(x: number): string",
              params=("x",), start="declare func", body=False),
            D("function", "overloaded", "function overloaded(x: string): void",
              params=("x",), body=False),
            D("function", "overloaded", "function overloaded(x: any)", params=("x",)),
        ],
        imports=[
            ("./types", ("Foo",), True),
            ("fs", ("fs",), False),
            ("@scope/pkg", ("a",), False),
        ],
    ),
    Case(
        "typescriptreact",
        """\
import { useState } from "react";

export function Counter({ start }: Props): JSX.Element {
  const [count, setCount] = useState(start);
  return <button onClick={() => setCount(count + 1)}>{count}</button>;
}

const Label = (props: { text: string }) => <span>{props.text}</span>;
""",
        definitions=[
            D("function", "Counter", "function Counter({ start }: Props): JSX.Element",
              params=("start",), start="export funct"),
            D("function", "Label", "const Label = (props: { text: string }) =>",
              params=("props",)),
        ],
        imports=[
            ("react", ("useState",), False),
        ],
    ),
    Case(
        "go",
        """\
package store

import "fmt"
import (
	ctx "context"
	_ "github.com/lib/pq"
	"github.com/acme/app/internal/db"
)

// MaxItems is the limit.
const MaxItems = 10

const (
	defaultName = "x"
	Other       = 2
)

// Server serves.
type Server[T any] struct {
	Name string
}

type Handler interface {
	Handle(c ctx.Context, args ...string) error
}

type ID = int64

type (
	Alias int
	pair  struct{ a, b int }
)

// Start starts the server.
func (s *Server[T]) Start(c ctx.Context, opts ...Option) (err error) {
	return nil
}

func (s Server[T]) stop() {}

func Map[T, U any](xs []T, f func(x T) U) []U { return nil }

func helper(a, b int, _ string) { fmt.Println(a, b, "text") }
""",
        definitions=[
            D("constant", "MaxItems", "const MaxItems", doc="// MaxItems is the limit."),
            D("constant", "defaultName", "defaultName", public=False),
            D("constant", "Other", "Other"),
            D("struct", "Server", "type Server[T any] struct", doc="// Server serves."),
            D("interface", "Handler", "type Handler interface"),
            D("method", "Handle", "Handle(c ctx.Context, args ...string) error",
              parent="Handler", params=("c", "args"), body=False),
            D("type", "ID", "type ID = int64", body=False),
            D("type", "Alias", "Alias int", body=False),
            D("struct", "pair", "pair struct", public=False),
            D("method", "Start",
              "func (s *Server[T]) Start(c ctx.Context, opts ...Option) (err error)",
              parent="Server", params=("c", "opts"), doc="// Start starts the server."),
            D("method", "stop", "func (s Server[T]) stop()", parent="Server", public=False),
            D("function", "Map", "func Map[T, U any](xs []T, f func(x T) U) []U",
              params=("xs", "f")),
            D("function", "helper", "func helper(a, b int, _ string)",
              public=False, params=("a", "b", "_")),
        ],
        imports=[
            ("fmt", (), False),
            ("context", (), False),
            ("github.com/lib/pq", (), False),
            ("github.com/acme/app/internal/db", (), False),
        ],
    ),
    Case(
        "rust",
        """\
use std::collections::HashMap;
use crate::store::{db, cache as c, self};
use super::*;
use serde::{de::{Deserialize, Visitor}, Serialize};
use std::io::Write as IoWrite;
mod util;

/// The max.
pub const MAX: usize = 10;
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A point.
#[derive(Debug, Clone)]
pub struct Point<T> {
    x: T,
}

pub(crate) enum Shape { Circle(f64), Square }

pub trait Area {
    /// Area of it.
    fn area(&self) -> f64;
    fn name(&self) -> String { String::new() }
}

impl<T: Copy> Area for Point<T> {
    fn area(&self) -> f64 { 0.0 }
}

impl Point<i32> {
    #[inline]
    pub async fn new(x: i32, mut y: i32, (a, b): (u8, u8)) -> Self { Point { x } }
    fn private_helper(&mut self) {}
}

type Alias = Vec<u8>;

fn parse<'a, T>(input: &'a str) -> Result<T, Error> where T: FromStr { todo!() }
""",
        definitions=[
            D("constant", "MAX", "pub const MAX: usize", doc="/// The max."),
            D("constant", "COUNTER", "static COUNTER: AtomicUsize", public=False),
            D("struct", "Point", "pub struct Point<T>", start="#[derive(Deb", doc="/// A point."),
            D("enum", "Shape", "pub(crate) enum Shape"),
            D("trait", "Area", "pub trait Area"),
            D("method", "area", "fn area(&self) -> f64",
              parent="Area", params=("self",), doc="/// Area of it.", body=False),
            D("method", "name", "fn name(&self) -> String", parent="Area", params=("self",)),
            D("impl", "Point", "impl<T: Copy> Area for Point<T>"),
            D("method", "area", "fn area(&self) -> f64", parent="Point", params=("self",)),
            D("impl", "Point", "impl Point<i32>"),
            D("method", "new", "pub async fn new(x: i32, mut y: i32, (a, b): (u8, u8)) -> Self",
              parent="Point", params=("x", "y", "a", "b"), start="#[inline]"),
            D("method", "private_helper", "fn private_helper(&mut self)",
              parent="Point", public=False, params=("self",)),
            D("type", "Alias", "type Alias = Vec<u8>", public=False, body=False),
            D("function", "parse",
              "fn parse<'a, T>(input: &'a str) -> Result<T, Error> where T: FromStr",
              public=False, params=("input",)),
        ],
        imports=[
            ("std::collections::HashMap", ("HashMap",), False),
            ("crate::store", ("db", "cache", "self"), True),
            ("super", ("*",), True),
            ("serde", ("Deserialize", "Visitor", "Serialize"), False),
            ("std::io::Write", ("Write",), False),
            ("util", (), True),
        ],
    ),
    Case(
        "java",
        """\
package com.acme;

import com.acme.util.Strings;
import java.util.*;
import static org.junit.Assert.assertEquals;

/** A repository. */
@Entity
@Table(name = "repo")
public class Repository<T> extends Base implements Store {
    public static final int MAX = 10;
    private int count;

    // Creates one.
    public Repository(String name) { this.name = name; }

    @Override
    public <U> List<U> map(final Function<T, U> fn, int... extra) throws IOException { return null; }

    private static void helper() {}

    protected abstract void hook(String s);

    static class Inner {}
}

interface Store { int size(); default boolean isEmpty() { return size() == 0; } }

enum Level { LOW, HIGH; Level next() { return HIGH; } }

record Pair(int left, int right) {}
""",
        definitions=[
            D("class", "Repository", "public class Repository<T> extends Base implements Store",
              start="@Entity", doc="/** A repository. */"),
            D("constant", "MAX", "public static final int MAX", parent="Repository"),
            D("method", "Repository", "public Repository(String name)",
              parent="Repository", params=("name",), doc="// Creates one."),
            D("method", "map",
              "public <U> List<U> map(final Function<T, U> fn, int... extra) throws IOException",
              parent="Repository", params=("fn", "extra"), start="@Override"),
            D("method", "helper", "private static void helper()",
              parent="Repository", public=False),
            D("method", "hook", "protected abstract void hook(String s)",
              parent="Repository", public=False, params=("s",), body=False),
            D("class", "Inner", "static class Inner", parent="Repository", public=False),
            D("interface", "Store", "interface Store", public=False),
            D("method", "size", "int size()", parent="Store", body=False),
            D("method", "isEmpty", "default boolean isEmpty()", parent="Store"),
            D("enum", "Level", "enum Level", public=False),
            D("method", "next", "Level next()", parent="Level", public=False),
            D("class", "Pair", "record Pair(int left, int right)",
              public=False, params=("left", "right")),
        ],
        imports=[
            ("com.acme.util.Strings", ("Strings",), False),
            ("java.util", ("*",), False),
            ("org.junit.Assert.assertEquals", ("assertEquals",), False),
        ],
    ),
    Case(
        "c",
        """\
#include <stdio.h>
#include <sys/types.h>
#include "util.h"

#define MAX_ITEMS 64
#define SQUARE(x) ((x) * (x))

/* Adds two ints. */
static int add(int a, int b) { return a + b; }

// Duplicates a string.
char *dup(const char *s, size_t n);

void **matrix(int **rows, int cols[], ...) { return NULL; }

struct point { int x; int y; };

typedef struct { int w; } size_box;

typedef unsigned long ulong;

enum color { RED, GREEN };

union value { int i; float f; };
""",
        definitions=[
            D("constant", "MAX_ITEMS", "#define MAX_ITEMS"),
            D("function", "SQUARE", "#define SQUARE(x)", params=("x",)),
            D("function", "add", "static int add(int a, int b)",
              public=False, params=("a", "b"), doc="/* Adds two ints. */"),
            D("function", "dup", "char *dup(const char *s, size_t n)",
              params=("s", "n"), doc="// Duplicates a string.", body=False),
            D("function", "matrix", "void **matrix(int **rows, int cols[], ...)",
              params=("rows", "cols")),
            D("struct", "point", "struct point"),
            D("struct", "size_box", "typedef struct"),
            D("type", "ulong", "typedef unsigned long ulong", body=False),
            D("enum", "color", "enum color"),
            D("struct", "value", "union value"),
        ],
        imports=[
            ("stdio.h", (), False),
            ("sys/types.h", (), False),
            ("util.h", (), True),
        ],
    ),
    Case(
        "cpp",
        """\
#include <vector>
#include "widget.hpp"

namespace ui {

/// A widget.
template <typename T>
class Widget : public Base {
 public:
  explicit Widget(int size);
  ~Widget();
  virtual void draw(const T& item, int depth = 0) const override;
  int size() const { return size_; }
  static Widget* make(std::vector<int>&& items, Args&&... rest);
  bool operator==(const Widget& other) const;

 private:
  int size_;
};

template <typename T>
void Widget<T>::draw(const T& item, int depth) const {}

Widget::Widget(int size) : size_(size) {}

[[nodiscard]] static int helper(int* p) { return *p; }

int& ns::Registry::lookup(int& key) { return key; }

struct Point { int x; };

enum class Mode : int { On, Off };

using Items = std::vector<int>;

}  // namespace ui
""",
        definitions=[
            D("class", "Widget", "class Widget : public Base",
              start="template <ty", doc="/// A widget."),
            D("method", "Widget", "explicit Widget(int size)",
              parent="Widget", params=("size",), body=False),
            D("method", "~Widget", "~Widget()", parent="Widget", body=False),
            D("method", "draw", "virtual void draw(const T& item, int depth = 0) const override",
              parent="Widget", params=("item", "depth"), body=False),
            D("method", "size", "int size() const", parent="Widget"),
            D("method", "make", "static Widget* make(std::vector<int>&& items, Args&&... rest)",
              parent="Widget", params=("items", "rest"), body=False),
            D("method", "operator==", "bool operator==(const Widget& other) const",
              parent="Widget", params=("other",), body=False),
            D("method", "draw", "void Widget<T>::draw(const T& item, int depth) const",
              parent="Widget", params=("item", "depth"), start="template <ty"),
            D("method", "Widget", "Widget::Widget(int size) : size_(size)",
              parent="Widget", params=("size",)),
            D("function", "helper", "static int helper(int* p)",
              public=False, params=("p",), start="[[nodiscard]"),
            D("method", "lookup", "int& ns::Registry::lookup(int& key)",
              parent="Registry", params=("key",)),
            D("struct", "Point", "struct Point"),
            D("enum", "Mode", "enum class Mode : int"),
            D("type", "Items", "using Items = std::vector<int>", body=False),
        ],
        imports=[
            ("vector", (), False),
            ("widget.hpp", (), True),
        ],
    ),
]
CASE_IDS = [case.language for case in CASES]


def test_every_registered_language_has_a_case() -> None:
    assert sorted(CASE_IDS) == sorted(spec.language_id for spec in LANGUAGES)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_definitions(case: Case) -> None:
    tree, source, spec = parse(case.language, case.source)
    found = outline(tree, source, spec)
    assert [observed(d, source, e) for d, e in zip(found, case.definitions)] == case.definitions
    assert len(found) == len(case.definitions)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_imports(case: Case) -> None:
    tree, source, spec = parse(case.language, case.source)
    refs = imports(tree, source, spec)
    assert [(r.module, r.names, r.is_local) for r in refs] == case.imports
    for ref in refs:
        statement = source[ref.start_byte:ref.end_byte].decode()
        assert ref.module.split("::")[-1].split("/")[-1] in statement
        assert statement == statement.strip()


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_definition_ranges_are_consistent(case: Case) -> None:
    tree, source, spec = parse(case.language, case.source)
    for d in outline(tree, source, spec):
        assert d.start_byte <= d.name_start_byte < d.end_byte, d
        assert source[d.name_start_byte:].decode().startswith(d.name), d
        assert d.start_line == source.count(b"\n", 0, d.start_byte), d
        assert d.end_line == source.count(b"\n", 0, d.end_byte), d
        assert not source[d.start_byte:d.end_byte].isspace()
        assert source[d.end_byte - 1:d.end_byte].strip(), "end excludes trailing whitespace"
        if d.body_start_byte is not None:
            assert d.body_end_byte is not None
            assert d.start_byte < d.body_start_byte <= d.body_end_byte <= d.end_byte, d
        if d.doc is not None:
            assert d.doc_start_byte is not None and d.doc_end_byte is not None
            assert d.doc in source[d.doc_start_byte:d.doc_end_byte].decode(), d
        assert "\n" not in d.signature and "  " not in d.signature


def test_outline_is_in_source_order_with_nested_definitions_after_their_parent() -> None:
    tree, source, spec = parse("python", CASES[0].source)
    found = outline(tree, source, spec)
    assert [d.start_byte for d in found] == sorted(d.start_byte for d in found)
    store = next(d for d in found if d.name == "Store")
    members = [d.name for d in found if store.start_byte < d.start_byte < store.end_byte]
    assert members == ["__init__", "size", "_helper", "inner", "Meta"]


def test_python_docstring_range_is_the_quoted_string() -> None:
    tree, source, spec = parse("python", 'def f():\n    """Line one.\n\n    More."""\n    pass\n')
    (f,) = outline(tree, source, spec)
    assert f.doc == "Line one.\n\n    More."
    assert source[f.doc_start_byte:f.doc_end_byte] == b'"""Line one.\n\n    More."""'


@pytest.mark.parametrize(
    ("language", "source", "doc"),
    [
        # A blank line separates a comment from the definition: not its doc.
        ("python", "# unrelated\n\ndef f(): pass\n", None),
        ("go", "package p\n\n// unrelated\n\nfunc F() {}\n", None),
        ("rust", "/// unrelated\n\nfn f() {}\n", None),
        # A comment trailing code on the line above is not a doc either.
        ("c", "int x; // about x\nint f(void) { return 0; }\n", None),
        ("javascript", "let x = 1; // about x\nfunction f() {}\n", None),
        # Comments interleaved with attributes (Rust) are all doc; the attribute is in range.
        ("rust", "/// One.\n#[inline]\n/// Two.\nfn f() {}\n", "/// One.\n/// Two."),
        # Python comments that end an indented block still document the next definition.
        (
            "python",
            "class A:\n    def a(self):\n        pass\n\n    # About b.\n    def b(self): pass\n",
            "# About b.",
        ),
    ],
)
def test_doc_comments_must_be_directly_above(language: str, source: str, doc: str | None) -> None:
    tree, data, spec = parse(language, source)
    last = outline(tree, data, spec)[-1]
    assert last.doc == doc


def test_enclosing_lists_containing_definitions_outermost_first() -> None:
    tree, source, spec = parse("python", CASES[0].source)
    found = outline(tree, source, spec)
    offset = source.index(b"return y")
    assert [d.name for d in enclosing(found, offset)] == ["Store", "_helper", "inner"]
    assert enclosing(found, source.index(b"import os")) == []
    meta = next(d for d in found if d.name == "Meta")
    assert [d.name for d in enclosing(found, meta.end_byte)] == ["Store", "Meta"]
    load = next(d for d in found if d.name == "load")
    assert [d.name for d in enclosing(found, load.start_byte)] == ["load"], "decorators count"


IDENTIFIER_CASES = [
    (
        "python",
        'if not self.ready:\n    return compute(value, "some words", key=KEY) or None  # note\n',
        {"self", "ready", "compute", "value", "key", "KEY"},
    ),
    (
        "javascript",
        "const total = items.map((x) => x.price).reduce(sum, 0); // note\nif (this.ok) "
        "return `tpl ${name}`;",
        {"total", "items", "map", "x", "price", "reduce", "sum", "ok", "name"},
    ),
    (
        "typescript",
        'function f(a: Item): Promise<Result> { return new Result(a.id, "words"); }',
        {"f", "a", "Item", "Promise", "Result", "id"},
    ),
    (
        "typescriptreact",
        "const el = <Button onClick={handle}>{label}</Button>;",
        {"el", "Button", "onClick", "handle", "label"},
    ),
    (
        "go",
        'package p\nfunc (s *Srv) Run(ctx context.Context) error {\n'
        '\treturn fmt.Errorf("bad %d", s.n)\n}\n',
        {"p", "s", "Srv", "Run", "ctx", "context", "Context", "error", "fmt", "Errorf", "n"},
    ),
    (
        "rust",
        'fn run(cfg: &Config) -> Result<(), Error> {\n'
        '    let v = cfg.items.len(); println!("words"); Ok(())\n}',
        {"run", "cfg", "Config", "Result", "Error", "v", "items", "len", "println", "Ok"},
    ),
    (
        "java",
        "class A { int f(List<String> xs) { return this.count + xs.size(); /* note */ } }",
        {"A", "f", "List", "String", "xs", "count", "size"},
    ),
    (
        "c",
        'static int f(struct node *n) { return n->value + strlen("words"); }',
        {"f", "node", "n", "value", "strlen"},
    ),
    (
        "cpp",
        "int Foo::bar(std::vector<int>& v) const { return this->n + v.size(); }",
        {"Foo", "bar", "std", "vector", "v", "n", "size"},
    ),
]


@pytest.mark.parametrize(
    ("language", "source", "expected"), IDENTIFIER_CASES, ids=[c[0] for c in IDENTIFIER_CASES]
)
def test_identifiers_in_excludes_keywords_strings_and_comments(
    language: str, source: str, expected: set[str]
) -> None:
    tree, data, spec = parse(language, source)
    assert identifiers_in(tree, data, spec, 0, len(data)) == expected


def test_identifiers_in_only_looks_at_the_range() -> None:
    source = "def a(first):\n    return first\n\ndef b(second):\n    return second + other\n"
    tree, data, spec = parse("python", source)
    start = data.index(b"def b")
    assert identifiers_in(tree, data, spec, start, len(data)) == {"b", "second", "other"}
    assert identifiers_in(tree, data, spec, 0, start) == {"a", "first"}
    assert identifiers_in(tree, data, spec, 5, 5) == set()


BROKEN_CASES = [
    # (language, partial source, names that must still be found)
    (
        "python",
        "import os\nclass A:\n    def f(self, x):\n        return x +\n\ndef g(y):\n    pass\n",
        {"A", "f"},
    ),
    ("python", "def ok(a):\n    return a\n\ndef typing(", {"ok"}),
    ("javascript", "function ok(a) { return a; }\nclass B { m() { return [1, 2; } }\nfunction",
     {"ok"}),
    ("typescript", "export function ok(a: number) {}\ninterface I { m(: void }\nconst x = ",
     {"ok"}),
    ("typescriptreact", "export function ok() { return <div>; }\nfunction also() {}\n", {"ok"}),
    ("go", "package p\nfunc Ok() {}\nfunc (s *S) Broken(a int {\n", {"Ok"}),
    ("rust", "pub fn ok() {}\nimpl S { fn broken(&self, ", {"ok"}),
    ("java", "class A { void ok() {} void broken( { }", {"A", "ok"}),
    ("c", "int ok(void) { return 0; }\nint broken(int a {\n", {"ok"}),
    ("cpp", "int ok() { return 0; }\nclass W { void m( };\n", {"ok"}),
]


@pytest.mark.parametrize(("language", "source", "names"), BROKEN_CASES)
def test_syntax_errors_keep_what_can_be_found(language: str, source: str, names: set[str]) -> None:
    tree, data, spec = parse(language, source)
    assert tree.root_node.has_error
    found = {d.name for d in outline(tree, data, spec)}
    assert names <= found
    imports(tree, data, spec)
    identifiers_in(tree, data, spec, 0, len(data))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_every_prefix_of_a_golden_case_is_handled(case: Case) -> None:
    """Partial files, as while typing: nothing raises, definitions stay well-formed."""
    data = case.source.encode()
    spec = spec_for(case.language)
    assert spec is not None
    parser = Parser(load_language(spec))
    for end in range(0, len(data), 23):
        prefix = data[:end]
        tree = parser.parse(prefix)
        for d in outline(tree, prefix, spec):
            assert d.name and d.start_byte <= d.name_start_byte < d.end_byte <= len(prefix)
        imports(tree, prefix, spec)
        identifiers_in(tree, prefix, spec, end // 2, end)


# The outline's queries, and those read by context.callee and features.actions.analysis.
ALL_QUERIES = (*QUERY_NAMES, "calls", "facts")


def test_every_query_compiles_for_every_language() -> None:
    for spec in LANGUAGES:
        for name in ALL_QUERIES:
            assert compile_query(spec, name).pattern_count > 0, (spec.language_id, name)


def test_typescriptreact_inherits_typescript_queries() -> None:
    for name in QUERY_NAMES:
        tsx = query_text("typescriptreact", name)
        assert tsx.startswith(query_text("typescript", name))
        assert tsx.rstrip().endswith("; inherits: typescript")


def test_missing_query_files_mean_no_patterns(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "definitions.scm").write_text("; inherits: b, a\n(x) @definition.function\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "definitions.scm").write_text("; inherits: a\n(y) @name\n")
    monkeypatch.setattr(outline_module, "QUERY_DIR", tmp_path)
    assert query_text("a", "imports") == ""
    assert query_text("missing", "definitions") == ""
    # Inherited first, cycles cut.
    text = query_text("a", "definitions")
    assert text.index("(y) @name") < text.index("(x) @definition.function")


def _large_python_file(lines: int) -> str:
    out = ["import os", ""]
    index = 0
    while len(out) < lines:
        out += [f"# Section {index}.", "@decorator", f"class Thing{index}(Base):"]
        out += ['    """Docs."""']
        for method in range(5):
            out += [
                f"    def method_{method}(self, path: str, *args, flag: bool = False, **kw):",
                f'        """Method {method}."""',
                "        result = {}",
                "        for item in self.items:",
                "            if item.name == path and flag:",
                "                result[item.key] = os.path.join(path, str(item))",
                "        return result",
                "",
            ]
        out += [f"def helper_{index}(x, y=1):", "    return x + y", ""]
        index += 1
    return "\n".join(out[:lines]) + "\n"


def test_large_files_are_outlined_completely() -> None:
    """A 5,000-line file: every definition found (timings live in bench/context.py)."""
    tree, data, spec = parse("python", _large_python_file(5000))
    found = outline(tree, data, spec)
    assert len(found) > 500
    middle = data.index(b"class Thing40")
    assert identifiers_in(tree, data, spec, middle, middle + 3000)


def test_set_directives_come_before_text_predicates() -> None:
    """py-tree-sitter 0.26 crashes freeing a pattern whose ``#set!`` follows a text predicate."""
    for spec in LANGUAGES:
        for name in ALL_QUERIES:
            text = query_text(spec.language_id, name)
            query = compile_query(spec, name)
            for index in range(query.pattern_count):
                pattern = text.encode()[
                    query.start_byte_for_pattern(index):query.end_byte_for_pattern(index)
                ].decode()
                if "#set!" in pattern:
                    predicates = [pattern.find(p) for p in ("#eq?", "#match?", "#not-", "#any-of?")]
                    assert all(p < 0 or p > pattern.index("#set!") for p in predicates), pattern


def test_node_by_node_queries_on_a_large_file() -> None:
    tree, _, spec = parse("python", "LIMIT = 1\n" + _large_python_file(2000))
    query = outline_module._queries(spec).definitions
    found = outline_module._query_matches(query, tree.root_node)
    assert len(found) == len(_match_keys(found))
    assert _match_keys(found) == _match_keys(QueryCursor(query).matches(tree.root_node))


def _match_keys(matches) -> set[tuple[int, tuple[tuple[str, tuple[int, ...]], ...]]]:  # type: ignore[no-untyped-def]
    return {(pattern, tuple(sorted((name, tuple(n.id for n in nodes))
                                   for name, nodes in captures.items())))
            for pattern, captures in matches}


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_query_matches_are_those_of_one_whole_file_query(case: Case) -> None:
    """Root-anchored patterns once, the rest top-level node by node: the same matches as one
    query over the whole tree, none twice."""
    tree, _, spec = parse(case.language, case.source)
    queries = outline_module._queries(spec)
    for query in (queries.definitions, queries.imports):
        found = outline_module._query_matches(query, tree.root_node)
        assert len(found) == len(_match_keys(found))
        assert _match_keys(found) == _match_keys(QueryCursor(query).matches(tree.root_node))


@pytest.mark.parametrize(("language", "line"), [("python", "CONST_{} = {}\n"),
                                                ("javascript", "export const C{} = {};\n")])
def test_many_top_level_statements_give_each_match_once(language: str, line: str) -> None:
    """4,000 top-level constants: 4,000 definitions from as many matches (a root-anchored
    pattern read slice by slice returned every constant again per slice: quadratic)."""
    tree, data, spec = parse(language, "".join(line.format(i, i) for i in range(4000)))
    query = outline_module._queries(spec).definitions
    matches = outline_module._query_matches(query, tree.root_node)
    assert len(matches) == len(_match_keys(matches)) < 3 * 4000
    assert len(outline(tree, data, spec)) == 4000


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CASES), st.integers(0, 5000), st.integers(0, 400))
def test_a_range_reads_the_matches_that_touch_it(case: Case, start: int, length: int) -> None:
    tree, data, spec = parse(case.language, case.source)
    start = min(start, len(data))
    end = min(start + length, len(data))
    query = outline_module._queries(spec).definitions
    found = _match_keys(outline_module._query_matches(query, tree.root_node, (start, end)))
    whole = QueryCursor(query).matches(tree.root_node)
    assert found <= _match_keys(whole)
    inside = [(p, c) for p, c in whole
              if all(start <= n.start_byte and n.end_byte <= end for ns in c.values() for n in ns)]
    assert _match_keys(inside) <= found
    ranged = {d.name_start_byte for d in outline(tree, data, spec, byte_range=(start, end))}
    every = outline(tree, data, spec)
    assert ranged <= {d.name_start_byte for d in every}
    assert {d.name_start_byte for d in every if start <= d.start_byte and d.end_byte <= end
            } <= ranged


@pytest.mark.parametrize(("language", "source", "doc_comment"), [
    ("rust", "impl S {\n    // note\n    /// Area.\n    /// More.\n    fn area(&self) {}\n}\n",
     "/// Area.\n    /// More."),
    ("rust", "/// Doc.\n// plain\nfn f() {}\n", "/// Doc."),
    ("rust", "//// Banner.\nfn f() {}\n", None),
    ("cpp", "/** Block. */\n/// Lines.\nint f();\n", "/// Lines."),
    ("cpp", "/// Lines.\n/** Block. */\nint f();\n", "/** Block. */"),
    ("javascript", "/** A. */\n// eslint-disable-next-line\nfunction f() {}\n", "/** A. */"),
    ("javascript", "/**/\nfunction f() {}\n", None),
    ("java", "class A {\n  /** Doc. */\n  @Override\n  void f() {}\n}\n", "/** Doc. */"),
    ("go", "// F does.\n/* more */\nfunc F() {}\n", "// F does.\n/* more */"),
    ("python", "# comment\ndef f():\n    pass\n", None),
])
def test_doc_comments_are_the_doc_style_comments_above(language: str, source: str,
                                                       doc_comment: str | None) -> None:
    tree, data, spec = parse(language, source)
    definition = outline(tree, data, spec)[-1]
    found = definition.doc_comment
    assert (None if found is None else data[found[0]:found[1]].decode()) == doc_comment


@pytest.mark.parametrize(("language", "source", "parameters"), [
    ("python", "def f(self, a, /, b: int = 1, *args: str, c, **kw): pass\n", [
        ("self", None, None, "positional_only", True), ("a", None, None, "positional_only", False),
        ("b", "int", "1", "positional", False), ("*args", "str", None, "var_positional", False),
        ("c", None, None, "keyword_only", False), ("**kw", None, None, "var_keyword", False)]),
    ("typescript", "function f(a: number, b = 2, {x, y}: P = {}, ...r: T[]) {}\n", [
        ("a", "number", None, "positional", False), ("b", None, "2", "positional", False),
        ("options", "P", "{}", "positional", False), ("r", "T[]", None, "var_positional", False)]),
    ("go", "func f(a, b int, rest ...string) {}\n", [
        ("a", "int", None, "positional", False), ("b", "int", None, "positional", False),
        ("rest", "string", None, "var_positional", False)]),
    ("rust", "fn f(&mut self, mut n: u8, (a, b): (u8, u8)) {}\n", [
        ("self", None, None, "positional", True), ("n", "u8", None, "positional", False),
        ("(a, b)", "(u8, u8)", None, "positional", False)]),
    ("cpp", "int f(const T& item, int depth = 0, Args&&... rest);\n", [
        ("item", "T", None, "positional", False), ("depth", "int", "0", "positional", False),
        ("rest", "Args", None, "var_positional", False)]),
    ("java", "class A { void f(String s, int... xs) {} }\n", [
        ("s", "String", None, "positional", False), ("xs", None, None, "var_positional", False)]),
])
def test_parameters_are_read_by_the_queries(language: str, source: str,
                                            parameters: list[tuple[object, ...]]) -> None:
    tree, data, spec = parse(language, source)
    definition = outline(tree, data, spec)[-1]
    assert [(p.label, p.type, p.default, p.kind, p.receiver)
            for p in definition.parameters] == parameters
    assert definition.parameter_names == tuple(
        name for p in definition.parameters for name in p.names)
