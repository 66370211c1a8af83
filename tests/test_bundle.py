"""``llama-lsp bundle`` and its ``install.sh``: made here, installed with no network, verified.

The bundle is made from this checkout as a user would on a connected machine: pip gathers the
dependencies' wheels (from its index and cache) and the llama-cpp-python wheel pip built here,
from pip's cache (the test is skipped when that wheel is not cached, rather than building
llama.cpp for 5-15 minutes). The model is a tiny generated one. Installing happens with the
network unusable: a network namespace when ``unshare`` allows one, and proxy variables pointing
at a closed port in any case; pip runs with ``--no-index``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import pytest
from tiny_models import TinyModelInfo

from llama_lsp.cli.bundle import _cached_llama_cpp_wheels
from llama_lsp.model.pinning import file_sha256

ROOT = Path(__file__).parent.parent


@dataclass(frozen=True)
class Bundle:
    folder: Path
    archive: Path
    model_sha256: str
    output: str


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without PYTHONPATH (the installed code must run, not the checkout's)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return {**env, **extra}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory, constant_model: TinyModelInfo) -> Bundle:
    version = metadata.version("llama-cpp-python")
    if not _cached_llama_cpp_wheels(version):
        pytest.skip(f"no llama-cpp-python {version} wheel in pip's cache (pip install it once)")
    work = tmp_path_factory.mktemp("bundle")
    vsix = work / "llama-lsp.vsix"
    vsix.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip: install.sh only hands it on
    out = work / "llama-lsp-bundle"
    done = subprocess.run(
        [sys.executable, "-m", "llama_lsp", "bundle", str(out), "--no-demo", "--vsix", str(vsix),
         "--model", str(constant_model.path), "--source", str(ROOT)],
        capture_output=True, text=True, timeout=900, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return Bundle(out, work / "llama-lsp-bundle.tar.gz", file_sha256(constant_model.path),
                  done.stdout)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@lru_cache(maxsize=1)
def _namespace_prefix() -> tuple[str, ...]:
    """``unshare -rn`` (a network namespace with no interface up) when this system allows it."""
    if shutil.which("unshare") is None:
        return ()
    try:
        ok = subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return ("unshare", "-rn") if ok.returncode == 0 else ()


def _offline(command: list[str], home: Path, path_prefix: Path | None = None,
             timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``command`` with the network unusable and HOME in a scratch folder."""
    proxy = f"http://127.0.0.1:{_closed_port()}"
    env = _clean_env(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), no_proxy="",
                     NO_PROXY="", **{name: proxy for name in (
                         "http_proxy", "https_proxy", "all_proxy",
                         "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")})
    if path_prefix is not None:
        env["PATH"] = f"{path_prefix}{os.pathsep}{env['PATH']}"
    home.mkdir(exist_ok=True)
    return subprocess.run([*_namespace_prefix(), *command], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=home)


def _extract(bundle: Bundle, target: Path) -> Path:
    with tarfile.open(bundle.archive) as tar:
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(target, **safe)
    return target / bundle.folder.name


def test_bundle_holds_wheels_clients_model_manifest_and_sums(bundle: Bundle) -> None:
    folder = bundle.folder
    manifest = json.loads((folder / "manifest.json").read_text())
    wheels = {w["name"].lower().replace("_", "-") for w in manifest["wheels"]}
    assert {"llama-lsp", "llama-cpp-python", "pygls", "lsprotocol", "tree-sitter",
            "tree-sitter-python", "numpy"} <= wheels
    assert all((folder / w["file"]).is_file() for w in manifest["wheels"])
    assert not any(folder.glob("wheels/*.tar.gz")), "the air-gapped side must compile nothing"
    llama = manifest["llama_cpp_python"]
    assert llama["build"].startswith("CPU") and llama["cmake_args"] is None
    assert llama["origin"].startswith("pip's cache")
    assert manifest["python"]["version"] == "%d.%d" % sys.version_info[:2]
    [model] = manifest["models"]
    assert model["sha256"] == bundle.model_sha256 == file_sha256(folder / model["path"])
    assert model["facts"] == {"model_name": "tiny-random-llama", "fim": "yes (metadata)",
                              "training_context": 2048}
    assert manifest["vscode"]["vsix"] == "editors/llama-lsp.vsix"
    assert (folder / "editors/neovim/lua/llama_lsp/init.lua").is_file()
    listed = {line[66:] for line in (folder / "SHA256SUMS").read_text().splitlines()}
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert listed == present - {"SHA256SUMS"}
    assert bundle.archive.is_file()
    assert f"bundle fingerprint (SHA-256 of SHA256SUMS): {file_sha256(folder / 'SHA256SUMS')}" \
        in bundle.output


