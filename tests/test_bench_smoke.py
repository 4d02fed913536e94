"""Every benchmark runs at a tiny scale against the test server, so none rots (BENCHMARKS.md)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import main
from tests.conftest import TestServer as PgServer


def test_bench_runs_b4_and_b9_and_writes_json(pg: PgServer, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    code = main(["--scale", "0.002", "--dsn", pg.dsn(), "--reps", "2", "--json", str(out)])
    report = json.loads(out.read_text())
    ids = {row["id"] for row in report["rows"]}
    assert {"B4.expand", "B4.reveal", "B4.rollup", "B4.visible_only", "B9.cold_start",
            "B9.idle_rss"} <= ids  # fmt: skip
    assert report["machine"]["postgresql"]
    by_id = {row["id"]: row for row in report["rows"]}
    assert by_id["B4.visible_only"]["passed"] is True
    assert "6 levels" in by_id["B4.reveal"]["what"]
    for row in report["rows"]:
        assert row["figure"] > 0 or row["id"] == "B4.visible_only"
    assert code in (0, 1)  # MISS is a finding, not a crash; on a busy machine starts are slow
