"""B7 runs at a tiny size (a few clients, its own throwaway server), so it never rots."""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import main
from tests.conftest import TestServer as PgServer


def test_b7_measures_fanout_and_its_floors(pg: PgServer, tmp_path: Path) -> None:
    out = tmp_path / "b7.json"
    code = main(["--scale", "0.002", "--dsn", pg.dsn(), "--only", "B7", "--reps", "100",
                 "--json", str(out)])  # fmt: skip
    rows = {row["id"]: row for row in json.loads(out.read_text())["rows"]}
    assert set(rows) == {"B7.pingpong", "B7.c2.w10", "B7.c2.w50", "B7.c4.w10", "B7.c4.w50",
                         "B7.tps.c4", "B7.rate.c4.w50"}  # fmt: skip
    assert rows["B7.pingpong"]["figure"] > 0
    for key in ("B7.c2.w10", "B7.c4.w50"):
        detail = rows[key]["detail"]
        assert detail["lost"] == 0 and detail["received"]["n"] == detail["expected"]
        # a batch is never delivered before its notice arrived
        assert detail["delivered"]["p50"] >= detail["received"]["p50"]
    assert rows["B7.tps.c4"]["floor"] > 0 and rows["B7.tps.c4"]["figure"] > 0
    assert code in (0, 1)  # MISS is a finding, not a crash
