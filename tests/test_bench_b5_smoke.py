"""B5 runs at a tiny scale against the test server, so it never rots (BENCHMARKS.md)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import main
from tests.conftest import TestServer as PgServer


def test_b5_runs_and_writes_json(pg: PgServer, tmp_path: Path) -> None:
    out = tmp_path / "b5.json"
    code = main(["--scale", "0.002", "--dsn", pg.dsn(), "--only", "B5", "--reps", "2",
                 "--json", str(out)])  # fmt: skip
    rows = {row["id"]: row for row in json.loads(out.read_text())["rows"]}
    assert {"B5.contact_first", "B5.account_first", "B5.account_pages", "B5.flat_with_depth",
            "B5.painted"} <= set(rows)  # fmt: skip
    assert rows["B5.account_first"]["detail"]["visible_first_page"] > 0
    assert all(row["figure"] > 0 for row in rows.values())
    assert code in (0, 1)
