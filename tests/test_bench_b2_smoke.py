"""B2 runs at a tiny scale against the test server, so it never rots (BENCHMARKS.md)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import main
from bench.b2_fuzzy_search import typo
from tests.conftest import TestServer as PgServer


def test_typos_are_deterministic_single_edits():
    assert typo("Anders Andersson", 0) == "Anders Adersson"
    assert typo("Anders Andersson", 1) == "Anders Anddersson"
    assert typo("Anders Andersson", 2) == "Anders Andresson"
    assert typo("Li Wu", 5) == "Li Wu"  # too short to break


def test_b2_runs_and_writes_json(pg: PgServer, tmp_path: Path) -> None:
    out = tmp_path / "b2.json"
    code = main(["--scale", "0.002", "--dsn", pg.dsn(), "--only", "B2", "--reps", "6",
                 "--json", str(out)])  # fmt: skip
    rows = {row["id"]: row for row in json.loads(out.read_text())["rows"]}
    assert {"B2.query", "B2.query_all_kinds", "B2.phone", "B2.tree_filter_letter",
            "B2.tree_filter_2", "B2.painted"} <= set(rows)  # fmt: skip
    assert rows["B2.query"]["detail"]["found_of_first_50"] > 0
    assert rows["B2.painted"]["detail"]["stale_paints_after_last_key"] == 0
    assert all(row["figure"] > 0 for row in rows.values())
    assert code in (0, 1)
