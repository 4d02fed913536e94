"""B16 runs at a tiny scale against the test server, so it never rots (BENCHMARKS.md)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import main
from tests.conftest import TestServer as PgServer


def test_b16_measures_forecast_and_kpis_as_manager_and_rep(pg: PgServer, tmp_path: Path) -> None:
    out = tmp_path / "b16.json"
    code = main(["--scale", "0.002", "--dsn", pg.dsn(), "--only", "B16", "--reps", "2",
                 "--json", str(out)])  # fmt: skip
    rows = {row["id"]: row for row in json.loads(out.read_text())["rows"]}
    assert set(rows) == {f"B16.{v}.{who}" for v in ("forecast_month", "forecast_quarter",
                                                    "kpis_quarter") for who in ("manager", "rep")}
    assert all(row["figure"] > 0 and row["floor"] > 0 for row in rows.values())
    assert code in (0, 1)  # MISS is a finding, not a crash
