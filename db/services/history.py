"""History of one record (who changed what, old -> new, newest first) and the admin audit.

Both read audit_log, whose row-level security shows admins everything and everyone else the
history of rows they can see now. Pages are keysets on (at, id) descending.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db.connection import database

PAGE = 50
IGNORED = frozenset({"id", "created_at", "updated_at", "version"})
# Detail rows shown in their parent's history, with the fields that only link them left out.
DETAIL = {"contact_phone": "phone", "contact_email": "email"}
DETAIL_IGNORED = frozenset({"contact_id", "position", "email_key"})  # email_key: derived


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    actor: str
    actor_name: str
    op: str  # I, U or D
    table_name: str
    row_id: int
    changes: list[FieldChange]


Cursor = tuple[datetime, int]


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    next_before: Cursor | None  # pass as `before` for older entries; None at the end


def _load(value: Any) -> dict:
    if value is None:
        return {}
    return value if isinstance(value, dict) else json.loads(value)


def _entry(row: tuple) -> Entry:
    entry_id, at, actor, actor_name, op, table_name, row_id, old, new = row
    old, new = _load(old), _load(new)
    keys = [k for k in {**old, **new} if k not in IGNORED]
    if table_name in DETAIL:
        prefix = DETAIL[table_name]
        keys = [k for k in keys if k not in DETAIL_IGNORED]
        changes = [FieldChange(f"{prefix} {k}", old.get(k), new.get(k)) for k in sorted(keys)]
    else:
        changes = [FieldChange(k, old.get(k), new.get(k)) for k in sorted(keys)]
    return Entry(entry_id, at, actor, actor_name or actor, op.strip(), table_name, row_id, changes)


_SELECT = (
    "SELECT l.id, l.at, l.actor, u.display_name, l.op, l.table_name, l.row_id, "
    "l.old_values, l.new_values FROM audit_log l LEFT JOIN app_user u ON u.username = l.actor "
)


def _query(where: list[str], params: list[Any], before: Cursor | None, limit: int
           ) -> tuple[str, list[Any]]:
    """The SQL of one newest-first keyset page (limit + 1 rows: the extra says "more")."""
    where, params = list(where), list(params)
    if before is not None:
        where.append("(l.at, l.id) < (%s, %s)")
        params.extend(before)
    sql = _SELECT + ("WHERE " + " AND ".join(where) + " " if where else "")
    sql += "ORDER BY l.at DESC, l.id DESC LIMIT %s"
    return sql, [*params, limit + 1]


def _fetch(query: tuple[str, list[Any]], limit: int) -> Page:
    rows = database.execute_sql(*query).fetchall()
    entries = [_entry(r) for r in rows[:limit]]
    nxt = (entries[-1].at, entries[-1].id) if len(rows) > limit else None
    return Page(entries, nxt)


def _page(where: list[str], params: list[Any], before: Cursor | None, limit: int) -> Page:
    return _fetch(_query(where, params, before, limit), limit)


def record_history(
    table: str, row_id: int, before: Cursor | None = None, limit: int = PAGE
) -> Page:
    """Changes of one record, newest first, `limit` at a time. A contact's history includes
    the changes of its phones and emails."""
    if table == "contact":
        where = [
            "((l.table_name = 'contact' AND l.row_id = %s) OR "
            "(l.table_name IN ('contact_phone', 'contact_email') AND "
            "coalesce(l.new_values ->> 'contact_id', l.old_values ->> 'contact_id') = %s))"
        ]
        return _page(where, [row_id, str(row_id)], before, limit)
    return _page(["l.table_name = %s", "l.row_id = %s"], [table, row_id], before, limit)


def audit_query(
    actor: str | None = None,
    table: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: Cursor | None = None,
    limit: int = PAGE,
) -> tuple[str, list[Any]]:
    """The SQL and parameters of one page of `audit()` (the benchmark's floor runs it raw).

    Every filter is a range of one index in newest-first order (migration 0010): the whole
    log by (at, id), one table by (table_name, at, id), one person by (actor, at, id); the
    keyset `(at, id) < before` continues the range, so page 1,000 costs what page 1 does."""
    where: list[str] = []
    params: list[Any] = []
    if actor:
        where.append("l.actor = %s")
        params.append(actor)
    if table:
        where.append("l.table_name = %s")
        params.append(table)
    if since:
        where.append("l.at >= %s")
        params.append(since)
    if until:
        where.append("l.at < %s")
        params.append(until)
    return _query(where, params, before, limit)


def audit(
    actor: str | None = None,
    table: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: Cursor | None = None,
    limit: int = PAGE,
) -> Page:
    """The audit log filtered by person (login), table and time, newest first, one keyset
    page at a time (pass the page's `next_before` as `before` for the next)."""
    return _fetch(audit_query(actor, table, since, until, before, limit), limit)
