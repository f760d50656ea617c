#!/usr/bin/env python3
"""datasketch peer: MinHash (128 permutations) + MinHashLSH (threshold 0.8), classic streaming dedup.

    python run_datasketch.py CORPUS.jsonl OUT.tsv [THRESHOLD=0.8] [NUM_PERM=128]

For each document in file order: word 5-gram shingles (split on whitespace, as in gen.py), MinHash with
`update_batch` of the UTF-8 shingles, then query the LSH index. No match: insert the document. Matches: the
document is a duplicate of the earliest-inserted match (LSH candidates as returned, no Jaccard re-check, as in
datasketch's documented usage). Writes OUT.tsv: removed_id <TAB> kept_id. Single process (datasketch has no
parallel mode).
"""
import json
import sys

from datasketch import MinHash, MinHashLSH


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    threshold = float(sys.argv[3]) if len(sys.argv) > 3 else 0.8
    num_perm = int(sys.argv[4]) if len(sys.argv) > 4 else 128
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    order = {}
    removed = []
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            did, words = doc["id"], doc["text"].split()
            sh = {" ".join(words[i:i + 5]) for i in range(max(1, len(words) - 4))}
            m = MinHash(num_perm=num_perm)
            m.update_batch([s.encode("utf-8") for s in sh])
            hits = lsh.query(m)
            if hits:
                removed.append((did, min(hits, key=order.__getitem__)))
            else:
                order[did] = len(order)
                lsh.insert(did, m)
    with open(out, "w") as f:
        for d, k in removed:
            f.write(f"{d}\t{k}\n")
    print(json.dumps({"tool": "datasketch", "threshold": threshold, "num_perm": num_perm,
                      "bands_rows": list(lsh.b_r) if hasattr(lsh, "b_r") else [lsh.b, lsh.r],
                      "docs": len(order) + len(removed), "removed": len(removed)}))


if __name__ == "__main__":
    main()
