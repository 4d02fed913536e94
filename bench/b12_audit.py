"""B12 audit_log: the admin audit screen's first page and next pages over a log of millions of
entries, as an admin. Service calls (db/services/history.py, peewee) against a floor measured
in the same run: the same SQL (history.audit_query) on a raw psycopg2 connection as the same
admin. Adds the dataset's audit log first if it has none (bench/audit_data.py).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from itertools import count

from psycopg2.extensions import make_dsn, parse_dsn

from bench import audit_data
from bench.common import Row, installer_cursor, measure_pair
from bench.dataset import Dataset
from db import connection
from db.connection import database
from db.services import history

PAGES = 20  # next pages walked from the first
TARGET_MS = 20.0


def first_admin(installer_dsn: str, schema: str) -> str:
    with installer_cursor(installer_dsn, schema) as cur:
        cur.execute("SELECT username FROM app_user WHERE role = 'admin' AND active "
                    "ORDER BY id LIMIT 1")  # fmt: skip
        row = cur.fetchone()
    if row is None:
        raise RuntimeError("the dataset has no admin login")
    return row[0]


def _middle(installer_dsn: str, schema: str) -> history.Cursor:
    """A keyset halfway down the log: a page there costs what the first one does."""
    with installer_cursor(installer_dsn, schema) as cur:
        cur.execute("SELECT at, id FROM audit_log ORDER BY at DESC, id DESC "
                    "OFFSET (SELECT count(*) / 2 FROM audit_log) LIMIT 1")  # fmt: skip
        at, entry = cur.fetchone()
    return at, entry


def run(ds: Dataset, reps: int = 200) -> list[Row]:
    entries = audit_data.ensure(ds.installer_dsn, ds.schema, ds.scale, ds.seed,
                                progress=lambda m: print(m, file=sys.stderr))  # fmt: skip
    admin = first_admin(ds.installer_dsn, ds.schema)
    params = parse_dsn(ds.user_dsn)
    params["user"] = admin
    admin_dsn = make_dsn(**params)
    middle = _middle(ds.installer_dsn, ds.schema)
    connection.configure(admin_dsn, ds.schema)
    raw = connection.raw_connect(admin_dsn, ds.schema)
    raw.autocommit = True
    cur = raw.cursor()

    def floor(**filters: object) -> Callable[[], None]:
        sql, args = history.audit_query(**filters)  # type: ignore[arg-type]

        def query() -> None:
            cur.execute(sql, args)
            cur.fetchall()

        return query

    rows: list[Row] = []
    try:
        with database.connection_context():
            page = history.audit()
            first_size = len(page.entries)
            keysets: list[history.Cursor] = []
            while page.next_before is not None and len(keysets) < PAGES:
                keysets.append(page.next_before)
                page = history.audit(before=page.next_before)
            if not keysets:
                raise RuntimeError("the audit log has a single page: nothing to page through")
            turn, raw_turn = count(), count()
            floors = [floor(before=k) for k in keysets]
            actor = first_admin(ds.installer_dsn, ds.schema)
            cases = [
                ("B12.first_page", f"first page ({first_size}) of {entries:,} entries",
                 lambda: history.audit(), floor()),
                ("B12.next_pages", f"the {len(keysets)} next pages, by keyset",
                 lambda: history.audit(before=keysets[next(turn) % len(keysets)]),
                 lambda: floors[next(raw_turn) % len(floors)]()),
                ("B12.middle_page", "a page halfway down the log",
                 lambda: history.audit(before=middle), floor(before=middle)),
                ("B12.by_table", "first page of one table's entries (opportunity)",
                 lambda: history.audit(table="opportunity"), floor(table="opportunity")),
                ("B12.by_person", "first page of one person's entries",
                 lambda: history.audit(actor=actor), floor(actor=actor)),
            ]  # fmt: skip
            for rid, what, service, base in cases:
                stats, raw_stats = measure_pair(service, base, reps)
                rows.append(Row(rid, what, stats.p95, raw_stats.p95, "ms",
                                f"p95 <= {TARGET_MS:g} ms", stats.p95 <= TARGET_MS,
                                {"service": stats.as_dict(), "floor": raw_stats.as_dict(),
                                 "user": admin, "entries": entries}))  # fmt: skip
    finally:
        raw.close()
        database.close_all()
    return rows
