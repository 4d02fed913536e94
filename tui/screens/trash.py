"""The trash: `TrashScreen()` lists deleted records a page at a time (keyset, newest first).

Keys: r restores the selected record (with everything trashed with it), x purges it for good
(admins only, after a confirmation), ] next page, [ previous page, escape back.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from db.connection import database
from db.errors import SwitchboardError
from db.services import trash
from db.services.trash import Cursor, TrashItem
from tui.messages import RecordsChanged
from tui.screens.base import BaseScreen
from tui.screens.confirm import ConfirmModal
from tui.text import cell, clean, safe, safe_markup
from tui.widgets.fitted_table import FittedTable

PAGE = 50
COLUMNS = [("Deleted", 16), ("Kind", 8), ("Name", 40), ("Where", 16)]


class TrashPage(Message):
    def __init__(self, items: list[TrashItem], more: bool) -> None:
        super().__init__()
        self.items, self.more = items, more


class TrashChanged(Message):
    def __init__(self, text: str, ok: bool) -> None:
        super().__init__()
        self.text, self.ok = text, ok


class TrashScreen(BaseScreen):
    DEFAULT_CSS = """
    TrashScreen #trash-title { height: 1; background: $panel; text-style: bold; padding: 0 1; }
    TrashScreen FittedTable { height: 1fr; }
    TrashScreen #trash-message { height: auto; padding: 0 1; }
    """
    BINDINGS = [
        Binding("r", "restore", "Restore", tooltip="Bring the record back", id="trash-restore"),
        Binding("x", "purge", "Purge", tooltip="Delete for good (admins)", id="trash-purge"),
        Binding("right_square_bracket", "next_page", "Next page", tooltip="Older deletions",
                id="trash-next"),
        Binding("left_square_bracket", "previous_page", "Prev page", tooltip="Newer deletions",
                id="trash-previous"),
        Binding("escape", "back", "Back", tooltip="Leave the trash", id="trash-back"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.items: list[TrashItem] = []
        self.pages: list[Cursor | None] = [None]  # the cursor each shown page started after
        self.more = False
        self.refreshing = False

    def compose_body(self) -> ComposeResult:
        yield Static(Content("Trash"), id="trash-title")
        yield FittedTable(COLUMNS, zebra_stripes=True, id="trash-table")
        yield Static("", id="trash-message")

    def on_mount(self) -> None:
        super().on_mount()
        self.load_page()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "purge":
            me = getattr(self.app, "me", None)
            return True if me is not None and me.is_admin else None
        if action == "next_page":
            return True if self.more else None
        if action == "previous_page":
            return True if len(self.pages) > 1 else None
        if action == "back":
            return True if len(self.app.screen_stack) > 1 else None
        return True

    @work(thread=True, exclusive=True, exit_on_error=False, group="trash")
    def load_page(self) -> None:
        with database.connection_context():
            items = trash.page(after=self.pages[-1], limit=PAGE + 1)
        self.post_message(TrashPage(items[:PAGE], len(items) > PAGE))

    def on_trash_page(self, message: TrashPage) -> None:
        self.items, self.more = message.items, message.more
        table = self.query_one(FittedTable)
        rows = [(cell(item.deleted_at), cell(item.kind), cell(item.title, limit=120),
                 cell(item.detail or "—", limit=80)) for item in self.items]  # fmt: skip
        refreshing, self.refreshing = self.refreshing, False
        table.set_rows(rows, [f"{item.kind}:{item.id}" for item in self.items],
                       keep_cursor=refreshing)
        page = len(self.pages)
        title = f"Trash · page {page}" + (" · more with ]" if self.more else "")
        if not self.items:
            title += " · empty"
        self.query_one("#trash-title", Static).update(Content(title))
        self.refresh_bindings()
        if not refreshing:
            table.focus()

    TABLES = ("account", "contact", "activity", "opportunity", "support_case", "contact_phone",
              "contact_email", "contact_relationship")

    def on_records_changed(self, message: RecordsChanged) -> None:
        if message.changes.touches(self.TABLES):
            self.refreshing = True
            self.load_page()

    def _selected(self) -> TrashItem | None:
        table = self.query_one(FittedTable)
        if not self.items or table.cursor_row is None or table.cursor_row >= len(self.items):
            return None
        return self.items[table.cursor_row]

    def action_next_page(self) -> None:
        if self.more and self.items:
            self.pages.append(self.items[-1].cursor)
            self.load_page()

    def action_previous_page(self) -> None:
        if len(self.pages) > 1:
            self.pages.pop()
            self.load_page()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_restore(self) -> None:
        item = self._selected()
        if item is not None:
            self.change("restore", item)

    def action_purge(self) -> None:
        item = self._selected()
        if item is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.change("purge", item)

        self.app.push_screen(
            ConfirmModal(
                safe_markup(
                    "Purge $kind [b]$name[/b] for good? It cannot be restored, and what went to "
                    "the trash with it goes too, with the activities linked to them.",
                    kind=item.kind,
                    name=item.title,
                ),  # fmt: skip
                "Purge",
                "Keep",
            ),
            answered,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="trash-change")
    def change(self, what: str, item: TrashItem) -> None:
        try:
            with database.connection_context():
                if what == "restore":
                    trash.restore(item.kind, item.id)
                else:
                    trash.purge(item.kind, item.id)
        except SwitchboardError as exc:
            self.post_message(TrashChanged(str(exc), False))
            return
        done = "Restored" if what == "restore" else "Purged"
        self.post_message(TrashChanged(f"{done}: {item.kind} {item.title}", True))

    def on_trash_changed(self, message: TrashChanged) -> None:
        text = clean(message.text, limit=200, single_line=True)
        self.query_one("#trash-message", Static).update(safe(text))
        if message.ok:
            self.app.notify(text, markup=False)
            self.load_page()
