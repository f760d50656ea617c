#!/usr/bin/env python3
"""datatrove peer: its 4-stage MinHash deduplication (signatures, buckets, cluster, filter).

    python run_datatrove.py run   INPUT_DIR WORK_DIR [TASKS=2] [WORKERS=2]   (timed)
    python run_datatrove.py pairs WORK_DIR OUT.tsv                            (untimed: removed_id <TAB> kept_id)

INPUT_DIR holds the corpus split into TASKS JSONL shards (run.sh writes them once, before timing:
datatrove gives each task whole files, so one file would leave the second worker idle).

Config (datatrove 0.10.1 defaults except the bucket count, raised from 14 to 16 so that it uses 128 hashes like
the other two): MinhashConfig(n_grams=5, num_buckets=16, hashes_per_bucket=8, seed=1), 64-bit xxhash
(HashConfig default), default TextNormConfig, English word tokenizer (spaCy, the default for
Languages.english). 16x8 bands put the LSH S-curve's midpoint at (1/16)^(1/8) = 0.71; datatrove does not
re-check candidate pairs, so every bucket collision is a duplicate.

Executors: LocalPipelineExecutor with start_method="fork" (the default "forkserver" puts workers outside
/usr/bin/time's accounting). Stage 1: TASKS tasks on WORKERS workers; stage 2: one task per bucket (16) on
WORKERS workers; stage 3: 1 task; stage 4: TASKS tasks on WORKERS workers, writing the kept documents
(output/) and the removed ones (removed/), with minhash_cluster_id in their metadata so that `pairs` can name
the kept document of each removed one (save_cluster_id / load_cluster_ids: two small extra files).
"""
import glob
import gzip
import json
import os
import sys


def run(input_dir, work, tasks, workers):
    from datatrove.executor.local import LocalPipelineExecutor
    from datatrove.pipeline.dedup import MinhashDedupSignature
    from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                                  MinhashDedupFilter)
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers.jsonl import JsonlWriter
    from datatrove.utils.hashing import HashConfig
    from datatrove.utils.typeshelper import Languages

    cfg = MinhashConfig(n_grams=5, num_buckets=16, hashes_per_bucket=8, seed=1,
                        hash_config=HashConfig(precision=64))
    logs = os.path.join(work, "logs")
    common = dict(start_method="fork", skip_completed=False)
    stage1 = LocalPipelineExecutor(
        pipeline=[JsonlReader(input_dir, text_key="text", id_key="id"),
                  MinhashDedupSignature(output_folder=f"{work}/signatures", config=cfg, language=Languages.english)],
        tasks=tasks, workers=workers, logging_dir=f"{logs}/signatures", **common)
    stage2 = LocalPipelineExecutor(
        pipeline=[MinhashDedupBuckets(input_folder=f"{work}/signatures", output_folder=f"{work}/buckets", config=cfg)],
        tasks=cfg.num_buckets, workers=workers, logging_dir=f"{logs}/buckets", **common)
    stage3 = LocalPipelineExecutor(
        pipeline=[MinhashDedupCluster(input_folder=f"{work}/buckets", output_folder=f"{work}/remove_ids",
                                      config=cfg, save_cluster_id=True)],
        tasks=1, workers=1, logging_dir=f"{logs}/clusters", **common)
    stage4 = LocalPipelineExecutor(
        pipeline=[JsonlReader(input_dir, text_key="text", id_key="id"),
                  MinhashDedupFilter(input_folder=f"{work}/remove_ids", load_cluster_ids=True,
                                     exclusion_writer=JsonlWriter(f"{work}/removed")),
                  JsonlWriter(f"{work}/output")],
        tasks=tasks, workers=workers, logging_dir=f"{logs}/filter", **common)
    for st in (stage1, stage2, stage3, stage4):
        st.run()


def read_docs(folder):
    for p in sorted(glob.glob(os.path.join(folder, "*.jsonl*"))):
        op = gzip.open if p.endswith(".gz") else open
        with op(p, "rt", encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)


def pairs(work, out):
    # kept document of each cluster: the one (node == root) that stage 4 forwarded
    kept_of = {}
    for d in read_docs(os.path.join(work, "output")):
        c = d.get("metadata", {}).get("minhash_cluster_id", -1)
        if c != -1:
            kept_of[c] = d["id"]
    n = 0
    with open(out, "w") as f:
        for d in read_docs(os.path.join(work, "removed")):
            c = d.get("metadata", {}).get("minhash_cluster_id", -1)
            f.write(f"{d['id']}\t{kept_of.get(c, '')}\n")
            n += 1
    print(json.dumps({"tool": "datatrove", "removed": n, "clusters": len(kept_of)}))


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 2,
            int(sys.argv[5]) if len(sys.argv) > 5 else 2)
    elif sys.argv[1] == "pairs":
        pairs(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: run_datatrove.py run INPUT_DIR WORK_DIR [TASKS] [WORKERS] | pairs WORK_DIR OUT.tsv")
