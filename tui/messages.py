"""Messages that cross screens, named in the past tense."""

from __future__ import annotations

from textual.message import Message

from db.live import Changes
from db.services.session import Me


class SessionLoaded(Message):
    """The person behind the connection is known (header, rights)."""

    def __init__(self, me: Me) -> None:
        super().__init__()
        self.me = me


class ConnectionChanged(Message):
    """The database became unreachable (live=False) or reachable again and listened to
    (live=True, detail "reconnected"). Posted to the App by the live hub (tui/live.py); not
    posted for a session's first connection. The outbox replays on live=True."""

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
class RecordsChanged(Message, bubble=False):
    """Records may have changed (coalesced change notices, a reconnect, a missed-notice poll).

    Posted by the app's live hub (tui/live.py) to the screen on top and to the screen under a
    modal; a screen not shown gets the merged changes when it is shown again. A hint only:
    the screen re-reads what it shows, in a worker, keeping cursor, scroll and selection."""

    def __init__(self, changes: Changes) -> None:
        super().__init__()
        self.changes = changes
