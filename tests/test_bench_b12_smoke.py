"""B12 runs at a tiny scale against the test server, so it never rots (BENCHMARKS.md)."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg2

from bench import audit_data
from bench.__main__ import main
from bench.dataset import dbname_for
from db.demo import DEFAULT_SEED
from tests.conftest import TestServer as PgServer


def test_b12_adds_the_audit_log_once_and_writes_json(pg: PgServer, tmp_path: Path) -> None:
    out = tmp_path / "b12.json"
    args = ["--scale", "0.002", "--dsn", pg.dsn(), "--only", "B12", "--reps", "2"]
    code = main([*args, "--json", str(out)])
    rows = {row["id"]: row for row in json.loads(out.read_text())["rows"]}
    assert set(rows) == {"B12.first_page", "B12.next_pages", "B12.middle_page", "B12.by_table",
                         "B12.by_person"}  # fmt: skip
    assert all(row["figure"] > 0 and row["floor"] > 0 for row in rows.values())
    assert code in (0, 1)  # MISS is a finding, not a crash
    conn = psycopg2.connect(pg.dsn(dbname_for(0.002, DEFAULT_SEED)))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*), count(DISTINCT table_name), count(DISTINCT actor) "
                        "FROM switchboard.audit_log")  # fmt: skip
            entries, tables, actors = cur.fetchone()
    finally:
        conn.close()
    # the 7 tables B12 writes, and the stages' rotting periods that 0015 set
    assert entries >= audit_data.target_rows(0.002) and tables >= 7 and actors > 1
    main(args)  # a second run adds nothing
    conn = psycopg2.connect(pg.dsn(dbname_for(0.002, DEFAULT_SEED)))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM switchboard.audit_log")
            assert cur.fetchone()[0] == entries
    finally:
        conn.close()
