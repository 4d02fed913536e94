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
