"""The outbox: writes saved on this machine while the database was away (db/outbox.py).

`OutboxScreen()` lists what waits and what could not be stored, oldest first: kind, when it
was saved, what it is, and its state (a failed one says why). Keys: s sends now, d discards
the selected write after a confirmation (it never reaches the database), enter opens a
contact edit that met someone else's change in its form (the conflict dialog follows),
escape back. Reached with ctrl+o anywhere and from the command palette.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from db.outbox import KIND_WORDS, Entry, Outbox
from tui.messages import OutboxChanged
from tui.screens.base import BaseScreen
from tui.screens.confirm import ConfirmModal
from tui.text import cell, clean, safe, safe_markup
from tui.widgets.fitted_table import FittedTable

COLUMNS = [("Saved", 11), ("Kind", 14), ("State", 8), ("What", 30)]


class OutboxListed(Message):
    def __init__(self, entries: list[Entry]) -> None:
        super().__init__()
        self.entries = entries


class OutboxScreen(BaseScreen):
    DEFAULT_CSS = """
    OutboxScreen #outbox-title { height: 1; background: $panel; text-style: bold; padding: 0 1; }
    OutboxScreen FittedTable { height: 1fr; }
    OutboxScreen #outbox-why { height: auto; max-height: 4; padding: 0 1; }
    """
    BINDINGS = [
        Binding("s", "send", "Send now", tooltip="Try to send what waits now", id="outbox-send"),
        Binding("d", "discard", "Discard", tooltip="Drop the selected write (asks first)",
                id="outbox-discard"),
        Binding("enter", "resolve", "Resolve", tooltip="Open a conflicting contact edit in its "
                "form", id="outbox-resolve"),
        Binding("escape", "back", "Back", tooltip="Leave the outbox", id="outbox-back"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[Entry] = []

    @property
    def box(self) -> Outbox | None:
        return getattr(self.app, "outbox", None)

    def compose_body(self) -> ComposeResult:
        yield Static(Content("Outbox"), id="outbox-title")
        yield FittedTable(COLUMNS, zebra_stripes=True, id="outbox-table")
        yield Static("", id="outbox-why")

    def on_mount(self) -> None:
        super().on_mount()
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="outbox-list")
    def load(self) -> None:
        box = self.box
        self.post_message(OutboxListed(box.entries() if box is not None else []))

    def on_outbox_listed(self, message: OutboxListed) -> None:
        self.entries = message.entries
        table = self.query_one(FittedTable)
        rows = [(cell(e.created_at.astimezone().strftime("%d %b %H:%M")),
                 cell(KIND_WORDS.get(e.kind, e.kind)), cell(e.state),
                 cell(e.summary, limit=200)) for e in self.entries]  # fmt: skip
        table.set_rows(rows, [e.uuid for e in self.entries])
        waiting = sum(1 for e in self.entries if not e.failed)
        failed = len(self.entries) - waiting
        title = f"Outbox · {waiting} waiting to be sent"
        if failed:
            title += f" · {failed} not stored"
        if not self.entries:
            title = "Outbox · empty: every write saved on this machine has been sent"
        self.query_one("#outbox-title", Static).update(Content(title))
        self._show_why()
        self.refresh_bindings()
        table.focus()

    def on_data_table_row_highlighted(self) -> None:
        self._show_why()
        self.refresh_bindings()

    def _show_why(self) -> None:
        entry = self._selected()
        why = self.query_one("#outbox-why", Static)
        if entry is None:
            why.update("")
        elif entry.failed:
            hint = " enter opens it in its form." if self._resolvable(entry) else ""
            why.update(safe_markup("[b]Not stored:[/b] $why$hint", why=entry.failed, hint=hint))
        else:
            why.update(safe("Waits for the database; sent by itself when it is back (s: now)."))

    def _selected(self) -> Entry | None:
        table = self.query_one(FittedTable)
        row = table.cursor_row
        if not self.entries or row is None or not 0 <= row < len(self.entries):
            return None
        return self.entries[row]

    @staticmethod
    def _resolvable(entry: Entry) -> bool:
        return entry.kind == "edit_contact" and (entry.failed or "").startswith("conflict")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "discard":
            return True if self._selected() is not None else None
        if action == "resolve":
            entry = self._selected()
            return True if entry is not None and self._resolvable(entry) else None
        if action == "send":
            return True if any(not e.failed for e in self.entries) else None
        return True

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_send(self) -> None:
        replay = getattr(self.app, "replay_outbox", None)
        if replay is not None:
            replay()

    def action_resolve(self) -> None:
        entry = self._selected()
        if entry is not None and self._resolvable(entry):
            from tui.screens.contact_form import ContactFormScreen

            self.app.push_screen(ContactFormScreen(entry.payload["contact_id"], replay=entry))

    def action_discard(self) -> None:
        entry = self._selected()
        if entry is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.discard(entry)

        question = safe_markup(
            "Discard [b]$kind[/b] “$what”? It was never stored in the database and will not "
            "be: what you typed there is lost.",
            kind=KIND_WORDS.get(entry.kind, entry.kind),
            what=clean(entry.summary, limit=120, single_line=True),
        )
        self.app.push_screen(ConfirmModal(question, "Discard", "Keep"), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="outbox-discard")
    def discard(self, entry: Entry) -> None:
        box = self.box
        if box is None:
            return
        box.discard(entry.uuid)
        self.app.post_message(OutboxChanged(box.count()))
        self.post_message(OutboxListed(box.entries()))
