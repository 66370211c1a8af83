"""Resolve import statements to workspace files, per language. Only paths that exist."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from llama_lsp.context.syntax.outline import ImportRef

_JS_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".d.ts")
# TypeScript ESM imports name the emitted file: `./util.js` is `./util.ts` in the sources.
_TS_SOURCE_OF_EMITTED = {".js": (".ts", ".tsx"), ".jsx": (".tsx",), ".mjs": (".mts",),
                         ".cjs": (".cts",)}
_GO_MODULE = re.compile(r"^module\s+(\S+)", re.MULTILINE)


def _first_existing(candidates: list[Path]) -> list[Path]:
    for candidate in candidates:
        if candidate.is_file():
            return [candidate]
    return []


def _nearest(start: Path, marker: str, roots: list[Path]) -> Path | None:
    """The closest directory at or above ``start`` (within a root) that holds ``marker``."""
    for directory in (start, *start.parents):
        if (directory / marker).exists():
            return directory
        if directory in roots:
            break
    return None


def _python(ref: ImportRef, file: Path, roots: list[Path]) -> list[Path]:
    module = ref.module
    dots = len(module) - len(module.lstrip("."))
    parts = [p for p in module.lstrip(".").split(".") if p]
    if dots:
        bases = [file.parent.parents[dots - 2] if dots > 1 else file.parent]
    else:
        bases = []
        for root in roots:
            bases += [root, root / "src"]
        bases.append(file.parent)
    found: list[Path] = []
    for base in bases:
        target = base.joinpath(*parts) if parts else base
        found = _first_existing([target.with_suffix(".py") if parts else target / "__init__.py",
                                 target / "__init__.py"])
        # `from package import module`: each name may itself be a module file.
        for name in ref.names:
            found += _first_existing([target / f"{name}.py", target / name / "__init__.py"])
        if found:
            return list(dict.fromkeys(found))
    return []


def _javascript(ref: ImportRef, file: Path, roots: list[Path]) -> list[Path]:
    if not ref.module.startswith("."):
        return []
    target = (file.parent / ref.module).resolve()
    candidates = [target] if target.suffix in _JS_EXTENSIONS else []
    candidates += [target.with_suffix(source)
                   for source in _TS_SOURCE_OF_EMITTED.get(target.suffix, ())]
    candidates += [target.with_name(target.name + ext) for ext in _JS_EXTENSIONS]
    candidates += [target / f"index{ext}" for ext in _JS_EXTENSIONS]
    return _first_existing(candidates)


def _go(ref: ImportRef, file: Path, roots: list[Path]) -> list[Path]:
    module_root = _nearest(file.parent, "go.mod", roots)
    if module_root is None:
        return []
    match = _GO_MODULE.search((module_root / "go.mod").read_text(errors="replace"))
    if not match or not (ref.module == match.group(1) or ref.module.startswith(match.group(1) + "/")):
        return []
    package_dir = module_root / ref.module[len(match.group(1)):].lstrip("/")
    return sorted(p for p in package_dir.glob("*.go") if not p.name.endswith("_test.go"))


def _rust(ref: ImportRef, file: Path, roots: list[Path]) -> list[Path]:
    module = ref.module
    # The directory holding this file's child modules: src/a.rs is module `a`, in src/a/.
    owner = file.parent if file.name in ("mod.rs", "lib.rs", "main.rs") else \
        file.parent / file.stem
    if "::" not in module:  # `mod name;` declared in this file
        return _first_existing([owner / f"{module}.rs", owner / module / "mod.rs"])
    parts = module.split("::")
    if parts[0] == "crate":
        crate_root = _nearest(file.parent, "Cargo.toml", roots)
        if crate_root is None:
            return []
        base = crate_root / "src"
    elif parts[0] in ("self", "super"):
        base = owner if parts[0] == "self" else owner.parent
    else:
        return []
    segments = parts[1:]
    while segments and segments[0] == "super":  # `super::super::x`
        base, segments = base.parent, segments[1:]
    # `use crate::a::{b, c}`: each listed name may itself be a module file.
    found = [path for name in ref.names if name not in ("*", "self")
             for path in _rust_module_file(base.joinpath(*segments, name))]
    if found:
        return found
    # The path may end in an item (a type or function): try the longest module path first.
    for length in range(len(segments), 0, -1):
        found = _rust_module_file(base.joinpath(*segments[:length]))
        if found:
            return found
    return []


def _rust_module_file(module_path: Path) -> list[Path]:
    return _first_existing([module_path.with_suffix(".rs"), module_path / "mod.rs"])


def _java(ref: ImportRef, file: Path, roots: list[Path]) -> list[Path]:
    parts = ref.module.split(".")
    bases = []
    for root in roots:
        bases += [root, root / "src", root / "src" / "main" / "java", root / "src" / "test" / "java"]
    # `import static a.b.C.member;` and nested classes (`a.b.C.Inner`) name something inside
    # the file a/b/C.java: try the longest path that is a file.
    for length in range(len(parts), 0, -1):
        relative = Path(*parts[:length]).with_suffix(".java")
        found = _first_existing([base / relative for base in bases])
        if found:
            return found
    return []


def _c_family(ref: ImportRef, file: Path, roots: list[Path]) -> list[Path]:
    if not ref.is_local:
        return []
    candidates = [file.parent / ref.module]
    for root in roots:
        candidates += [root / ref.module, root / "include" / ref.module, root / "src" / ref.module]
    return _first_existing(candidates)


_RESOLVERS: dict[str, Callable[[ImportRef, Path, list[Path]], list[Path]]] = {
    "python": _python,
    "javascript": _javascript,
    "typescript": _javascript,
    "typescriptreact": _javascript,
    "go": _go,
    "rust": _rust,
    "java": _java,
    "c": _c_family,
    "cpp": _c_family,
}


def resolve_import(ref: ImportRef, file: Path, language_id: str, roots: list[Path]) -> list[Path]:
    """Workspace files that ``ref`` (in ``file``) refers to; empty for external modules."""
    resolver = _RESOLVERS.get(language_id)
    if resolver is None:
        return []
    try:
        # Normalised (`src/../x.h` -> `x.h`) so that .gitignore checks see the real location.
        return [path for found in resolver(ref, file, roots)
                if (path := Path(os.path.normpath(found))) != file]
    except (OSError, ValueError, IndexError):
        return []


def package_siblings(file: Path, language_id: str) -> list[Path]:
    """Files that share a namespace with ``file`` without importing it (Go, Java packages)."""
    if language_id == "go":
        return sorted(p for p in file.parent.glob("*.go")
                      if p != file and not p.name.endswith("_test.go"))
    if language_id == "java":
        return sorted(p for p in file.parent.glob("*.java") if p != file)
    if language_id in ("c", "cpp") and file.suffix in (".c", ".cc", ".cpp", ".cxx"):
        return _first_existing([file.with_suffix(ext) for ext in (".h", ".hpp", ".hh")])
    return []
