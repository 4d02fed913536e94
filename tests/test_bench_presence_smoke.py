"""BP (presence) runs at a tiny scale against the test server, so it never rots."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg2

from bench.__main__ import main
from bench.dataset import dbname_for
from db.demo import DEFAULT_SEED
from tests.conftest import TestServer as PgServer


def test_bp_measures_every_presence_call_and_leaves_nothing_behind(
    pg: PgServer, tmp_path: Path
) -> None:
    out = tmp_path / "bp.json"
    args = ["--scale", "0.002", "--dsn", pg.dsn(), "--only", "BP", "--reps", "3"]
    code = main([*args, "--json", str(out)])
    rows = {row["id"]: row for row in json.loads(out.read_text())["rows"]}
    assert {"BP.others", "BP.announce", "BP.sweep"} <= set(rows)
    assert all(row["figure"] > 0 and row["floor"] > 0 for row in rows.values())
    assert code in (0, 1)  # MISS is a finding, not a crash
    conn = psycopg2.connect(pg.dsn(dbname_for(0.002, DEFAULT_SEED)))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM switchboard.presence")
            assert cur.fetchone()[0] == 0  # both sessions cleared on close
    finally:
        conn.close()
