#!/usr/bin/env python3
"""Seeded data generator for the ingest benchmark.

  gen.py small OUT_DIR N_FILES [SEED]   N text files (.txt) of 1-4 KiB of random words, in 100 folders
  gen.py large OUT_DIR GIB [SEED]       GIB GiB of random bytes in files of 64-256 MiB (the last one may be smaller)

Same arguments, same bytes. Prints one line: files and bytes written.
"""
import os
import random
import sys

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
FOLDERS = 100


def make_vocabulary(rng, n=20000):
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = set()
    while len(words) < n:
        words.add("".join(rng.choices(letters, k=rng.randint(2, 11))))
    return sorted(words)


def small(out, n, seed):
    rng = random.Random(seed)
    vocab = make_vocabulary(rng)
    total = 0
    width = len(str(max(n - 1, 1)))
    for d in range(min(FOLDERS, n)):
        os.makedirs(os.path.join(out, f"part-{d:03d}"), exist_ok=True)
    for i in range(n):
        target = rng.randint(1 * KIB, 4 * KIB)
        # ~6.5 bytes per word on average; draw a few more than needed and cut at a word boundary.
        words = rng.choices(vocab, k=target // 5 + 8)
        lines, line, size = [], [], 0
        for w in words:
            line.append(w)
            if len(line) == 12:
                s = " ".join(line) + "\n"
                lines.append(s)
                size += len(s)
                line = []
                if size >= target:
                    break
        if line and size < target:
            s = " ".join(line) + "\n"
            lines.append(s)
            size += len(s)
        text = "".join(lines).encode()
        if len(text) > 4 * KIB:
            cut = text.rfind(b" ", 0, 4 * KIB - 1)
            text = text[:cut] + b"\n"
        # A unique header line keeps every file distinct even if two draws collided.
        text = f"doc {i}\n".encode() + text
        text = text[: 4 * KIB]
        if not text.endswith(b"\n"):
            text = text[:-1] + b"\n"
        path = os.path.join(out, f"part-{i % FOLDERS:03d}", f"doc-{i:0{width}d}.txt")
        with open(path, "wb") as f:
            f.write(text)
        total += len(text)
    print(f"small: {n} files, {total} bytes in {out}")


def large(out, gib, seed):
    rng = random.Random(seed + 1)
    os.makedirs(out, exist_ok=True)
    remaining = int(gib * GIB)
    i = 0
    total = 0
    while remaining > 0:
        size = min(remaining, rng.randint(64, 256) * MIB)
        path = os.path.join(out, f"blob-{i:03d}.bin")
        with open(path, "wb") as f:
            left = size
            while left > 0:
                chunk = min(left, 16 * MIB)
                f.write(rng.randbytes(chunk))
                left -= chunk
        remaining -= size
        total += size
        i += 1
    print(f"large: {i} files, {total} bytes in {out}")


def main(argv):
    if len(argv) < 4 or argv[1] not in ("small", "large"):
        sys.exit(__doc__)
    kind, out = argv[1], argv[2]
    seed = int(argv[4]) if len(argv) > 4 else 20260101
    if kind == "small":
        small(out, int(argv[3]), seed)
    else:
        large(out, float(argv[3]), seed)


if __name__ == "__main__":
    main(sys.argv)
