"""imagededup side of the benchmark: encode every image with one hash method and find duplicates.

    python run_imagededup.py phash|dhash IMAGE_DIR MAX_DISTANCE OUT_JSON

Writes {"pairs": [[a, b], ...], "seconds_encode": ..., "seconds_find": ...} (pairs as reported by
find_duplicates, each unordered pair once). The library's defaults are used otherwise (parallel encoding over all
cores, the default search method).
"""
import json
import sys
import time

from imagededup.methods import DHash, PHash

method, image_dir, max_distance, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
hasher = PHash() if method == "phash" else DHash()
t0 = time.perf_counter()
encodings = hasher.encode_images(image_dir=image_dir)
t1 = time.perf_counter()
duplicates = hasher.find_duplicates(encoding_map=encodings, max_distance_threshold=max_distance)
t2 = time.perf_counter()
pairs = sorted({tuple(sorted((a, b))) for a, found in duplicates.items() for b in found})
json.dump({"pairs": pairs, "seconds_encode": t1 - t0, "seconds_find": t2 - t1, "encoded": len(encodings)}, open(out, "w"))
print("%s: %d encoded in %.1f s, %d pairs in %.1f s" % (method, len(encodings), t1 - t0, len(pairs), t2 - t1), file=sys.stderr)
