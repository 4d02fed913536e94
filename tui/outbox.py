"""The app's side of the offline outbox (db/outbox.py): queue a write a form could not send,
and the words a person reads about it.

Forms call `queue_write` from their save worker when the save failed because the database is
unreachable (`db.outbox.unavailable(exc)`): the write goes to this login's outbox file
(fsynced before the call returns), the App's header counts it, and the App sends it when the
database is back (on `ConnectionChanged(live=True)`, and every RETRY_S while writes wait).
"""

from __future__ import annotations

from typing import Any

from textual.app import App

from db.outbox import Outbox
from tui.messages import OutboxChanged


def queued_text(waiting: int) -> str:
    return (
        "Saved on this machine: it will be sent when the database is back "
        f"({waiting} waiting)"
    )


def outbox_of(app: App) -> Outbox | None:
    return getattr(app, "outbox", None)


def queue_write(
    app: App, kind: str, payload: dict[str, Any], uuid: str | None = None
) -> int | None:
    """(thread) Store the write in the outbox; the number waiting, or None without an outbox."""
    box = outbox_of(app)
    if box is None:
        return None
    box.add(kind, payload, uuid)
    waiting = box.count()
    app.post_message(OutboxChanged(waiting, queued_text(waiting)))
    return waiting
