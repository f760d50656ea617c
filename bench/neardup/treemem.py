#!/usr/bin/env python3
"""Peak memory of a whole process tree.

    python3 treemem.py OUT.json -- command args...

Runs the command and every 100 ms sums RSS and PSS (from /proc/PID/smaps_rollup) over it and all its
descendants (the GNU `time` wrapper, if the command starts with it, is left out). Writes
{"peak_rss_kb", "peak_pss_kb", "peak_procs", "samples", "rc"} to OUT.json and exits with the command's code.
/usr/bin/time's %M is the peak of the largest single process; this is the peak of the sum, which is what
matters for a tool that runs several worker processes at once (datatrove). PSS splits pages shared after
fork() between the sharers, so the PSS sum does not count them twice; the RSS sum does.
"""
import json
import os
import subprocess
import sys
import time


def kids_of(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(x) for x in f.read().split())
    except OSError:
        pass
    return out


def tree(root):
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids_of(p))
    return out


def mem(pid):
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/comm") as f:
            if f.read().strip() == "time":
                return 0, 0, False
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        return 0, 0, False
    return rss, pss, True


def main():
    out = sys.argv[1]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    t0 = time.process_time()
    p = subprocess.Popen(cmd)
    peak_rss = peak_pss = peak_procs = samples = 0
    while p.poll() is None:
        rss = pss = n = 0
        for pid in tree(p.pid):
            r, s, ok = mem(pid)
            rss, pss, n = rss + r, pss + s, n + ok
        peak_rss, peak_pss, peak_procs = max(peak_rss, rss), max(peak_pss, pss), max(peak_procs, n)
        samples += 1
        time.sleep(0.1)
    with open(out, "w") as f:
        json.dump({"peak_rss_kb": peak_rss, "peak_pss_kb": peak_pss, "peak_procs": peak_procs,
                   "samples": samples, "rc": p.returncode,
                   "monitor_cpu_s": round(time.process_time() - t0, 3)}, f)
    sys.exit(p.returncode)


if __name__ == "__main__":
    main()
