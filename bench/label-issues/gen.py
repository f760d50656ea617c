"""Generates the label-issue benchmark data: N samples x K classes of out-of-sample-like predicted probabilities,
with a known share of labels flipped to another class.

usage: python gen.py OUT_DIR [N] [K] [FLIP_RATE] [SEED]
Writes probs.npy (float64, N x K), labels.npy (int64, given labels), flipped.npy (bool, the injected flips).
"""
import os
import sys

import numpy as np

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
k = int(sys.argv[3]) if len(sys.argv) > 3 else 10
flip_rate = float(sys.argv[4]) if len(sys.argv) > 4 else 0.1
seed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
rng = np.random.default_rng(seed)

truth = rng.integers(0, k, n)
# Logits: noise, plus a boost for the true class that varies per sample (hard and easy samples); 15% of samples
# get a second, confusing class boosted too, so the model is not always right.
logits = rng.normal(0.0, 1.0, (n, k))
logits[np.arange(n), truth] += rng.gamma(4.0, 0.8, n)
confused = rng.random(n) < 0.15
other = (truth + rng.integers(1, k, n)) % k
logits[np.arange(n)[confused], other[confused]] += rng.gamma(3.0, 0.8, confused.sum())
logits -= logits.max(axis=1, keepdims=True)
probs = np.exp(logits)
probs /= probs.sum(axis=1, keepdims=True)

flipped = rng.random(n) < flip_rate
labels = truth.copy()
labels[flipped] = (truth[flipped] + rng.integers(1, k, flipped.sum())) % k

os.makedirs(out, exist_ok=True)
np.save(os.path.join(out, "probs.npy"), probs.astype(np.float64))
np.save(os.path.join(out, "labels.npy"), labels.astype(np.int64))
np.save(os.path.join(out, "flipped.npy"), flipped)
print(f"{n} samples x {k} classes, {flipped.sum()} flipped labels, model accuracy {np.mean(probs.argmax(1) == truth):.3f}")
