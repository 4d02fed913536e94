"""B6 pipeline_board: the board of every open deal a rep may see (20k at scale 1) and a move.

Board load: `pipeline.board()` through peewee as a rep under RLS (pipelines, stages, the
per-stage aggregate and the LATERAL top-N cards) against its floor, the same aggregate plus the
same LATERAL top-N (`pipeline.AGGREGATE_SQL`, `pipeline.CARDS_SQL`) on a raw psycopg2
connection as the same rep. Also "my team" and "mine". Move: `deals.move_stage()` one stage
forward and back (version-checked, trigger and audit included) against the same UPDATE raw.
"""

from __future__ import annotations

from bench.common import Row, installer_cursor, measure_pair
from bench.dataset import Dataset
from db import connection
from db.connection import database
from db.services import deals, pipeline
from db.services.pipeline import Filters


def a_deal_of(installer_dsn: str, schema: str, rep: str) -> tuple[int, int]:
    """An open deal the rep owns in the first stage (or any open stage), and its version."""
    with installer_cursor(installer_dsn, schema) as cur:
        cur.execute(
            "SELECT o.id, o.version FROM opportunity o JOIN stage s ON s.id = o.stage_id "
            "JOIN app_user u ON u.id = o.owner_id WHERE u.username = %s AND NOT o.is_closed "
            "AND o.deleted_at IS NULL AND s.position < 4 ORDER BY s.position, o.id LIMIT 1",
            (rep,),
        )
        row = cur.fetchone()
    if row is None:
        raise RuntimeError(f"{rep} owns no open deal to move")
    return row


def run(ds: Dataset, reps: int = 50) -> list[Row]:
    connection.configure(ds.user_dsn, ds.schema)
    raw = connection.raw_connect(ds.user_dsn, ds.schema)
    raw.autocommit = True
    cur = raw.cursor()
    deal_id, version = a_deal_of(ds.installer_dsn, ds.schema, ds.rep)
    rows: list[Row] = []
    try:
        with database.connection_context():
            pipe = pipeline.pipelines()[0]
            stage_ids = [s.id for s in pipeline.stages(pipe.id) if s.is_open]
            for scope in ("all", "team", "mine"):
                filters = Filters(scope=scope)
                owners = pipeline._owners(scope)
                params = pipeline.params(filters, stage_ids, owners)

                def floor(params: dict = params) -> None:
                    cur.execute(pipeline.AGGREGATE_SQL, params)
                    cur.fetchall()
                    cur.execute(pipeline.CARDS_SQL, params)
                    cur.fetchall()

                board = pipeline.board(filters)
                s, base = measure_pair(lambda f=filters: pipeline.board(f), floor, reps)
                shown = sum(len(c.cards) for c in board.columns)
                rows.append(Row(
                    f"B6.board_{scope}",
                    f"board, {pipeline.SCOPE_WORDS[scope]}: {board.count:,} open deals, "
                    f"{shown} cards",
                    s.p95, base.p95, "ms", "p95 <= 150 ms", s.p95 <= 150.0,
                    {"service": s.as_dict(), "floor": base.as_dict(), "user": ds.rep,
                     "open_deals": board.count, "cards": shown}))  # fmt: skip
            cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + pipeline.AGGREGATE_SQL,
                        pipeline.params(Filters(), stage_ids, None))  # fmt: skip
            aggregate_ms = cur.fetchone()[0][0]["Execution Time"]

            state = {"version": version, "dir": 1}

            def move() -> None:
                moved = deals.move_stage(deal_id, state["dir"], state["version"])
                state["version"], state["dir"] = moved.version, -state["dir"]

            def raw_move() -> None:
                cur.execute("BEGIN")
                cur.execute(deals._MOVE, {"id": deal_id, "version": state["version"],
                                          "dir": state["dir"]})  # fmt: skip
                state["version"] = cur.fetchone()[0]
                cur.execute("COMMIT")
                state["dir"] = -state["dir"]

            s, base = measure_pair(move, raw_move, reps)
        rows.append(Row("B6.move", "move a deal one stage (forward, back), version-checked",
                        s.p95, base.p95, "ms", "p95 <= 20 ms", s.p95 <= 20.0,
                        {"service": s.as_dict(), "floor": base.as_dict(), "deal": deal_id,
                         "aggregate_explain_ms": aggregate_ms}))  # fmt: skip
    finally:
        raw.close()
        database.close_all()
    return rows
