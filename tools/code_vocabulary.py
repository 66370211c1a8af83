"""Make ``llama_lsp/model/data/code_vocabulary.txt.gz``: the pieces of a SentencePiece
vocabulary that code and its comments use (see ``llama_lsp/model/code_vocabulary.py``).

It tokenizes every file under the ``--code`` and ``--prose`` folders (files up to 200 kB,
the first 100 kB of each, ``.gz`` files decompressed, files that are not UTF-8 skipped), at most
``--per-kind`` files per extension, chosen with a fixed seed, and lists every plain piece seen
at least ``--min-count`` times, plus the ``--top-ascii`` highest-scoring ASCII pieces. With
``--held-out`` it reports the share of tokens in those files (tokenized with the full
vocabulary) that the list leaves out.

    python tools/code_vocabulary.py --model gemma-3-270m-q4_k_m.gguf \\
        --code /usr/lib/python3.11 /usr/include /usr/lib/node_modules \\
        --prose /usr/share/doc /usr/share/man --held-out llama_lsp
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

CODE_EXTENSIONS = (".py", ".h", ".c", ".cpp", ".go", ".rs", ".java", ".ts", ".js", ".lua", ".sh",
                   ".rb", ".cs", ".php")
MAX_FILE_BYTES = 200_000
READ_BYTES = 100_000
OUTPUT = Path(__file__).resolve().parent.parent / "llama_lsp/model/data/code_vocabulary.txt.gz"


def files_under(roots: list[Path], extensions: tuple[str, ...] | None, per_kind: int,
                seed: int) -> list[Path]:
    """Up to ``per_kind`` files of each extension (any file when ``extensions`` is None)."""
    by_kind: dict[str, list[Path]] = collections.defaultdict(list)
    for root in roots:
        for path in sorted(root.rglob("*")):
            kind = path.suffix if extensions is not None else "any"
            if extensions is not None and kind not in extensions:
                continue
            try:
                if path.is_file() and not path.is_symlink() \
                        and path.stat().st_size <= MAX_FILE_BYTES:
                    by_kind[kind].append(path)
            except OSError:
                continue
    chosen: list[Path] = []
    generator = random.Random(seed)
    for kind in sorted(by_kind):
        paths = by_kind[kind]
        generator.shuffle(paths)
        chosen += paths[:per_kind]
    return chosen


def texts(paths: list[Path]) -> Iterator[bytes]:
    """The UTF-8 contents (first ``READ_BYTES``) of ``paths``."""
    for path in paths:
        try:
            data = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
            data = data[:READ_BYTES]
            data.decode("utf-8")
        except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
            continue
        yield data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="a .gguf file (vocabulary)")
    parser.add_argument("--code", type=Path, nargs="+", required=True)
    parser.add_argument("--prose", type=Path, nargs="*", default=[])
    parser.add_argument("--held-out", type=Path, nargs="*", default=[])
    parser.add_argument("--per-kind", type=int, default=1500)
    parser.add_argument("--prose-files", type=int, default=6000)
    parser.add_argument("--min-count", type=int, default=1)
    parser.add_argument("--top-ascii", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()

    from llama_cpp import Llama, llama_vocab_get_attr, llama_vocab_get_score, llama_vocab_get_text
    from llama_cpp import LLAMA_TOKEN_ATTR_NORMAL

    llm = Llama(str(args.model), vocab_only=True, verbose=False)
    vocab = llm._model.vocab
    size = llm.n_vocab()
    text_of = [llama_vocab_get_text(vocab, i).decode("utf-8", "replace") for i in range(size)]
    normal = [llama_vocab_get_attr(vocab, i) == LLAMA_TOKEN_ATTR_NORMAL for i in range(size)]

    def count(data: Iterator[bytes]) -> tuple[collections.Counter[int], int]:
        counts: collections.Counter[int] = collections.Counter()
        total = 0
        for chunk in data:
            total += len(chunk)
            counts.update(llm.tokenize(chunk, add_bos=False, special=False))
        return counts, total

    code, code_bytes = count(texts(files_under(args.code, CODE_EXTENSIONS, args.per_kind,
                                               args.seed)))
    prose, prose_bytes = count(texts(files_under(args.prose, None, args.prose_files,
                                                 args.seed)))
    seen = {t for t, n in (code + prose).items() if n >= args.min_count}
    ascii_pieces = sorted((i for i in range(size) if normal[i] and text_of[i].isascii()),
                          key=lambda i: -llama_vocab_get_score(vocab, i))
    listed = sorted({text_of[i] for i in seen | set(ascii_pieces[:args.top_ascii]) if normal[i]})
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(args.output, "wb", mtime=0) as out:
        out.write("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in listed).encode())
    print(f"code {code_bytes / 1e6:.1f} MB, prose {prose_bytes / 1e6:.1f} MB: {len(listed):,} "
          f"pieces of {size:,} listed -> {args.output}")
    if args.held_out:
        held, _ = count(texts(files_under(args.held_out, CODE_EXTENSIONS, 10**6, args.seed)))
        kept = set(listed)
        missed = sum(n for t, n in held.items() if normal[t] and text_of[t] not in kept)
        print(f"held out: {missed:,} of {sum(held.values()):,} tokens not listed "
              f"({missed / max(1, sum(held.values())):.2%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
