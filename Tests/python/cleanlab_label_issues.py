"""Reference label issues: cleanlab.filter.find_label_issues with its defaults.

usage: python cleanlab_label_issues.py PROBS.npy LABELS.npy
Prints the indices of flagged samples, one per line, ascending.
"""
import sys

import numpy as np
from cleanlab.filter import find_label_issues

probs = np.load(sys.argv[1])
labels = np.load(sys.argv[2])
mask = find_label_issues(labels=labels, pred_probs=probs)
sys.stdout.write("".join(f"{i}\n" for i in np.flatnonzero(mask)))
