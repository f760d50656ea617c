#!/usr/bin/env python3
"""Pins the benchmark's scoring rules (evaluate.score_core) on a tiny hand-made truth.

    python3 -m unittest bench/curation/test_scoring.py
"""
import sys, unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate import score_core, set_param

TRUTH = [
    {"item": "a", "label": "x", "kind": "good", "of": None},
    {"item": "b", "label": "x", "kind": "good", "of": None},
    {"item": "c", "label": "y", "kind": "good", "of": None},
    {"item": "d", "label": "y", "kind": "good", "of": None},
    {"item": "a1", "label": "x", "kind": "near_duplicate", "of": "a"},
    {"item": "a2", "label": "x", "kind": "exact_duplicate", "of": "a"},
    {"item": "c1", "label": "y", "kind": "near_duplicate", "of": "c"},
    {"item": "z", "label": "y", "kind": "blank_image", "of": None},
]
NATURAL = [{"a": "c", "b": "d"}]


class ScoringTests(unittest.TestCase):
    def test_nothing_found(self):
        s = score_core(TRUTH, NATURAL, {}, [])
        self.assertEqual((s["false_removals"], s["good"]), (0, 4))
        self.assertEqual((s["near"]["planted"], s["near"]["found"], s["near"]["precision"]), (2, 0, None))
        self.assertEqual(s["defects"]["blank_image"], {"n": 1, "caught": 0, "recall": 0.0, "reasons": {}})

    def test_original_removed_for_its_own_copy_is_not_a_false_removal(self):
        removed = {"a": ("duplicate", "near-duplicate", "near-dups", "a1")}
        s = score_core(TRUTH, NATURAL, removed, [("a", "a1", "near-dups", "near-duplicate")])
        self.assertEqual(s["false_removals"], 0)
        self.assertEqual((s["near"]["true_pairs"], s["near"]["found"], s["near"]["precision"]), (1, 1, 1.0))

    def test_natural_pair_counts_neither_way(self):
        removed = {"d": ("duplicate", "near-duplicate", "near-dups", "c")}
        s = score_core(TRUTH, NATURAL, removed, [("d", "c", "near-dups", "near-duplicate")])
        self.assertEqual(s["false_removals"], 0)
        self.assertEqual((s["near"]["true_pairs"], s["near"]["false_pairs"], s["near"]["natural_pairs"]), (0, 0, 1))

    def test_unrelated_merge_is_a_false_removal_and_a_false_pair(self):
        removed = {"b": ("duplicate", "near-duplicate", "near-dups", "a")}
        s = score_core(TRUTH, NATURAL, removed, [("b", "a", "near-dups", "near-duplicate")])
        self.assertEqual((s["false_removals"], s["worst_label"], s["worst_label_loss"]), (1, "x", 0.5))
        self.assertEqual((s["near"]["false_pairs"], s["near"]["precision"]), (1, 0.0))

    def test_siblings_of_an_unrelated_kept_item_are_not_found(self):
        # a and a1 both removed in favour of b: one false group; a1 is not linked to a directly
        removed = {"a": ("duplicate", "near-duplicate", "near-dups", "b"),
                   "a1": ("duplicate", "near-duplicate", "near-dups", "b")}
        edges = [("a", "b", "near-dups", "near-duplicate"), ("a1", "b", "near-dups", "near-duplicate")]
        s = score_core(TRUTH, NATURAL, removed, edges)
        self.assertEqual((s["near"]["found"], s["near"]["false_pairs"], s["false_removals"]), (0, 2, 1))

    def test_ingest_pairs_link_but_are_not_scored_for_precision(self):
        removed = {"a2": ("duplicate", "duplicate", "ingest", "a")}
        s = score_core(TRUTH, NATURAL, removed, [("a2", "a", "ingest", "duplicate")])
        self.assertEqual(s["defects"]["exact_duplicate"]["caught"], 1)
        self.assertEqual(s["near"]["pairs_reported"], 0)

    def test_quarantined_good_item_and_caught_defect(self):
        removed = {"c": ("quarantine", "too-small", "quality", None), "z": ("quarantine", "near-uniform", "quality", None)}
        s = score_core(TRUTH, NATURAL, removed, [])
        self.assertEqual(s["false_removal_reasons"], {"too-small@quality": 1})
        self.assertEqual(s["defects"]["blank_image"], {"n": 1, "caught": 1, "recall": 1.0,
                                                       "reasons": {"near-uniform": 1}})

    def test_set_param_replaces_or_adds_a_key(self):
        pipe = "  - name: quality\n    uses: filter.quality\n    params: {image_min_width: 32, audio_min_seconds: 0.3}\n"
        self.assertEqual(set_param(pipe, "filter.quality", "image_min_width", "100000"),
                         "  - name: quality\n    uses: filter.quality\n"
                         "    params: {image_min_width: 100000, audio_min_seconds: 0.3}\n")
        self.assertEqual(set_param(pipe, "filter.quality", "min_words", "9"),
                         "  - name: quality\n    uses: filter.quality\n"
                         "    params: {min_words: 9, image_min_width: 32, audio_min_seconds: 0.3}\n")
        with self.assertRaises(RuntimeError):
            set_param(pipe, "dedup.near", "threshold", "0.1")


if __name__ == "__main__":
    unittest.main()
