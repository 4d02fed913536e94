"""Create, edit and soft-delete accounts (the form's services).

Deleting an account takes its whole sub-tree with it: sub-accounts, their contacts, deals and
cases are stamped with the same `deleted_at` in one transaction, so a restore brings back
exactly what went with it. Activities stay untouched (they are the system of record) and
reappear with the account. See docs/records.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from db.connection import database
from db.errors import NotFound, ValidationError, ValidationErrors
from db.models import Account
from db.services.editing import Saved, read_fields, update_fields
from db.services.validation import validate_account

FIELDS = (
    "name", "industry", "sic_code", "employees", "annual_revenue", "currency", "website",
    "phone", "city", "country", "tier", "lifecycle", "kind", "description",
)  # fmt: skip
IMPACT_CAP = 1000

_SUBTREE = """
    WITH RECURSIVE sub AS (
        SELECT id FROM account WHERE id = %s AND deleted_at IS NULL
        UNION ALL
        SELECT a.id FROM account a JOIN sub ON a.parent_id = sub.id WHERE a.deleted_at IS NULL
    )
"""


def load(account_id: int) -> dict[str, Any]:
    """The editable values of a live account, with `version` (the form's `original`)."""
    values = read_fields(Account, account_id, (*FIELDS, "parent_id"))
    if values is None or values["deleted_at"] is not None:
        raise NotFound(f"account {account_id} was deleted or is not visible")
    return values


def name_of(account_id: int | None) -> str | None:
    """The name of a visible account (for the form's read-only parent line)."""
    if account_id is None:
        return None
    row = Account.select(Account.name).where(Account.id == account_id).tuples().first()
    return row[0] if row else None


def create(form: Mapping[str, Any], parent_id: int | None = None) -> int:
    """Validate and insert one account under `parent_id`; returns the new id."""
    values = validate_account(form)
    with database.atomic():
        if parent_id is not None:
            parent = (
                Account.select(Account.id)
                .where((Account.id == parent_id) & Account.deleted_at.is_null())
                .first()
            )
            if parent is None:
                raise ValidationErrors(
                    [ValidationError("parent_id", "the parent account is deleted or not visible")]
                )
        new_id = Account.insert(**values, parent=parent_id).execute()
    return int(new_id)


def update(account_id: int, original: Mapping[str, Any], form: Mapping[str, Any]) -> Saved:
    """Validate and save only what changed since `original` (Conflict if we both changed it)."""
    values = validate_account(form, stored_phone=original.get("phone"))
    return update_fields(Account, account_id, original, values)


@dataclass(frozen=True)
class Impact:
    """What else goes to the trash with an account (counts capped at IMPACT_CAP)."""

    sub_accounts: int
    contacts: int
    open_deals: int
    open_cases: int

    def empty(self) -> bool:
        return not (self.sub_accounts or self.contacts or self.open_deals or self.open_cases)


def impact(account_id: int) -> Impact:
    """Count (capped) the sub-accounts, contacts, open deals and open cases of the sub-tree."""
    cap = IMPACT_CAP + 1
    cursor = database.execute_sql(
        _SUBTREE
        + """
        , ids AS (SELECT id FROM sub LIMIT 100000)
        SELECT
          (SELECT count(*) FROM (SELECT 1 FROM ids WHERE id <> %s LIMIT %s) s),
          (SELECT count(*) FROM (SELECT 1 FROM contact c WHERE c.account_id IN (SELECT id FROM ids)
               AND c.deleted_at IS NULL LIMIT %s) s),
          (SELECT count(*) FROM (SELECT 1 FROM opportunity o
               WHERE o.account_id IN (SELECT id FROM ids)
               AND NOT o.is_closed AND o.deleted_at IS NULL LIMIT %s) s),
          (SELECT count(*) FROM (SELECT 1 FROM support_case k
               WHERE k.account_id IN (SELECT id FROM ids)
               AND k.status NOT IN ('resolved', 'closed') AND k.deleted_at IS NULL LIMIT %s) s),
          EXISTS (SELECT 1 FROM ids WHERE id = %s)
        """,
        (account_id, account_id, cap, cap, cap, cap, account_id),
    )
    subs, contacts, deals, cases, found = cursor.fetchone()
    if not found:
        raise NotFound(f"account {account_id} was deleted or is not visible")
    return Impact(subs, contacts, deals, cases)


def soft_delete(account_id: int) -> int:
    """Move the account and its sub-tree (with contacts, deals, cases) to the trash.

    Returns how many accounts went. All rows share the transaction's timestamp, which is how
    a restore finds them again.
    """
    with database.atomic():
        cursor = database.execute_sql(
            _SUBTREE
            + """
            , gone AS (UPDATE account SET deleted_at = now() WHERE id IN (SELECT id FROM sub)
                       RETURNING id)
            , c AS (UPDATE contact SET deleted_at = now()
                    WHERE account_id IN (SELECT id FROM gone) AND deleted_at IS NULL)
            , o AS (UPDATE opportunity SET deleted_at = now()
                    WHERE account_id IN (SELECT id FROM gone) AND deleted_at IS NULL)
            , k AS (UPDATE support_case SET deleted_at = now()
                    WHERE account_id IN (SELECT id FROM gone) AND deleted_at IS NULL)
            SELECT count(*) FROM gone
            """,
            (account_id,),
        )
        (count,) = cursor.fetchone()
    if not count:
        raise NotFound(f"account {account_id} was deleted or is not visible")
    return int(count)
