#!/usr/bin/env python3
"""Reference agreement values for Strata's StrataLabels module, computed by the standard Python packages.

For each rating matrix below (rows = items, columns = annotators, values = category index, None = missing):
  - Cohen's kappa of every pair of annotators, over the items both rated: sklearn.metrics.cohen_kappa_score
  - Fleiss' kappa (only for matrices without missing ratings, as statsmodels requires):
    statsmodels.stats.inter_rater.fleiss_kappa(aggregate_raters(matrix)[0], method="fleiss")
  - Krippendorff's alpha, nominal, missing ratings allowed: krippendorff.alpha(level_of_measurement="nominal")
    on the transposed matrix (annotators x items, NaN for missing)
  - the same alpha for each category one-vs-rest (the matrix mapped to 1 = this category, 0 = another one)

Usage:
  python agreement_reference.py                 print the JSON to stdout
  python agreement_reference.py --write FILE    write it to FILE (how Tests/Fixtures/agreement-reference.json
                                                was made, with the versions pinned in requirements.txt)

The Swift test StrataLabelsTests.AgreementReferenceTests checks StrataLabels against the committed JSON;
StrataCLITests.AgreementPeerTests re-runs this script (when STRATA_PYTHON is set) and checks that the committed
numbers still come out of the packages.
"""
import importlib.metadata
import json
import sys
from itertools import combinations

import krippendorff
import numpy as np
import sklearn
import statsmodels
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

N = None


def seeded_matrix(seed, items, annotators, categories, missing, accuracy):
    """A matrix where each annotator gives the item's true category with probability `accuracy`."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(items):
        truth = int(rng.integers(categories))
        row = []
        for _ in range(annotators):
            if rng.random() < missing:
                row.append(None)
            elif rng.random() < accuracy:
                row.append(truth)
            else:
                row.append(int(rng.integers(categories)))
        out.append(row)
    return out


CASES = [
    # Three annotators, three categories, everyone rated everything.
    ("full-3x10", 3, [
        [0, 0, 0], [0, 0, 1], [1, 1, 1], [2, 2, 2], [1, 2, 1],
        [0, 1, 0], [2, 2, 1], [1, 1, 1], [0, 0, 0], [2, 0, 2],
    ]),
    # Krippendorff's textbook example (4 coders x 12 units, nominal, with missing values), categories 1..5 -> 0..4.
    ("krippendorff-textbook", 5, [
        [0, 0, N, 0], [1, 1, 2, 1], [2, 2, 2, 2], [2, 2, 2, 2], [1, 1, 1, 1], [0, 1, 2, 3],
        [3, 3, 3, 3], [0, 0, 1, 0], [1, 1, 1, 1], [N, 4, 4, 4], [N, N, 0, 0], [N, N, 2, N],
    ]),
    # Four annotators with gaps, two categories.
    ("binary-missing-4x12", 2, [
        [0, 0, N, 1], [1, 1, 1, N], [0, N, 0, 0], [1, 0, 1, 1], [N, 1, 1, 1], [0, 0, 0, 0],
        [1, 1, N, 0], [0, 1, 0, N], [N, N, 1, 1], [0, 0, 0, 1], [1, N, 1, 1], [0, 0, N, 0],
    ]),
    # Larger generated matrices (the values are committed; the generator only documents where they came from).
    ("generated-full-5x60", 4, seeded_matrix(7, 60, 5, 4, 0.0, 0.7)),
    ("generated-missing-6x80", 3, seeded_matrix(11, 80, 6, 3, 0.3, 0.6)),
]


def cohen_pairs(matrix):
    cols = list(zip(*matrix))
    out = []
    for a, b in combinations(range(len(cols)), 2):
        pairs = [(x, y) for x, y in zip(cols[a], cols[b]) if x is not None and y is not None]
        if not pairs:
            continue
        y1, y2 = zip(*pairs)
        if len(set(y1) | set(y2)) < 2:
            continue  # kappa undefined (chance agreement 1)
        out.append({"a": a, "b": b, "items": len(pairs), "kappa": float(cohen_kappa_score(y1, y2))})
    return out


def alpha(matrix):
    data = np.array([[np.nan if v is None else float(v) for v in row] for row in matrix]).T
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def case(name, categories, matrix):
    full = all(v is not None for row in matrix for v in row)
    fleiss = None
    if full:
        table, _ = aggregate_raters(np.array(matrix), n_cat=categories)
        fleiss = float(fleiss_kappa(table, method="fleiss"))
    per_category = []
    for c in range(categories):
        binary = [[None if v is None else int(v == c) for v in row] for row in matrix]
        used = {v for row in binary for v in row if v is not None}
        per_category.append(alpha(binary) if len(used) > 1 else None)
    return {
        "name": name,
        "categories": categories,
        "matrix": matrix,
        "cohen": cohen_pairs(matrix),
        "fleiss": fleiss,
        "alpha": alpha(matrix),
        "alpha_per_category": per_category,
    }


def main():
    doc = {
        "note": "Computed by Tests/python/agreement_reference.py; do not edit by hand.",
        "versions": {
            "scikit-learn": sklearn.__version__,
            "statsmodels": statsmodels.__version__,
            "krippendorff": importlib.metadata.version("krippendorff"),
            "numpy": np.__version__,
        },
        "cases": [case(*c) for c in CASES],
    }
    text = json.dumps(doc, indent=1, sort_keys=True) + "\n"
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        with open(sys.argv[2], "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
