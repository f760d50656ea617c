"""Writes N text samples with metadata as JSONL: the table both writers turn into Parquet.

Columns (all strings, like a Strata export): id (SHA-256 of content), content (50-600 characters of words
drawn with a Zipf-like skew), label (one of 6, 3% empty), split, origin, metadata (a JSON object).
Deterministic for a given seed."""
import hashlib, json, random, sys

n, out, seed = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 7
rng = random.Random(seed)
syll = ["ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "an", "el", "or", "us", "ve", "di", "qu", "ba"]
vocab = sorted({"".join(rng.choice(syll) for _ in range(rng.randint(1, 4))) for _ in range(20000)})
cum = []
total = 0.0
for i in range(len(vocab)):
    total += 1.0 / (i + 1)
    cum.append(total)
labels = ["billing", "technical", "account", "shipping", "refund", "other"]
sources = ["forum", "email", "chat", "phone"]
with open(out, "w", encoding="utf-8") as f:
    for i in range(n):
        words = rng.choices(vocab, cum_weights=cum, k=rng.randint(8, 90))
        content = " ".join(words).capitalize() + rng.choice([".", "?", "!"])
        ident = hashlib.sha256(content.encode()).hexdigest()
        src = rng.choice(sources)
        label = None if rng.random() < 0.03 else rng.choice(labels)
        split = rng.choices(["train", "validation", "test"], [8, 1, 1])[0]
        meta = {"source": src, "collected": f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}",
                "format": "jsonl", "fields": {"session": f"s{rng.randint(0, n // 5)}", "lang": rng.choice(["en", "de", "fr"]),
                                              "score": round(rng.random(), 3)}}
        row = {"id": ident, "content": content, "label": label, "split": split,
               "origin": f"incoming/{src}/dump_{i // 10000:03d}.jsonl:{i % 10000 + 1}",
               "metadata": json.dumps(meta, sort_keys=True, separators=(",", ":"))}
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
