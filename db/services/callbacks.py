"""The callback queue: book a callback, take the next due one, finish or release it.

Taking is one short statement (autocommit): the oldest due callback that is free is locked
with FOR UPDATE SKIP LOCKED and marked claimed_by/claimed_at in the same UPDATE, so two agents
never get the same one and no lock is held while a person talks. A claim that is not finished
within CLAIM_MINUTES is free again (the agent's app closed, the call dropped); `release` frees
it at once (wrap-up without a call). Only callbacks that are the queue's (no assignee) or
assigned to the person are taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.connection import database
from db.errors import NotFound, ValidationError

CLAIM_MINUTES = 15
NOTE_MAX = 2000


@dataclass(frozen=True)
class Callback:
    id: int
    contact_id: int | None
    contact_name: str | None
    account_id: int | None
    number: str | None  # the contact's first phone when none was given
    note: str | None
    due_at: datetime
    assignee_id: int | None
    claimed_by: int | None


_COLUMNS = """cb.id, cb.contact_id, c.full_name, cb.account_id,
    coalesce(cb.number, (SELECT coalesce(p.e164, p.raw) FROM contact_phone p
                          WHERE p.contact_id = cb.contact_id ORDER BY p.position, p.id LIMIT 1)),
    cb.note, cb.due_at, cb.assignee_id, cb.claimed_by"""

TAKE_SQL = f"""
WITH taken AS (
    UPDATE callback cb SET claimed_by = current_app_user_id(), claimed_at = now()
     WHERE cb.id = (
        SELECT q.id FROM callback q
         WHERE q.done_at IS NULL AND q.due_at <= now()
           AND (q.assignee_id IS NULL OR q.assignee_id = current_app_user_id())
           AND (q.claimed_at IS NULL OR q.claimed_at < now() - make_interval(mins => %s))
         ORDER BY q.due_at, q.id
         LIMIT 1 FOR UPDATE SKIP LOCKED)
     RETURNING cb.*
)
SELECT {_COLUMNS} FROM taken cb LEFT JOIN contact c ON c.id = cb.contact_id
"""


def book(
    due_at: datetime,
    contact_id: int | None = None,
    number: str | None = None,
    assignee_id: int | None = None,
    note: str | None = None,
    account_id: int | None = None,
    activity_id: int | None = None,
) -> int:
    """Book a callback; returns its id. No assignee: anyone who takes the queue gets it."""
    if not isinstance(due_at, datetime):
        raise ValidationError("when", "give a time, like 15:30, tomorrow 09:00 or +1")
    if contact_id is None and not (number or "").strip():
        raise ValidationError("number", "a callback needs a contact or a number")
    if note and len(note) > NOTE_MAX:
        raise ValidationError("note", f"at most {NOTE_MAX} characters")
    with database.atomic():
        if contact_id is not None and account_id is None:
            row = database.execute_sql(
                "SELECT account_id FROM contact WHERE id = %s AND deleted_at IS NULL", (contact_id,)
            ).fetchone()
            if row is None:
                raise ValidationError("contact", "no such contact (or not visible to you)")
            account_id = row[0]
        if assignee_id is not None:
            row = database.execute_sql(
                "SELECT active FROM app_user WHERE id = %s AND deleted_at IS NULL", (assignee_id,)
            ).fetchone()
            if row is None or not row[0]:
                raise ValidationError("assignee", "choose an active user")
        return database.execute_sql(
            "INSERT INTO callback (contact_id, account_id, number, note, due_at, assignee_id, "
            "activity_id) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (contact_id, account_id, (number or "").strip() or None, note or None, due_at,
             assignee_id, activity_id),
        ).fetchone()[0]  # fmt: skip


def take_next() -> Callback | None:
    """Claim the oldest due free callback for the person (None when the queue is empty)."""
    with database.atomic():
        row = database.execute_sql(TAKE_SQL, (CLAIM_MINUTES,)).fetchone()
    return Callback(*row) if row else None


def finish(callback_id: int, activity_id: int | None = None) -> None:
    """The callback was made (its outcome logged as `activity_id`): out of the queue."""
    with database.atomic():
        row = database.execute_sql(
            "UPDATE callback SET done_at = now(), done_activity_id = %s "
            "WHERE id = %s AND done_at IS NULL RETURNING id",
            (activity_id, callback_id),
        ).fetchone()
    if row is None:
        raise NotFound(f"callback {callback_id} is done already or not visible to you")


def release(callback_id: int) -> None:
    """Give a taken callback back to the queue at once (no call was made)."""
    with database.atomic():
        database.execute_sql(
            "UPDATE callback SET claimed_by = NULL, claimed_at = NULL "
            "WHERE id = %s AND done_at IS NULL AND claimed_by = current_app_user_id()",
            (callback_id,),
        )


def due_count() -> int:
    """How many callbacks the person could take now (for the console's header)."""
    return database.execute_sql(
        "SELECT count(*) FROM (SELECT 1 FROM callback q WHERE q.done_at IS NULL "
        "AND q.due_at <= now() AND (q.assignee_id IS NULL OR q.assignee_id = current_app_user_id())"
        " AND (q.claimed_at IS NULL OR q.claimed_at < now() - make_interval(mins => %s)) "
        "LIMIT 1000) x",
        (CLAIM_MINUTES,),
    ).fetchone()[0]


def resolve_assignee(text: str, field: str = "who") -> int | None:
    """What a person types for an assignee: '' → nobody (the queue), 'me' → me, else the
    active user with that login or display name (ValidationError naming `field` if none)."""
    from db.services import activities

    text = (text or "").strip()
    if not text:
        return None
    if text.lower() == "me":
        return activities.current_user_id()
    for user in activities.assignable_users():
        if text.lower() in (user.username.lower(), user.display_name.lower()):
            return user.id
    raise ValidationError(field, f"no active user named {text}")
