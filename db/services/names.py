"""Names for the ids that history and the audit log store: people, teams, accounts, contacts.

Read under the reader's row-level security: an account or contact they may not see keeps its
number (`#12`), people and teams are visible to everyone.
"""

from __future__ import annotations

from collections.abc import Iterable

from db.connection import database

_SQL = {
    "app_user": "SELECT id, display_name FROM app_user WHERE id = ANY (%s)",
    "team": "SELECT id, name FROM team WHERE id = ANY (%s)",
    "account": "SELECT id, name FROM account WHERE id = ANY (%s)",
    "contact": "SELECT id, concat_ws(' ', first_name, last_name) FROM contact WHERE id = ANY (%s)",
    "stage": "SELECT id, name FROM stage WHERE id = ANY (%s)",
    "campaign": "SELECT id, name FROM campaign WHERE id = ANY (%s)",
}

Wanted = Iterable[tuple[str, int]]  # (table, id)


def names(wanted: Wanted) -> dict[tuple[str, int], str]:
    """The name of each (table, id) in `wanted` one may see; one query per table."""
    by_table: dict[str, set[int]] = {}
    for table, row_id in wanted:
        if table in _SQL and isinstance(row_id, int):
            by_table.setdefault(table, set()).add(row_id)
    out: dict[tuple[str, int], str] = {}
    for table, ids in by_table.items():
        for row_id, name in database.execute_sql(_SQL[table], (sorted(ids),)).fetchall():
            out[(table, row_id)] = name
    return out
