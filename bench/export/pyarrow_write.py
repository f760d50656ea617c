"""Loads the JSONL table into memory with pyarrow, then times pq.write_table alone."""
import json, sys, time
import pyarrow as pa, pyarrow.json as pj, pyarrow.parquet as pq

src, out, codec = sys.argv[1], sys.argv[2], sys.argv[3]
schema = pa.schema([("id", pa.string()), ("content", pa.string()), ("label", pa.string()), ("split", pa.string()),
                    ("origin", pa.string()), ("metadata", pa.string())])
table = pj.read_json(src, parse_options=pj.ParseOptions(explicit_schema=schema))
kw = {"compression": codec}
if codec == "zstd":
    kw["compression_level"] = 1
def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0
# Peak memory is measured for the write alone: reset the kernel's high-water mark, note the RSS now.
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = status("VmRSS")
start, cpu_start = time.perf_counter(), time.process_time()
pq.write_table(table, out, **kw)
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
import os
print(json.dumps({"rows": table.num_rows, "bytes": os.path.getsize(out), "write_seconds": seconds, "write_cpu_seconds": cpu,
                  "rss_before_kib": before, "peak_during_write_kib": status("VmHWM")}))
