"""What the journal's SQLite ``synchronous`` setting costs per tracked cell.

    .venv/bin/python benchmarks/bench_journal_sync.py [--quick]

The outbox (``journal/outbox.py``) commits one transaction per cell to a WAL journal. With
``synchronous=NORMAL`` a commit only appends to the WAL; the WAL is synced at checkpoints, so a
power cut (not a killed process: the OS still has the pages) can lose the last commits but never
corrupts the journal. ``FULL`` syncs the WAL on every commit; ``OFF`` never syncs. Each line is
the median commit of one cell-sized transaction (3 ops of about 400 bytes), in a fresh journal
on the temp folder's disk.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

PAYLOAD = json.dumps({"metrics": {f"m{i}": i / 7 for i in range(12)}, "step": 0, "pad": "x" * 150})


def commit_times(folder: Path, mode: str, cells: int) -> list[float]:
    con = sqlite3.connect(folder / f"journal-{mode}.db", isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(f"PRAGMA synchronous={mode}")
    con.execute("CREATE TABLE ops (seq INTEGER PRIMARY KEY, run_key TEXT, kind TEXT, payload TEXT)")
    times = []
    for cell in range(cells):
        start = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        for kind in ("params", "metrics", "tags"):
            con.execute(
                "INSERT INTO ops (run_key, kind, payload) VALUES (?, ?, ?)",
                (f"run-{cell}", kind, PAYLOAD),
            )
        con.execute("COMMIT")
        times.append(time.perf_counter() - start)
    con.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    cells = 200 if args.quick else 1000
    with tempfile.TemporaryDirectory() as tmp:
        rows = {m: commit_times(Path(tmp), m, cells) for m in ("OFF", "NORMAL", "FULL")}
    base = statistics.median(rows["NORMAL"])
    print(f"journal commit per cell ({cells} cells, WAL)")
    print(f"{'synchronous':<12} {'median ms':>10} {'p95 ms':>8} {'vs NORMAL':>10}")
    for mode, times in rows.items():
        med = statistics.median(times)
        p95 = sorted(times)[int(len(times) * 0.95)]
        print(f"{mode:<12} {med * 1000:>10.3f} {p95 * 1000:>8.3f} {med / base:>9.1f}x")


if __name__ == "__main__":
    from figures import quiet

    quiet()
    main()
