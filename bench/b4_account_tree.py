"""B4 account_tree: open the tree, expand a 1,000+-child node, reveal a node 6 levels deep,
roll up a ~5,000-account subtree. Service calls (db/services/accounts.py, peewee, as a rep)
against raw psycopg2 floors (keyset query, recursive CTE) on a raw connection as the same rep.
"""

from __future__ import annotations

from bench.common import Row, Stats, installer_cursor, measure
from bench.dataset import Dataset
from db import connection
from db.connection import database
from db.services import accounts

PAGE = 100

RAW_ROOTS = """SELECT id, name FROM account WHERE parent_id IS NULL AND deleted_at IS NULL
ORDER BY lower(name), id LIMIT %s"""
RAW_CHILDREN = """SELECT id, name FROM account WHERE parent_id = %s AND deleted_at IS NULL
ORDER BY lower(name), id LIMIT %s"""
RAW_ANCESTORS = """WITH RECURSIVE up(id, name, parent_id, depth) AS (
    SELECT id, name, parent_id, 0 FROM account WHERE id = %s
    UNION ALL SELECT p.id, p.name, p.parent_id, up.depth + 1
    FROM account p JOIN up ON p.id = up.parent_id)
SELECT id, name FROM up ORDER BY depth DESC"""
RAW_ROLLUP = """WITH RECURSIVE sub(id) AS (
    SELECT id FROM account WHERE id = %s
    UNION ALL SELECT a.id FROM account a JOIN sub ON a.parent_id = sub.id)
SELECT (SELECT count(*) FROM sub),
       (SELECT count(*) FROM contact WHERE account_id IN (SELECT id FROM sub)),
       (SELECT coalesce(sum(amount), 0) FROM opportunity
         WHERE account_id IN (SELECT id FROM sub) AND NOT is_closed)"""


def targets(installer_dsn: str, schema: str) -> dict[str, int]:
    """The nodes to time: the parent with most children, a 6-deep node, the biggest group."""
    with installer_cursor(installer_dsn, schema) as cur:
        cur.execute("SELECT parent_id, count(*) FROM account WHERE parent_id IS NOT NULL "
                    "GROUP BY parent_id ORDER BY count(*) DESC, parent_id LIMIT 1")  # fmt: skip
        big_parent, big_children = cur.fetchone()
        cur.execute("""
            WITH RECURSIVE t(id, root, depth) AS (
                SELECT id, id, 1 FROM account WHERE parent_id IS NULL
                UNION ALL SELECT a.id, t.root, t.depth + 1
                FROM account a JOIN t ON a.parent_id = t.id)
            SELECT (SELECT id FROM t WHERE depth = 6 ORDER BY id LIMIT 1),
                   (SELECT root FROM t GROUP BY root ORDER BY count(*) DESC LIMIT 1),
                   (SELECT count(*) FROM t GROUP BY root ORDER BY count(*) DESC LIMIT 1)
        """)
        deep, group_root, group_size = cur.fetchone()
    return {"big_parent": big_parent, "big_children": big_children, "deep": deep,
            "group_root": group_root, "group_size": group_size}  # fmt: skip


def run(ds: Dataset, reps: int = 50) -> list[Row]:
    t = targets(ds.installer_dsn, ds.schema)
    connection.configure(ds.user_dsn, ds.schema)
    raw = connection.raw_connect(ds.user_dsn, ds.schema)
    raw.autocommit = True
    cur = raw.cursor()

    def raw_query(sql: str, *params: object) -> None:
        cur.execute(sql, params)
        cur.fetchall()

    rows: list[Row] = []
    try:
        with database.connection_context():
            first = accounts.roots(limit=PAGE)
            kids = accounts.children(t["big_parent"], limit=PAGE)
            chain = accounts.ancestors(t["deep"])
            total = accounts.rollup(t["group_root"])
            visible_only = (len(first.nodes) <= PAGE and len(kids.nodes) <= PAGE
                            and all(n.parent_id is None for n in first.nodes)
                            and all(n.parent_id == t["big_parent"]
                                    for n in kids.nodes))  # fmt: skip
            cases = [
                ("B4.open_roots", "roots page (100)", lambda: accounts.roots(limit=PAGE),
                 lambda: raw_query(RAW_ROOTS, PAGE + 1), 50.0, "p95 <= 50 ms (decided)"),
                ("B4.expand", f"children page of a {t['big_children']:,}-child node",
                 lambda: accounts.children(t["big_parent"], limit=PAGE),
                 lambda: raw_query(RAW_CHILDREN, t["big_parent"], PAGE + 1), 50.0,
                 "p95 <= 50 ms"),
                ("B4.reveal", f"ancestors of a node {len(chain)} levels deep",
                 lambda: accounts.ancestors(t["deep"]),
                 lambda: raw_query(RAW_ANCESTORS, t["deep"]), 20.0, "p95 <= 20 ms"),
                ("B4.rollup", f"rollup of a {total.accounts:,}-account subtree",
                 lambda: accounts.rollup(t["group_root"]),
                 lambda: raw_query(RAW_ROLLUP, t["group_root"]), None, "none set (reported)"),
            ]  # fmt: skip
            for rid, what, service, floor, limit, target in cases:
                stats = measure(service, reps)
                base = measure(floor, reps)
                rows.append(Row(rid, what, stats.p95, base.p95, "ms", target,
                                None if limit is None else stats.p95 <= limit,
                                {"service": stats.as_dict(), "floor": base.as_dict(),
                                 "user": ds.rep}))  # fmt: skip
    finally:
        raw.close()
        database.close_all()
    rows += rls_cost(ds, t, reps)
    rows.append(Row("B4.visible_only", "pages hold only the visible level", float(visible_only),
                    None, "", "1 = only visible levels loaded", visible_only,
                    {"roots": len(first.nodes), "children": len(kids.nodes), **t,
                     "rollup": {"accounts": total.accounts, "contacts": total.contacts,
                                "open_value": str(total.open_value)}}))  # fmt: skip
    return rows


def rls_cost(ds: Dataset, t: dict[str, int], reps: int) -> list[Row]:
    """The same service calls without row-level security (the installer, a superuser, bypasses
    it), so the rep's figures above can be read as "this much is the price of RLS"."""
    calls = {
        "open_roots": lambda: accounts.roots(limit=PAGE),
        "expand": lambda: accounts.children(t["big_parent"], limit=PAGE),
        "reveal": lambda: accounts.ancestors(t["deep"]),
        "rollup": lambda: accounts.rollup(t["group_root"]),
    }
    without: dict[str, Stats] = {}
    connection.configure(ds.installer_dsn, ds.schema)
    try:
        with database.connection_context():
            for name, call in calls.items():
                without[name] = measure(call, reps)
    finally:
        database.close_all()
    connection.configure(ds.user_dsn, ds.schema)
    rows = []
    try:
        with database.connection_context():
            for name, call in calls.items():
                as_rep = measure(call, reps)
                base = without[name]
                rows.append(Row(f"B4.rls_{name}", f"{name}: as a rep under RLS vs without RLS",
                                as_rep.median, base.median, "ms",
                                "reported (cost of RLS, medians)", None,
                                {"rep": as_rep.as_dict(),
                                 "without_rls": base.as_dict()}))  # fmt: skip
    finally:
        database.close_all()
    return rows
