"""`python -m bench [--scale F] [--only B4,B9] [--json PATH] [--dsn SUPERUSER_DSN]`.

Loads (or reuses) the dataset at --scale, runs the selected benchmarks as a rep of the demo
data, prints one row per figure (figure, floor, ratio, target, PASS/MISS) and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import psycopg2

from bench import (
    b1_caller_lookup,
    b2_fuzzy_search,
    b4_account_tree,
    b5_timeline,
    b6_pipeline_board,
    b7_live_fanout,
    b9_cold_start,
    b11_agents_under_load,
    b12_audit,
    b16_forecast,
    bp_presence,
)
from bench.common import Row, table
from bench.dataset import Dataset, prepare
from db import demo

BENCHMARKS: dict[str, tuple[str, Callable[[Dataset, int], list[Row]], int]] = {
    "B1": ("caller_lookup", b1_caller_lookup.run, 200),
    "B2": ("fuzzy_search", b2_fuzzy_search.run, 200),
    "B4": ("account_tree", b4_account_tree.run, 50),
    # 200: the p95 of 50 samples is their third-worst, so one hiccup of a shared VM decides it.
    "B5": ("timeline", b5_timeline.run, 200),
    "B6": ("pipeline_board", b6_pipeline_board.run, 100),
    # reps: writes per configuration at 100 writes/s (500: 5 s each); runs on its own server
    "B7": ("live_fanout", b7_live_fanout.run, 500),
    "B9": ("cold_start", b9_cold_start.run, 10),
    # 200 agents x one call per 2 s for 60 s (--agents, --seconds make it smaller)
    "B11": ("agents_under_load", b11_agents_under_load.run, 0),
    # adds the dataset's audit log (2M entries at 1.0) the first time it runs on it
    "B12": ("audit_log", b12_audit.run, 200),
    # presence (issue 11 part 2): not in BENCHMARKS.md; what a record screen pays per call
    "BP": ("presence", bp_presence.run, 200),
    "B16": ("forecast_kpis", b16_forecast.run, 50),
}


def machine(ds: Dataset) -> dict:
    conn = psycopg2.connect(ds.installer_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            server_version = cur.fetchone()[0]
    finally:
        conn.close()
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {"cores": os.cpu_count(), "memory_gib": round(mem_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "postgresql": server_version,
            "platform": platform.platform()}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
    parser.add_argument("--only", help="comma-separated ids, e.g. B4,B9 (default: all)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--dsn", help="superuser DSN of a server to use instead of the bench's")
    parser.add_argument("--reps", type=int, help="repetitions (default: 50 lookups, 10 starts)")
    parser.add_argument("--agents", type=int,
                        help="B11: simulated agents (default 200; 2 x --reps when given)")
    parser.add_argument("--seconds", type=float,
                        help="B11: how long they log calls (default 60; 2 when --reps is given)")
    args = parser.parse_args(argv)
    selected = [s.strip().upper() for s in (args.only or ",".join(BENCHMARKS)).split(",") if s]
    unknown = [s for s in selected if s not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    ds = prepare(args.scale, args.seed, args.dsn, progress=lambda m: print(m, file=sys.stderr))
    rows: list[Row] = []
    # B9 first: it spawns its apps from a pseudo-terminal fork of this process, and a child's
    # peak RSS counts the parent's pages it held before exec. After B5 (which loads the app
    # in-process) even the bare app measured 48 MB instead of 33.
    selected.sort(key=lambda k: k != "B9")
    for key in selected:
        name, run, reps = BENCHMARKS[key]
        print(f"running {key} {name} ...", file=sys.stderr)
        if key == "B11":
            # --reps alone (the smoke tests) makes it tiny: 2 x reps agents for 2 s.
            tiny = args.reps is not None
            rows.extend(run(ds, args.reps or reps,
                            agents=args.agents or (max(2, 2 * args.reps) if tiny else 200),
                            seconds=args.seconds or (2.0 if tiny else 60.0)))  # fmt: skip
            continue
        rows.extend(run(ds, args.reps or reps))
    print(table(rows))
    if args.json:
        report = {
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "scale": args.scale,
            "seed": args.seed, "user": ds.rep, "load_seconds": ds.load_seconds,
            "machine": machine(ds), "rows": [r.as_json() for r in rows],
        }  # fmt: skip
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return 0 if all(r.passed is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
