"""No lost updates (DESIGN.md section 6): optimistic saves that write only the changed fields.

`update_fields(Model, id, original, changes)` runs
`UPDATE t SET <changed fields> WHERE id = ? AND version = ? AND deleted_at IS NULL RETURNING
version`; the database's touch_row trigger bumps `version` and `updated_at`. When no row comes
back the record is re-read (under row-level security "no row" may mean "not visible"):

- gone, trashed or invisible → NotFound;
- visible with the same version → the row is visible but not writable → PermissionDenied;
- the other person changed only fields I did not touch → retry on their version, still writing
  only my fields (a silent merge);
- a field both of us changed to different values → Conflict, carrying mine, theirs and the
  original per field and the record as it is now. Nothing the person typed is lost.

A save never waits long for a lock (the session's lock_timeout, db/connection.py): when
another person's open transaction holds the row, the save fails with RecordLocked naming them
(their display name), and nothing is written.

`extras` lets a service treat a child list (a contact's phones, its emails) as one more field:
it is read and compared like a column and rewritten in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg2.errors
from peewee import Model

from db.connection import database
from db.errors import (
    Conflict,
    FieldConflict,
    NotFound,
    PermissionDenied,
    RecordLocked,
    StaleRecord,
)
from db.services._pgerrors import original as _driver_error

MAX_MERGES = 5  # a record changed this often in a row: give up with StaleRecord


@dataclass(frozen=True)
class Extra:
    """A pseudo-field stored outside the row: `read(id)` returns a comparable value."""

    read: Callable[[int], Any]
    write: Callable[[int, Any], None]


@dataclass
class Saved:
    """The outcome of a save: the new version, and the other person's merged changes."""

    id: int
    version: int
    merged: dict[str, Any] = field(default_factory=dict)


def _field(model: type[Model], name: str) -> Any:
    combined = model._meta.combined  # field name or column name -> Field
    if name not in combined:
        raise KeyError(f"{model.__name__} has no field {name!r}")
    return combined[name]


def read_fields(
    model: type[Model],
    record_id: int,
    names: Iterable[str],
    extras: Mapping[str, Extra] | None = None,
) -> dict[str, Any] | None:
    """The record's `names` plus version and deleted_at as a dict, or None when not visible."""
    names = [n for n in names if not extras or n not in extras]
    columns = [_field(model, n) for n in names]
    row = (
        model.select(*columns, model.version, model.deleted_at)
        .where(model.id == record_id)
        .tuples()
        .first()
    )
    if row is None:
        return None
    values = dict(zip([*names, "version", "deleted_at"], row, strict=True))
    for name, extra in (extras or {}).items():
        values[name] = extra.read(record_id)
    return values


