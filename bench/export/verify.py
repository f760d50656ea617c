"""Checks that Strata's file and pyarrow's hold the same table (every value)."""
import sys
import pyarrow.parquet as pq
a, b = pq.read_table(sys.argv[1]), pq.read_table(sys.argv[2])
assert a.num_rows == b.num_rows, (a.num_rows, b.num_rows)
for name in b.column_names:
    assert a.column(name).to_pylist() == b.column(name).to_pylist(), name
print("same table:", a.num_rows, "rows")