def test_bundle_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    done = subprocess.run([sys.executable, "-m", "llama_lsp", "bundle", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "not empty" in done.stderr
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_install_with_no_network_then_complete_answers(bundle: Bundle, tmp_path: Path) -> None:
    folder = _extract(bundle, tmp_path / "media")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    calls = tmp_path / "code-calls.txt"
    (fake_bin / "code").write_text(f'#!/bin/sh\necho "$@" >> "{calls}"\n')
    (fake_bin / "code").chmod(0o755)
    reach = _offline([sys.executable, "-c", "import urllib.request; "
                      "urllib.request.urlopen('https://pypi.org/simple/', timeout=5)"],
                     tmp_path / "home")
    assert reach.returncode != 0, "the network should be unusable here"
    prefix = tmp_path / "prefix"
    done = _offline(["sh", str(folder / "install.sh"), "--prefix", str(prefix),
                     "--fingerprint", file_sha256(folder / "SHA256SUMS")],
                    tmp_path / "home", fake_bin)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    # Verified, installed, placed, checked by doctor against the pinned hash.
    assert "verified:" in done.stdout
    model = prefix / "models" / "tiny-constant.gguf"
    assert file_sha256(model) == bundle.model_sha256
    assert f"{bundle.model_sha256} (matches modelSha256)" in done.stdout
    assert "model                  tiny-random-llama, loaded in" in done.stdout
    assert f'dir = "{prefix}/neovim"' in done.stdout
    assert f'"llama-lsp.modelSha256": "{bundle.model_sha256}"' in done.stdout
    assert (prefix / "neovim/lua/llama_lsp/init.lua").is_file()
    assert calls.read_text().split() == ["--install-extension",
                                         str(folder / "editors/llama-lsp.vsix"), "--force"]
    # The installed llama-lsp answers, still with no network.
    source = tmp_path / "m.py"
    source.write_text("def f():\n    return \n")
    llama_lsp = prefix / "venv" / "bin" / "llama-lsp"
    done = _offline([str(llama_lsp), "complete", f"{source}:2:12", "--quick", "--model",
                     str(model), "--model-sha256", bundle.model_sha256], tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() and set(done.stdout.strip()) == {"x"}
    located = subprocess.run([str(prefix / "venv/bin/python"), "-c",
                              "import llama_lsp; print(llama_lsp.__file__)"],
                             capture_output=True, text=True, env=_clean_env(), cwd=tmp_path)
    assert located.stdout.startswith(str(prefix / "venv"))


def _refused(folder: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    prefix = tmp_path / "prefix"
    done = _offline(["sh", str(folder / "install.sh"), "--prefix", str(prefix)],
                    tmp_path / "home", timeout=120)
    assert done.returncode != 0
    assert "REFUSED" in done.stderr and "nothing was installed" in done.stderr, done.stderr
    assert not prefix.exists()
    return done


def test_one_changed_byte_in_any_file_is_refused_before_installing(bundle: Bundle,
                                                                   tmp_path: Path) -> None:
    folder = _extract(bundle, tmp_path / "media")
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    assert len(files) > 20
    for file in files:
        data = bytearray(file.read_bytes())
        # install.sh: a byte of its header comment, so the changed script still runs its check.
        offset = 20 if file.name == "install.sh" else len(data) // 2
        data[offset] ^= 0x01
        file.write_bytes(bytes(data))
        try:
            done = _refused(folder, tmp_path)
        finally:
            data[offset] ^= 0x01
            file.write_bytes(bytes(data))
        if file.name != "SHA256SUMS":
            assert file.relative_to(folder).as_posix() in done.stderr
    # An added wheel (pip would pick it up) and a missing file are refused too.
    extra = folder / "wheels" / "evil-1.0-py3-none-any.whl"
    extra.write_bytes(b"PK")
    assert "not in SHA256SUMS: wheels/evil-1.0-py3-none-any.whl" in \
        _refused(folder, tmp_path).stderr
    extra.unlink()
    model = folder / "models" / "tiny-constant.gguf"
    model.rename(tmp_path / "aside.gguf")
    assert "missing: models/tiny-constant.gguf" in _refused(folder, tmp_path).stderr


def test_a_wrong_fingerprint_is_refused(bundle: Bundle, tmp_path: Path) -> None:
    done = _offline(["sh", str(bundle.folder / "install.sh"), "--prefix",
                     str(tmp_path / "prefix"), "--fingerprint", "0" * 64], tmp_path / "home")
    assert done.returncode != 0 and "REFUSED" in done.stderr
    assert not (tmp_path / "prefix").exists()


def test_another_python_is_refused_before_installing(bundle: Bundle, tmp_path: Path) -> None:
    other = tmp_path / "python3.9"
    other.write_text('#!/bin/sh\necho "3.9 Linux-x86_64"\n')
    other.chmod(0o755)
    done = _offline(["sh", str(bundle.folder / "install.sh"), "--prefix",
                     str(tmp_path / "prefix"), "--python", str(other)], tmp_path / "home")
    assert done.returncode != 0 and "REFUSED" in done.stderr
    assert "this bundle is for Python %d.%d" % sys.version_info[:2] in done.stderr
    assert not (tmp_path / "prefix").exists()


def test_gpu_variant_rebuilds_llama_cpp_with_the_cmake_args_and_records_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from llama_lsp.cli import bundle as module

    calls: list[tuple[tuple[str, ...], dict[str, str] | None]] = []

    def fake_pip(*arguments: str, env: dict[str, str] | None = None) -> None:
        calls.append((arguments, env))
        folder = Path(arguments[arguments.index("--wheel-dir") + 1])
        folder.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(folder / "llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl",
                             "w") as wheel:
            for name in ("llama_cpp/lib/libggml-cpu.so", "llama_cpp/lib/libggml-cuda.so.0",
                         "include/ggml-metal.h"):
                wheel.writestr(name, b"")

    monkeypatch.setattr(module, "_pip", fake_pip)
    wheel, origin = module._llama_cpp_wheel("-DGGML_CUDA=on", tmp_path, ["--no-index"])
    [(arguments, env)] = calls
    assert env is not None and env["CMAKE_ARGS"] == "-DGGML_CUDA=on"
    assert {"--no-binary", "--no-cache-dir", "--no-index"} <= set(arguments)
    assert f"llama-cpp-python=={metadata.version('llama-cpp-python')}" in arguments
    described = module._describe_llama_cpp_wheel(wheel.parent, "-DGGML_CUDA=on", origin)
    assert described["build"] == "CPU+CUDA"  # a header named ggml-metal is not a Metal build
    assert described["cmake_args"] == "-DGGML_CUDA=on" and "CMAKE_ARGS" in described["origin"]
