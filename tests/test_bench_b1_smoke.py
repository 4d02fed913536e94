"""B1 runs at a tiny scale against the test server, so it never rots (BENCHMARKS.md)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import main
from tests.conftest import TestServer as PgServer


def test_b1_runs_and_writes_json(pg: PgServer, tmp_path: Path) -> None:
    out = tmp_path / "b1.json"
    code = main(["--scale", "0.002", "--dsn", pg.dsn(), "--only", "B1", "--reps", "2",
                 "--json", str(out)])  # fmt: skip
    rows = {row["id"]: row for row in json.loads(out.read_text())["rows"]}
    assert {"B1.lookup_data", "B1.painted"} <= set(rows)
    detail = rows["B1.lookup_data"]["detail"]
    assert detail["round_trips"] <= 2 and detail["results"]["card"] > 0
    assert all(row["figure"] > 0 for row in rows.values())
    assert code in (0, 1)
