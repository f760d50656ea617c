#!/usr/bin/env python3
"""Writes N JSONL documents for the record-ingest benchmark: {"id", "text", "label"} per line.

    python3 gen.py OUT.jsonl N [SEED]

Texts are 50-300 words from a Zipf-like vocabulary (about 1.2 KB per document on average, the size of the
1,000,000-document corpus of issue 20), 5% of them exact copies of an earlier document, and the labels are
`cat`, `dog` and `bird`. Deterministic for a seed.
"""
import random
import sys


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20261207
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(30000)]
    cum, total = [], 0.0
    for r in range(len(vocab)):
        total += 1.0 / (r + 1)
        cum.append(total)
    labels = ["cat", "dog", "bird"]
    texts = []
    with open(out, "w") as f:
        for i in range(n):
            if texts and rng.random() < 0.05:
                text = texts[rng.randrange(len(texts))]
            else:
                text = " ".join(rng.choices(vocab, cum_weights=cum, k=rng.randint(50, 300)))
                if len(texts) < 20000:
                    texts.append(text)
            f.write('{"id": "d%07d", "text": "%s", "label": "%s"}\n' % (i, text, labels[rng.randrange(3)]))


if __name__ == "__main__":
    main()
