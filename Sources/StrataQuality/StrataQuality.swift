// StrataQuality: pure algorithms.
