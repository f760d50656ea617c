"""Shared helpers of the curation benchmark: output layout, truth records, similarity measures used to clean
the sets (drop near-identical natural items, list natural look-alikes)."""
import csv, json, os, random, shutil, hashlib
from pathlib import Path

import numpy as np


def fresh_dir(path: Path):
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def write_jsonl(path: Path, rows):
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def write_set_meta(root: Path, meta: dict):
    with open(root / "set.json", "w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=2, ensure_ascii=False)
        fh.write("\n")


# ---------- text ----------

def char_shingles(text: str, n: int = 5):
    t = " ".join(text.lower().split())
    if len(t) < n:
        return {t}
    return {t[i:i + n] for i in range(len(t) - n + 1)}


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def dedupe_texts(items, drop_at=0.5, natural_at=0.3):
    """items: list of dicts with 'text'. Returns (kept, natural_pairs). Pairs at char 5-gram Jaccard >= drop_at
    keep only the first; pairs in [natural_at, drop_at) are natural look-alikes (listed, kept).
    Candidate pairs come from shared rare shingles, so this stays fast on a few hundred documents."""
    kept, sh = [], []
    natural = []
    index = {}
    for it in items:
        s = char_shingles(it["text"])
        cands = {}
        for g in list(s)[:4000]:
            for j in index.get(g, ()):
                cands[j] = cands.get(j, 0) + 1
        best = 0.0
        close = []
        for j, c in cands.items():
            if c < 0.2 * min(len(s), len(sh[j])):
                continue
            jac = jaccard(s, sh[j])
            best = max(best, jac)
            if jac >= natural_at:
                close.append((j, jac))
        if best >= drop_at:
            continue
        k = len(kept)
        kept.append(it)
        sh.append(s)
        for g in s:
            index.setdefault(g, []).append(k)
        for j, jac in close:
            natural.append((j, k, round(jac, 3)))
    return kept, natural


# ---------- images ----------

def visible_gray(img, size=16):
    """What a person sees, as a small grayscale array: alpha composited onto mid-gray."""
    from PIL import Image
    im = img.convert("RGBA")
    bg = Image.new("RGBA", im.size, (128, 128, 128, 255))
    bg.alpha_composite(im)
    g = bg.convert("L").resize((size, size), Image.BILINEAR)
    return np.asarray(g, dtype=np.float64).ravel()


def ncc(a, b):
    a = a - a.mean()
    b = b - b.mean()
    d = np.sqrt((a * a).sum() * (b * b).sum())
    if d == 0:
        return 1.0 if np.allclose(a, b) else 0.0
    return float((a * b).sum() / d)


def dedupe_vectors(vecs, drop_at, natural_at):
    """Greedy: keep a vector unless its similarity (ncc) to a kept one is >= drop_at. Returns kept indexes and
    natural pairs (kept i, kept j, similarity) in [natural_at, drop_at)."""
    kept, natural = [], []
    M = None
    for i, v in enumerate(vecs):
        z = v - v.mean()
        n = np.linalg.norm(z)
        z = z / n if n > 0 else z
        if kept:
            sims = M @ z
            if sims.max() >= drop_at:
                continue
            for k, s in zip(kept, sims):
                if s >= natural_at:
                    natural.append((k, i, round(float(s), 3)))
        kept.append(i)
        M = z[None, :] if M is None else np.vstack([M, z[None, :]])
    return kept, natural


# ---------- audio ----------

def read_wav(path):
    import wave
    with wave.open(str(path), "rb") as w:
        rate, ch, sw, n = w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()
        raw = w.readframes(n)
    assert sw == 2, path
    x = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    if ch > 1:
        x = x.reshape(-1, ch).mean(axis=1)
    return x, rate


def write_wav(path, x, rate):
    import wave
    y = np.clip(np.round(np.asarray(x) * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(y.tobytes())


def spectro_signature(x, rate, bands=32):
    """Log band energies per 10 ms frame (25 ms window), for look-alike checks when cleaning."""
    win, hop = int(0.025 * rate), int(0.010 * rate)
    if len(x) < win:
        x = np.pad(x, (0, win - len(x)))
    frames = np.lib.stride_tricks.sliding_window_view(x, win)[::hop] * np.hanning(win)
    mag = np.abs(np.fft.rfft(frames, axis=1))
    edges = np.unique(np.geomspace(2, mag.shape[1] - 1, bands + 1).astype(int))
    E = np.stack([mag[:, a:b].sum(axis=1) for a, b in zip(edges[:-1], edges[1:])], axis=1)
    return np.log(E + 1e-6)


def spectro_similarity(A, B, max_lag=10):
    """Best cosine similarity of mean-removed signatures over small time offsets."""
    best = -1.0
    for lag in range(-max_lag, max_lag + 1):
        if lag >= 0:
            a, b = A[lag:], B
        else:
            a, b = A, B[-lag:]
        n = min(len(a), len(b))
        if n < 5:
            continue
        a, b = a[:n].ravel(), b[:n].ravel()
        best = max(best, ncc(a, b))
    return best


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        h.update(fh.read())
    return h.hexdigest()
