"""The peer: cleanlab.filter.find_label_issues with its defaults, as a user runs it on arrays saved with numpy.

usage: python run_cleanlab.py PROBS.npy LABELS.npy OUT.txt
Writes the flagged indices (ascending) to OUT.txt; prints the time of each phase to stderr.
"""
import sys
import time

t0 = time.perf_counter()
import numpy as np
from cleanlab.filter import find_label_issues

t1 = time.perf_counter()
probs = np.load(sys.argv[1])
labels = np.load(sys.argv[2])
t2 = time.perf_counter()
mask = find_label_issues(labels=labels, pred_probs=probs)
t3 = time.perf_counter()
with open(sys.argv[3], "w") as f:
    f.write("".join(f"{i}\n" for i in np.flatnonzero(mask)))
sys.stderr.write(f"import {t1 - t0:.3f} s read {t2 - t1:.3f} s compute {t3 - t2:.3f} s flagged {int(mask.sum())}\n")
