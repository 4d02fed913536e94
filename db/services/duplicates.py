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


def contact_candidates(
    first_name: str,
    last_name: str,
    emails: Iterable[str] = (),
    phones_e164: Iterable[str] = (),
    account_id: int | None = None,
    exclude_id: int | None = None,
    limit: int = LIMIT,
) -> list[Candidate]:
    """Live contacts that look like the one being entered, best reason first.

    One call of contact_duplicates() (migration 0010): it finds candidates through the email,
    phone and trigram indexes as the owner and keeps only those the caller may read, so the
    check is fast under row-level security and reveals nothing hidden."""
    name = f"{first_name or ''} {last_name or ''}".strip()
    lowered = sorted({e.lower() for e in emails if e})
    numbers = sorted({p for p in phones_e164 if p})
    with database.atomic():
        rows = database.execute_sql(
            "SELECT id, full_name, account_name, reason "
            "FROM contact_duplicates(%s, %s::text[], %s::text[], %s, %s, %s, %s)",
            (name, lowered, numbers, account_id, exclude_id, NAME_SIMILARITY, limit),
        ).fetchall()
    return [Candidate("contact", r[0], r[1], r[2], r[3]) for r in rows]


def account_candidates(
    name: str, exclude_id: int | None = None, limit: int = LIMIT
) -> list[Candidate]:
    """Live accounts whose name is the same (any case) or very similar, most similar first
    (account_duplicates(), migration 0010: the trigram index, then the caller's visibility)."""
    text = (name or "").strip()
    if not text:
        return []
    with database.atomic():
        rows = database.execute_sql(
            "SELECT id, name, parent_name, reason FROM account_duplicates(%s, %s, %s, %s)",
            (text, exclude_id, ACCOUNT_SIMILARITY, limit),
        ).fetchall()
    return [Candidate("account", r[0], r[1], r[2], r[3]) for r in rows]
