"""B11 runs tiny against the test server (a few agents for a few seconds), so it never rots."""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import main
from tests.conftest import TestServer as PgServer


def test_b11_runs_counts_every_write_and_writes_json(pg: PgServer, tmp_path: Path) -> None:
    out = tmp_path / "b11.json"
    code = main(["--scale", "0.002", "--dsn", pg.dsn(), "--only", "B11", "--agents", "6",
                 "--seconds", "2", "--json", str(out)])  # fmt: skip
    rows = {row["id"]: row for row in json.loads(out.read_text())["rows"]}
    assert {"B11.exactly_once", "B11.write_p95", "B11.board_p95"} <= set(rows)
    detail = rows["B11.exactly_once"]["detail"]
    assert detail["sent"] == 6 and detail["stored"] == 6 and detail["stored_by_body"] == 6
    assert detail["lost"] == 0 and detail["duplicated"] == 0
    assert rows["B11.exactly_once"]["passed"] is True
    assert rows["B11.exactly_once"]["figure"] == 1.0
    assert rows["B11.write_p95"]["figure"] > 0 and rows["B11.write_p95"]["floor"] > 0
    assert detail["board_ms"]["n"] > 0
    assert code in (0, 1)
