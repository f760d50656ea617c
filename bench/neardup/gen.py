#!/usr/bin/env python3
"""Generate the near-duplicate benchmark corpus and its truth file.

    python3 gen.py OUT_DIR [N_DOCS=100000] [SEED=20260101]

Writes
  OUT_DIR/corpus.jsonl   one {"id": "d0000001", "text": "..."} per line (the order every tool reads)
  OUT_DIR/truth.tsv      one line per generated duplicate: id, original_id, kind (near|exact), true Jaccard
                         of word 5-gram sets vs the original (exact: 1.0)
  OUT_DIR/gen.json       counts and parameters

Corpus: N_DOCS documents of 50-300 words, about 85% originals, 10% near duplicates, 5% exact duplicates.
Words are lower-case ASCII drawn from a Zipf-like synthetic vocabulary of 30,000 words, separated by single
spaces (no punctuation, so every tool's tokenizer sees the same words and the recorded Jaccard is the one each
tool estimates). A near duplicate starts as a copy of its original and gets random single-word edits
(substitute 60%, insert 20%, delete 20%) at random positions spread through the text, each edit kept only if
the word-5-gram Jaccard vs the original stays >= a target drawn uniformly from [0.80, 0.95]; it stops after 25
rejected edits in a row. So the true Jaccard lands in [target, target + one edit], recorded exactly. (A short
document with a high target where no edit was kept gets the closest rejected edit with Jaccard >= 0.80.)
An original can get several duplicates (sources drawn with replacement): truth clusters of size >= 2.
Every duplicate is placed after its original, at a random later position (keep-first tools keep the original).
"""
import bisect
import json
import os
import random
import sys

NGRAM = 5
J_LO, J_HI = 0.80, 0.95


def shingles(words):
    return {" ".join(words[i:i + NGRAM]) for i in range(max(1, len(words) - NGRAM + 1))}


def jaccard(a, b):
    return len(a & b) / len(a | b) if (a or b) else 1.0


def make_vocab(rng, n=30000):
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab, seen = [], set()
    while len(vocab) < n:
        w = "".join(rng.choice(letters) for _ in range(rng.choice((2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 8, 9, 10))))
        if w not in seen:
            seen.add(w)
            vocab.append(w)
    # Zipf-like cumulative weights (s = 1.0, shifted so the head is not too heavy)
    cum, t = [], 0.0
    for r in range(n):
        t += 1.0 / (r + 10)
        cum.append(t)
    return vocab, cum


def near_dup(rng, words, sample_word):
    orig = shingles(words)
    target = rng.uniform(J_LO, J_HI)
    cur = list(words)
    j = 1.0
    rejected = 0
    best = None  # the closest rejected edit with J >= 0.80, used if no edit stays above the target
    while rejected < 25:
        cand = list(cur)
        op = rng.random()
        pos = rng.randrange(len(cand))
        if op < 0.6:
            w = sample_word()
            if w == cand[pos]:
                continue
            cand[pos] = w
        elif op < 0.8:
            cand.insert(pos, sample_word())
        else:
            if len(cand) <= 50:
                continue
            del cand[pos]
        if len(cand) > 300 or len(cand) < 50:
            continue
        cj = jaccard(orig, shingles(cand))
        if cj >= target:
            cur, j = cand, cj
            rejected = 0
        else:
            rejected += 1
            if j >= 1.0 and cj >= J_LO and (best is None or cj > best[1]):
                best = (cand, cj)
    if j >= 1.0:  # short document, high target: no single edit stays above it; take the closest one >= 0.80
        if best is None:
            cur = list(words)
            cur[0] = sample_word() if cur[0] != sample_word() else cur[0] + "x"  # an edge edit: 1 shingle changes
            best = (cur, jaccard(orig, shingles(cur)))
        cur, j = best
    return cur, j


def main():
    out = sys.argv[1]
    n_docs = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20260101
    rng = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    vocab, cum = make_vocab(rng)
    total = cum[-1]

    def sample_word():
        return vocab[bisect.bisect_left(cum, rng.random() * total)]

    n_near = round(n_docs * 0.10)
    n_exact = round(n_docs * 0.05)
    n_orig = n_docs - n_near - n_exact

    originals = []
    for _ in range(n_orig):
        n = rng.randint(50, 300)
        originals.append([sample_word() for _ in range(n)])

    # Base order: originals in order; every duplicate gets inserted at a random position after its original.
    # Represent each slot by a float key: originals at i, a duplicate of original i at uniform(i, n_orig).
    items = [(float(i), ("orig", i, None, None)) for i in range(n_orig)]
    for kind, count in (("near", n_near), ("exact", n_exact)):
        for _ in range(count):
            src = rng.randrange(n_orig)
            if kind == "near":
                words, j = near_dup(rng, originals[src], sample_word)
            else:
                words, j = originals[src], 1.0
            key = rng.uniform(src + 0.5, n_orig)
            items.append((key, (kind, src, words, j)))
    items.sort(key=lambda x: x[0])

    orig_id = {}
    truth = []
    with open(os.path.join(out, "corpus.jsonl"), "w") as f:
        for n, (_, (kind, src, words, j)) in enumerate(items, start=1):
            did = f"d{n:07d}"
            if kind == "orig":
                orig_id[src] = did
                words = originals[src]
            else:
                truth.append((did, orig_id[src], kind, j))
            f.write(json.dumps({"id": did, "text": " ".join(words)}) + "\n")
    with open(os.path.join(out, "truth.tsv"), "w") as f:
        f.write("id\toriginal\tkind\tjaccard\n")
        for did, oid, kind, j in truth:
            f.write(f"{did}\t{oid}\t{kind}\t{j:.4f}\n")
    js = sorted(t[3] for t in truth if t[2] == "near")
    meta = {"n_docs": len(items), "originals": n_orig, "near": n_near, "exact": n_exact, "seed": seed,
            "ngram": NGRAM, "target_jaccard": [J_LO, J_HI],
            "near_jaccard_min": js[0] if js else None, "near_jaccard_median": js[len(js) // 2] if js else None,
            "near_jaccard_max": js[-1] if js else None}
    with open(os.path.join(out, "gen.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(json.dumps(meta), file=sys.stderr)


if __name__ == "__main__":
    main()
