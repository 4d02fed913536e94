"""Writes applied once: a client UUID claimed in applied_write in the change's transaction.

Logging an activity is idempotent through activity.client_uuid (UNIQUE). Other writes the
offline outbox replays (a contact edit, a follow-up done or rescheduled) claim their UUID here
first, inside the same transaction as the change (migration 0014). A second claim of the same
UUID (a replay after a lost COMMIT acknowledgement, or two replays racing: the second waits on
the first's primary key) finds it taken, and the write is skipped.
"""

from __future__ import annotations

import uuid

from db.connection import database


def key(client_uuid: str | uuid.UUID) -> str:
    return str(uuid.UUID(str(client_uuid)))


def claim(client_uuid: str | uuid.UUID, kind: str, record_id: int | None) -> bool:
    """Record the write as applied; False when it was applied already (skip it).

    Call inside the change's `database.atomic()`: a failed change rolls the claim back too."""
    row = database.execute_sql(
        "INSERT INTO applied_write (client_uuid, kind, record_id) VALUES (%s, %s, %s) "
        "ON CONFLICT (client_uuid) DO NOTHING RETURNING 1",
        (key(client_uuid), kind, record_id),
    ).fetchone()
    return row is not None


def applied(client_uuid: str | uuid.UUID) -> bool:
    """Whether a write with this UUID was stored (by this person)."""
    row = database.execute_sql(
        "SELECT 1 FROM applied_write WHERE client_uuid = %s", (key(client_uuid),)
    ).fetchone()
    if row is not None:
        return True
    row = database.execute_sql(
        "SELECT 1 FROM activity WHERE client_uuid = %s", (key(client_uuid),)
    ).fetchone()
    return row is not None