def changed(original: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Only the fields whose value differs from what was read."""
    return {k: v for k, v in changes.items() if k != "version" and original.get(k) != v}


def update_fields(
    model: type[Model],
    record_id: int,
    original: Mapping[str, Any],
    changes: Mapping[str, Any],
    extras: Mapping[str, Extra] | None = None,
) -> Saved:
    """Write only the changed fields of `changes` with a version check (see module doc).

    `original` holds the values as read, including `version`. One transaction per attempt.
    """
    extras = extras or {}
    mine = changed(original, changes)
    version = int(original["version"])
    if not mine:
        return Saved(record_id, version)
    merged: dict[str, Any] = {}
    for _attempt in range(MAX_MERGES):
        with explain_locks(model, record_id), database.atomic():
            new_version = _try_write(model, record_id, version, mine, extras)
            if new_version is not None:
                return Saved(record_id, new_version, merged)
            current = read_fields(model, record_id, list(mine), extras)
        if current is None or current["deleted_at"] is not None:
            raise NotFound(f"{model.__name__.lower()} {record_id} was deleted or is not visible")
        if current["version"] == version:
            raise PermissionDenied(
                f"you may read {model.__name__.lower()} {record_id} but not change it"
            )
        conflicts: dict[str, FieldConflict] = {}
        for name, value in list(mine.items()):
            theirs = current[name]
            before = original.get(name)
            if theirs == value:
                del mine[name]  # they made the same change: nothing to write
            elif theirs != before:
                conflicts[name] = FieldConflict(value, theirs, before)
        if conflicts:
            full = read_fields(model, record_id, _all_names(original, extras), extras) or current
            raise Conflict(conflicts, int(current["version"]), full)
        # Their changes were elsewhere: keep them, write mine on top of their version.
        version = int(current["version"])
        merged.update(_their_changes(model, record_id, original, extras))
        if not mine:
            return Saved(record_id, version, merged)
    raise StaleRecord(
        f"{model.__name__.lower()} {record_id} keeps changing under you: reload it and try again"
    )


def _all_names(original: Mapping[str, Any], extras: Mapping[str, Extra]) -> list[str]:
    return [n for n in original if n not in ("version", "deleted_at")]


def _their_changes(
    model: type[Model], record_id: int, original: Mapping[str, Any], extras: Mapping[str, Extra]
) -> dict[str, Any]:
    now = read_fields(model, record_id, _all_names(original, extras), extras) or {}
    return {k: v for k, v in now.items() if k in original and original[k] != v and k != "version"}


def _try_write(
    model: type[Model],
    record_id: int,
    version: int,
    mine: Mapping[str, Any],
    extras: Mapping[str, Extra],
) -> int | None:
    """One version-checked UPDATE (plus extras); the new version, or None if no row matched."""
    columns = {_field(model, k): v for k, v in mine.items() if k not in extras}
    if not columns:
        # Only child rows changed: touch the row so its version moves all the same (the
        # trigger bumps it; deleted_at is already NULL here and writable by every role).
        columns = {model.deleted_at: None}
    query = (
        model.update(columns)
        .where((model.id == record_id) & (model.version == version) & (model.deleted_at.is_null()))
        .returning(model.version)
    )
    rows = list(query.tuples().execute())
    if not rows:
        return None
    for name, extra in extras.items():
        if name in mine:
            extra.write(record_id, mine[name])
    return int(rows[0][0])


# Who holds the lock on row %(id)s of a table: the transaction whose id is the row's xmax (a
# locker or an updater still running: its own transactionid lock is granted), else a session
# holding a table lock that blocks writers. pg_locks and pg_stat_activity's pid and usename are
# readable by every login; app_user gives the display name.
_HOLDER = """
SELECT u.display_name, a.usename = session_user::text
  FROM pg_locks l
  JOIN pg_stat_activity a ON a.pid = l.pid
  LEFT JOIN app_user u ON u.username = a.usename
 WHERE l.granted AND l.pid <> pg_backend_pid()
   AND ((l.locktype = 'transactionid'
         AND l.transactionid = (SELECT t.xmax FROM {table} t WHERE t.id = %(id)s))
        OR (l.locktype = 'relation' AND l.relation = %(table)s::regclass
            AND l.mode IN ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock',
                           'AccessExclusiveLock')))
 ORDER BY l.locktype = 'transactionid' DESC
 LIMIT 1
"""


def lock_holder(model: type[Model], record_id: int) -> tuple[str | None, bool]:
    """(display name, is it me in another session) of whoever holds the row's lock now."""
    table = model._meta.table_name
    row = database.execute_sql(
        _HOLDER.format(table=table), {"id": record_id, "table": table}
    ).fetchone()
    return (row[0], bool(row[1])) if row else (None, False)


@contextmanager
def explain_locks(model: type[Model], record_id: int) -> Iterator[None]:
    """Turn a lock timeout inside the block into RecordLocked naming the holder.

    Wrap it around `database.atomic()`, so that the failed transaction is rolled back before
    the holder is looked up.
    """
    try:
        yield
    except Exception as exc:
        if not isinstance(_driver_error(exc), psycopg2.errors.LockNotAvailable):
            raise
        holder, yourself = lock_holder(model, record_id)
        what = f"{model.__name__.lower()} {record_id}"
        raise RecordLocked(what, holder, yourself) from exc
