"""The UI follows the rights: one helper every screen's check_action can call.

`app.rights` is loaded with the session (db/services/rights.py: what the database grants the
login). Screens dim what would be refused and refuse with a clear message if tried anyway:

    def check_action(self, action, parameters):
        if action == "edit":
            return allowed(self.app, "edit", "account")
        return True

    def action_edit(self):
        if refused(self.app, "edit", "account"):
            return
        ...

The database refuses these actions by itself; this only spares people a round trip.
"""

from __future__ import annotations

from textual.app import App
from textual.message import Message

from db.services.rights import NOBODY, Rights


class RightsLoaded(Message):
    """The session's rights are known."""

    def __init__(self, rights: Rights) -> None:
        super().__init__()
        self.rights = rights


def rights_of(app: App) -> Rights:
    return getattr(app, "rights", NOBODY)


def allowed(app: App, action: str, table: str) -> bool | None:
    """For check_action: True when the person may, None (shown dimmed) when not."""
    return True if rights_of(app).can(action, table) else None


def refused(app: App, action: str, table: str) -> bool:
    """True (after telling the person why) when the action is not theirs to take."""
    rights = rights_of(app)
    if rights.can(action, table):
        return False
    app.notify(rights.reason(action, table), severity="warning", markup=False)
    return True
