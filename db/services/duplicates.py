"""Likely duplicates at entry: warn before a second copy of a person or a company is created.

A contact is a likely duplicate when a live contact has the same email address (any case),
the same phone number (E.164), or a very similar name (pg_trgm similarity >= 0.6) in the same
account (or, for a contact without an account, among contacts without one). An account is a
likely duplicate when a live account has the same or a similar name (similarity >= 0.5).
The form shows the candidates and offers to open one or to continue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from db.connection import database

NAME_SIMILARITY = 0.6  # person names within one account: "Ana Lind" ~ "Anna Lind"
ACCOUNT_SIMILARITY = 0.5  # company names: "Globex Corp" ~ "Globex Corporation" (0.55)
LIMIT = 5


@dataclass(frozen=True)
class Candidate:
    kind: str  # "contact" or "account"
    id: int
    name: str
    account: str | None  # the contact's account, or the account's parent
    reason: str  # "same email", "same phone", "similar name"


def _set_threshold(value: float) -> None:
    # The `%` operator uses this threshold; is_local keeps it inside this transaction.
    database.execute_sql(
        "SELECT set_config('pg_trgm.similarity_threshold', %s, true)", (str(value),)
    )


def contact_candidates(
    first_name: str,
    last_name: str,
    emails: Iterable[str] = (),
    phones_e164: Iterable[str] = (),
    account_id: int | None = None,
    exclude_id: int | None = None,
    limit: int = LIMIT,
) -> list[Candidate]:
    """Live contacts that look like the one being entered, best reason first."""
    name = f"{first_name or ''} {last_name or ''}".strip()
    lowered = sorted({e.lower() for e in emails if e})
    numbers = sorted({p for p in phones_e164 if p})
    with database.atomic():
        _set_threshold(NAME_SIMILARITY)
        cursor = database.execute_sql(
            """
            WITH hits AS (
                SELECT e.contact_id AS id, 1 AS rank, 'same email' AS reason
                  FROM contact_email e WHERE e.email_key = ANY(%s::text[])
                UNION ALL
                SELECT p.contact_id, 2, 'same phone'
                  FROM contact_phone p WHERE p.e164 = ANY(%s::text[])
                UNION ALL
                SELECT c.id, 3, 'similar name' FROM contact c
                 WHERE %s <> '' AND c.account_id = %s AND similarity(c.full_name, %s) >= %s
                UNION ALL
                SELECT c.id, 3, 'similar name' FROM contact c
                 WHERE %s <> '' AND %s::bigint IS NULL AND c.account_id IS NULL
                   AND c.full_name %% %s
            ), best AS (
                SELECT DISTINCT ON (id) id, rank, reason FROM hits ORDER BY id, rank
            )
            SELECT c.id, c.full_name, a.name, best.reason
              FROM best JOIN contact c ON c.id = best.id
              LEFT JOIN account a ON a.id = c.account_id
             WHERE c.deleted_at IS NULL AND c.id IS DISTINCT FROM %s
             ORDER BY best.rank, c.id
             LIMIT %s
            """,
            (
                lowered,
                numbers,
                name,
                account_id,
                name,
                NAME_SIMILARITY,
                name,
                account_id,
                name,
                exclude_id,
                limit,
            ),  # fmt: skip
        )
        rows = cursor.fetchall()
    return [Candidate("contact", r[0], r[1], r[2], r[3]) for r in rows]


def account_candidates(
    name: str, exclude_id: int | None = None, limit: int = LIMIT
) -> list[Candidate]:
    """Live accounts whose name is the same (any case) or very similar, most similar first.

    Only `%` in the condition: the same name in any case has similarity 1, and `%` is the one
    operator the trigram index serves under RLS (LEAKPROOF, migration 0006); lower() is not."""
    text = (name or "").strip()
    if not text:
        return []
    with database.atomic():
        _set_threshold(ACCOUNT_SIMILARITY)
        cursor = database.execute_sql(
            """
            SELECT a.id, a.name, p.name,
                   CASE WHEN lower(a.name) = lower(%s) THEN 'same name' ELSE 'similar name' END
              FROM account a LEFT JOIN account p ON p.id = a.parent_id
             WHERE a.deleted_at IS NULL AND a.name %% %s
               AND a.id IS DISTINCT FROM %s
             ORDER BY similarity(a.name, %s) DESC, a.id
             LIMIT %s
            """,
            (text, text, exclude_id, text, limit),
        )
        rows = cursor.fetchall()
    return [Candidate("account", r[0], r[1], r[2], r[3]) for r in rows]
