"""Messages that cross screens, named in the past tense."""

from __future__ import annotations

from textual.message import Message

from db.services.session import Me


class SessionLoaded(Message):
    """The person behind the connection is known (header, rights)."""

    def __init__(self, me: Me) -> None:
        super().__init__()
        self.me = me


class ConnectionChanged(Message):
    """The database became reachable or unreachable."""

    def __init__(self, live: bool, detail: str = "") -> None:
        super().__init__()
        self.live = live
        self.detail = detail


class OutboxChanged(Message):
    """Writes saved on this machine wait to be sent (db/outbox.py): `waiting` of them."""

    def __init__(self, waiting: int, note: str = "") -> None:
        super().__init__()
        self.waiting = waiting
        self.note = note


class OutboxReplayed(Message):
    """A replay of the outbox ended (db.outbox.ReplayResult)."""

    def __init__(self, result: object) -> None:
        super().__init__()
        self.result = result
