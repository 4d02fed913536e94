"""Screen pops: a telephony system asks a person's running app to open a caller's number.

`pop(username, number)` runs as a login allowed to pop (admins, {{roles}}_telephony): the
SECURITY DEFINER function screen_pop() (migration 0018) stores the row and sends the notice
{"t": "screen_pop", "op": "I", "id": <id>, "a": null}. The app that gets the notice reads the
row with `take(id)` under row-level security: only the person it is for can read it, and only
once (taken_at).
"""

from __future__ import annotations

import peewee

from db.connection import database
from db.services._pgerrors import translate


def pop(username: str, number: str) -> int:
    """Open `number` in `username`'s console; returns the pop's id."""
    try:
        with database.atomic():
            return database.execute_sql(
                "SELECT screen_pop(%s, %s)", (username, number)
            ).fetchone()[0]
    except peewee.DatabaseError as exc:
        raise translate(exc) from exc


RECENT_S = 120  # a pop older than this is a call long over: never opened late


def take_recent() -> list[str]:
    """This person's pops not taken yet and at most RECENT_S old, oldest first, each taken
    once: after a reconnect or a flood of notices (everything=True) their ids were not named."""
    with database.atomic():
        rows = database.execute_sql(
            "UPDATE screen_pop SET taken_at = now() WHERE id IN ("
            " SELECT id FROM screen_pop WHERE taken_at IS NULL"
            " AND created_at > now() - make_interval(secs => %s) FOR UPDATE SKIP LOCKED)"
            " RETURNING number, created_at",
            (RECENT_S,),
        ).fetchall()
    return [number for number, _at in sorted(rows, key=lambda r: r[1])]


def take(pop_id: int) -> str | None:
    """The number of pop `pop_id` if it is this person's and not taken yet (then taken)."""
    with database.atomic():
        row = database.execute_sql(
            "UPDATE screen_pop SET taken_at = now() WHERE id = %s AND taken_at IS NULL "
            "RETURNING number",
            (pop_id,),
        ).fetchone()
    return row[0] if row else None
