"""B16 forecast and KPIs: the forecast of a month and of a quarter, and the KPI view of a
quarter, as the top sales manager (everyone under Global Sales, recursively) and as a rep.
Service calls (db/services/forecast.py, kpis.py through peewee, plus the rollup in Python)
against a floor measured in the same run: the same SQL on a raw psycopg2 connection as the
same person. Target: as the pipeline board, p95 <= 150 ms.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from psycopg2.extensions import make_dsn, parse_dsn

from bench.common import Row, installer_cursor, measure_pair
from bench.dataset import Dataset
from db import connection
from db.connection import database
from db.services import forecast as fc
from db.services import kpis
from db.services.periods import Period

TARGET_MS = 150.0


def top_manager(installer_dsn: str, schema: str) -> str:
    """The manager of the root team with the most people under it."""
    with installer_cursor(installer_dsn, schema) as cur:
        cur.execute(
            "SELECT u.username FROM team t JOIN app_user u ON u.id = t.manager_id "
            "WHERE t.parent_id IS NULL AND t.deleted_at IS NULL AND u.active "
            "ORDER BY (SELECT count(*) FROM team c WHERE c.parent_id = t.id) DESC, t.id LIMIT 1"
        )
        row = cur.fetchone()
    if row is None:
        raise RuntimeError("the dataset has no manager of a root team")
    return row[0]


def _dsn(user_dsn: str, user: str) -> str:
    params = parse_dsn(user_dsn)
    params["user"] = user
    return make_dsn(**params)


def _anchor(installer_dsn: str, schema: str) -> date:
    """The dataset's today: its open deals close from that day on (the demo's anchor)."""
    with installer_cursor(installer_dsn, schema) as cur:
        cur.execute("SELECT min(expected_close) FROM opportunity WHERE NOT is_closed")
        row = cur.fetchone()
    return row[0] if row and row[0] else date.today()


def run(ds: Dataset, reps: int = 50) -> list[Row]:
    day = _anchor(ds.installer_dsn, ds.schema)
    month, quarter = Period.containing(day, "month"), Period.containing(day, "quarter")
    rows: list[Row] = []
    for who, user in (("manager", top_manager(ds.installer_dsn, ds.schema)), ("rep", ds.rep)):
        rows += _as(ds, who, user, month, quarter, reps)
    return rows


def _as(ds: Dataset, who: str, user: str, month: Period, quarter: Period,
        reps: int) -> list[Row]:  # fmt: skip
    dsn = _dsn(ds.user_dsn, user)
    connection.configure(dsn, ds.schema)
    raw = connection.raw_connect(dsn, ds.schema)
    raw.autocommit = True
    cur = raw.cursor()

    def forecast_floor(p: Period) -> Callable[[], None]:
        def query() -> None:
            cur.execute("SELECT sec_is_admin(), coalesce(sec_hier_user_ids(), '{}')")
            admin, ids = cur.fetchone()
            cur.execute(fc._SQL, {"kind": p.kind, "start": p.start, "end": p.end,
                                  "all": admin, "ids": list(ids)})  # fmt: skip
            cur.fetchall()

        return query

    def kpi_floor(p: Period) -> Callable[[], None]:
        def query() -> None:
            cur.execute("SELECT sec_is_admin(), coalesce(sec_hier_user_ids(), '{}')")
            admin, ids = cur.fetchone()
            cur.execute(kpis._SQL, {**kpis._params(p, "EUR", None), "all": admin,
                                    "ids": list(ids)})  # fmt: skip
            cur.fetchall()

        return query

    rows: list[Row] = []
    try:
        with database.connection_context():
            people = len([r for r in fc.forecast(quarter).rows if r.kind == "person"])
            cases = [
                (f"B16.forecast_month.{who}", f"forecast {month.label}, {people} people",
                 lambda: fc.forecast(month), forecast_floor(month)),
                (f"B16.forecast_quarter.{who}", f"forecast {quarter.label}",
                 lambda: fc.forecast(quarter), forecast_floor(quarter)),
                (f"B16.kpis_quarter.{who}", f"KPIs {quarter.label} (all figures)",
                 lambda: kpis.kpis(quarter, "EUR"), kpi_floor(quarter)),
            ]  # fmt: skip
            for rid, what, service, base in cases:
                stats, raw_stats = measure_pair(service, base, reps)
                rows.append(Row(rid, what, stats.p95, raw_stats.p95, "ms",
                                f"p95 <= {TARGET_MS:g} ms", stats.p95 <= TARGET_MS,
                                {"service": stats.as_dict(), "floor": raw_stats.as_dict(),
                                 "user": user}))  # fmt: skip
    finally:
        raw.close()
        database.close_all()
    return rows
