"""The trash: deleted records, paged; restore; purge (admins only).

Deleting is soft (`deleted_at`). What went to the trash together (an account with its
sub-accounts, contacts, deals and cases) shares one `deleted_at` stamp, is listed once (by the
top account) and comes back together. Purging removes a record for good, with everything
trashed with it and the activities linked to those records; live records that pointed at it
(a deal's primary contact, a case's contact) keep existing with the link cleared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg2

from db.connection import database
from db.errors import NotFound, PermissionDenied, SwitchboardError, ValidationError
from db.services import account_edit, contact_edit, relationships
from db.services.session import whoami

KINDS = ("account", "contact", "relationship", "deal")
Cursor = tuple[datetime, str, int]

_LIST = """
SELECT kind, id, title, detail, deleted_at FROM (
    SELECT 'account' AS kind, a.id, a.name AS title, p.name AS detail, a.deleted_at
      FROM account a LEFT JOIN account p ON p.id = a.parent_id
     WHERE a.deleted_at IS NOT NULL
       AND (p.id IS NULL OR p.deleted_at IS DISTINCT FROM a.deleted_at)
    UNION ALL
    SELECT 'contact', c.id, c.full_name, a.name, c.deleted_at
      FROM contact c LEFT JOIN account a ON a.id = c.account_id
     WHERE c.deleted_at IS NOT NULL
       AND (a.id IS NULL OR a.deleted_at IS DISTINCT FROM c.deleted_at)
    UNION ALL
    SELECT 'relationship', r.id,
           coalesce(f.full_name, '?') || ' ' || t.label || ' ' || coalesce(o.full_name, '?'),
           NULL, r.deleted_at
      FROM contact_relationship r JOIN relationship_type t ON t.id = r.type_id
      LEFT JOIN contact f ON f.id = r.from_contact_id
      LEFT JOIN contact o ON o.id = r.to_contact_id
     WHERE r.deleted_at IS NOT NULL{deals}
) trashed
"""
# Deals trashed alone (not with their account); only for those who may read deals (agents may
# not even name the table, so the branch is left out for them).
_DEALS = """
    UNION ALL
    SELECT 'deal', o.id, o.name, a.name, o.deleted_at
      FROM opportunity o LEFT JOIN account a ON a.id = o.account_id
     WHERE o.deleted_at IS NOT NULL
       AND (a.id IS NULL OR a.deleted_at IS DISTINCT FROM o.deleted_at)"""


def _list_sql() -> str:
    (reads_deals,) = database.execute_sql(
        "SELECT has_table_privilege('opportunity', 'SELECT')"
    ).fetchone()
    return _LIST.format(deals=_DEALS if reads_deals else "")


@dataclass(frozen=True)
class TrashItem:
    kind: str
    id: int
    title: str
    detail: str | None  # the account of a contact, the parent of an account
    deleted_at: datetime

    @property
    def cursor(self) -> Cursor:
        return (self.deleted_at, self.kind, self.id)


def page(after: Cursor | None = None, limit: int = 50) -> list[TrashItem]:
    """Trashed records, most recently deleted first, keyset-paged on (deleted_at, kind, id)."""
    params: tuple = ()
    where = ""
    if after is not None:
        where = " WHERE (deleted_at, kind, id) < (%s, %s, %s)"
        params = tuple(after)
    cursor = database.execute_sql(
        _list_sql() + where + " ORDER BY deleted_at DESC, kind DESC, id DESC LIMIT %s",
        (*params, limit),
    )
    return [TrashItem(*row) for row in cursor.fetchall()]


def soft_delete(kind: str, record_id: int) -> None:
    """Move one record (and, for an account, its sub-tree) to the trash."""
    if kind == "account":
        account_edit.soft_delete(record_id)
    elif kind == "contact":
        contact_edit.soft_delete(record_id)
    elif kind == "relationship":
        relationships.soft_delete(record_id)
    elif kind == "deal":
        from db.services import deals

        deals.soft_delete(record_id, deals.load(record_id)["version"])
    else:
        raise ValueError(f"unknown kind {kind!r}")


def _stamp(table: str, record_id: int) -> datetime:
    row = database.execute_sql(
        f"SELECT deleted_at FROM {table} WHERE id = %s",
        (record_id,),  # noqa: S608 (fixed names)
    ).fetchone()
    if row is None:
        raise NotFound(f"{table} {record_id} does not exist or is not visible")
    if row[0] is None:
        raise NotFound(f"{table} {record_id} is not in the trash")
    return row[0]


def restore(kind: str, record_id: int) -> None:
    """Bring a record back, with everything that was trashed together with it."""
    with database.atomic():
        if kind == "account":
            _restore_account(record_id)
        elif kind == "contact":
            stamp = _stamp("contact", record_id)
            row = database.execute_sql(
                "SELECT a.name FROM contact c JOIN account a ON a.id = c.account_id "
                "WHERE c.id = %s AND a.deleted_at IS NOT NULL",
                (record_id,),
            ).fetchone()
            if row:
                raise ValidationError(
                    "account", f"its account {row[0]!r} is in the trash: restore that first"
                )
            database.execute_sql(
                "UPDATE contact SET deleted_at = NULL WHERE id = %s AND deleted_at = %s",
                (record_id, stamp),
            )
        elif kind == "relationship":
            _stamp("contact_relationship", record_id)
            row = database.execute_sql(
                "SELECT 1 FROM contact_relationship r JOIN contact c "
                "ON c.id IN (r.from_contact_id, r.to_contact_id) "
                "WHERE r.id = %s AND c.deleted_at IS NOT NULL",
                (record_id,),
            ).fetchone()
            if row:
                raise ValidationError(
                    "contact", "one of its contacts is in the trash: restore it first"
                )
            database.execute_sql(
                "UPDATE contact_relationship SET deleted_at = NULL WHERE id = %s", (record_id,)
            )
        elif kind == "deal":
            stamp = _stamp("opportunity", record_id)
            row = database.execute_sql(
                "SELECT a.name FROM opportunity o JOIN account a ON a.id = o.account_id "
                "WHERE o.id = %s AND a.deleted_at IS NOT NULL",
                (record_id,),
            ).fetchone()
            if row:
                raise ValidationError(
                    "account", f"its account {row[0]!r} is in the trash: restore that first"
                )
            database.execute_sql(
                "UPDATE opportunity SET deleted_at = NULL WHERE id = %s AND deleted_at = %s",
                (record_id, stamp),
            )
        else:
            raise ValueError(f"unknown kind {kind!r}")


def _restore_account(account_id: int) -> None:
    stamp = _stamp("account", account_id)
    row = database.execute_sql(
        "SELECT p.name FROM account a JOIN account p ON p.id = a.parent_id "
        "WHERE a.id = %s AND p.deleted_at IS NOT NULL",
        (account_id,),
    ).fetchone()
    if row:
        raise ValidationError(
            "parent", f"its parent account {row[0]!r} is in the trash: restore that first"
        )
    database.execute_sql(
        """
        WITH RECURSIVE sub AS (
            SELECT id FROM account WHERE id = %(id)s AND deleted_at = %(stamp)s
            UNION ALL
            SELECT a.id FROM account a JOIN sub ON a.parent_id = sub.id
             WHERE a.deleted_at = %(stamp)s
        ), acc AS (UPDATE account SET deleted_at = NULL WHERE id IN (SELECT id FROM sub))
        , c AS (UPDATE contact SET deleted_at = NULL
                 WHERE account_id IN (SELECT id FROM sub) AND deleted_at = %(stamp)s)
        , o AS (UPDATE opportunity SET deleted_at = NULL
                 WHERE account_id IN (SELECT id FROM sub) AND deleted_at = %(stamp)s)
        UPDATE support_case SET deleted_at = NULL
         WHERE account_id IN (SELECT id FROM sub) AND deleted_at = %(stamp)s
        """,
        {"id": account_id, "stamp": stamp},
    )


def purge(kind: str, record_id: int) -> None:
    """Delete a trashed record for good (admins only), with what was trashed with it."""
    if not whoami().is_admin:
        raise PermissionDenied("only administrators may purge records from the trash")
    try:
        with database.atomic():
            if kind == "account":
                _purge_accounts(record_id)
            elif kind == "contact":
                _stamp("contact", record_id)
                _purge_contacts([record_id])
            elif kind == "relationship":
                _stamp("contact_relationship", record_id)
                _delete("contact_relationship", id=[record_id])
            elif kind == "deal":
                _stamp("opportunity", record_id)
                for table in ("activity", "document"):
                    _delete(table, opportunity_id=[record_id])
                _delete("opportunity", id=[record_id])
            else:
                raise ValueError(f"unknown kind {kind!r}")
    except psycopg2.errors.InsufficientPrivilege as exc:
        raise PermissionDenied("the database refused the purge: administrators only") from exc
    except psycopg2.errors.ForeignKeyViolation as exc:
        raise SwitchboardError(
            f"cannot purge {kind} {record_id}: a live record still refers to it "
            f"({exc.diag.table_name}); delete or change that first"
        ) from exc


def _ids(sql: str, params: tuple) -> list[int]:
    return [r[0] for r in database.execute_sql(sql, params).fetchall()]


def _delete(table: str, **columns: list[int]) -> None:
    """Delete the rows of `table` whose column is one of the ids given for it (admins only).

    Nobody holds DELETE on the tables (it would allow LOCK TABLE in any mode, see
    docs/security.md "Locks and timeouts"): migration 0009's delete_rows does it, under RLS.
    """
    for column, ids in columns.items():
        if ids:
            database.execute_sql("SELECT delete_rows(%s, %s, %s)", (table, column, ids))


def _purge_accounts(account_id: int) -> None:
    _stamp("account", account_id)
    accounts = _ids(
        """
        WITH RECURSIVE sub AS (
            SELECT id FROM account WHERE id = %s AND deleted_at IS NOT NULL
            UNION ALL
            SELECT a.id FROM account a JOIN sub ON a.parent_id = sub.id
             WHERE a.deleted_at IS NOT NULL
        ) SELECT id FROM sub
        """,
        (account_id,),
    )
    contacts = _ids("SELECT id FROM contact WHERE account_id = ANY(%s)", (accounts,))
    _purge_contacts(contacts)
    deals = _ids("SELECT id FROM opportunity WHERE account_id = ANY(%s)", (accounts,))
    cases = _ids("SELECT id FROM support_case WHERE account_id = ANY(%s)", (accounts,))
    for table in ("activity", "document"):
        _delete(table, account_id=accounts, opportunity_id=deals, case_id=cases)
    _delete("opportunity", id=deals)
    _delete("support_case", id=cases)
    _delete("account", id=accounts)


def _purge_contacts(contacts: list[int]) -> None:
    if not contacts:
        return
    only_theirs = _ids(
        "SELECT id FROM support_case WHERE contact_id = ANY(%s) AND account_id IS NULL",
        (contacts,),
    )
    for table in ("activity", "document"):
        _delete(table, contact_id=contacts, case_id=only_theirs)
    _delete("support_case", id=only_theirs)
    database.execute_sql(
        "UPDATE support_case SET contact_id = NULL WHERE contact_id = ANY(%s)", (contacts,)
    )
    database.execute_sql(
        "UPDATE opportunity SET primary_contact_id = NULL WHERE primary_contact_id = ANY(%s)",
        (contacts,),
    )
    _delete("contact", id=contacts)
