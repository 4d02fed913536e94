"""History of one record: who changed what, old -> new, newest first, a page at a time.

Other screens bind `h` to `self.app.push_screen(HistoryScreen(table, row_id, title))`.
The rows come from audit_log under its row-level security: a person sees the history of the
rows they can see; admins see everything.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from db.connection import database
from db.services import history
from tui.screens.base import BaseScreen
from tui.text import safe, safe_markup

OPS = {"I": "created", "U": "changed", "D": "deleted"}


def show_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict | list):
        import json

        return json.dumps(value, ensure_ascii=False)
    return str(value)


def entry_rows(entry: history.Entry, with_record: bool = False) -> list[tuple]:
    """One table row per changed field of `entry` (cells are Content, never str)."""
    when = safe(entry.at.strftime("%Y-%m-%d %H:%M"))
    who = safe(entry.actor_name, limit=40, single_line=True)
    what = OPS.get(entry.op, entry.op)
    record = [safe(f"{entry.table_name} #{entry.row_id}", single_line=True)] if with_record else []
    if not entry.changes:
        return [(when, who, *record, safe(what), safe(""))]
    rows = []
    for i, change in enumerate(entry.changes):
        if entry.op == "U":
            text = safe_markup("$old → $new", old=show_value(change.old)[:200],
                               new=show_value(change.new)[:200])  # fmt: skip
        else:
            text = safe(show_value(change.new if entry.op == "I" else change.old)[:200],
                        single_line=True)  # fmt: skip
        label = safe(f"{what} {change.field}" if i == 0 else f"  {change.field}", single_line=True)
        blank = safe("")
        rows.append((when if i == 0 else blank, who if i == 0 else blank, *record, label, text))
    return rows


class HistoryLoaded(Message):
    def __init__(self, page: history.Page, first: bool) -> None:
        super().__init__()
        self.page = page
        self.first = first


class HistoryScreen(BaseScreen):
    """Changes of `table` row `row_id`; `m` or reaching the end loads older ones."""

    DEFAULT_CSS = """
    HistoryScreen #history-title { height: 1; padding: 0 1; text-style: bold; }
    HistoryScreen DataTable { height: 1fr; }
    HistoryScreen #history-more { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the record", id="history-back"),
        Binding("m", "more", "Older", tooltip="Load older changes", id="history-more"),
    ]

    def __init__(self, table: str, row_id: int, title: str) -> None:
        super().__init__()
        self.table_name = table
        self.row_id = row_id
        self.record_title = title
        self.next_before: history.Cursor | None = None
        self.loaded = 0
        self.fetching = False

    def compose_body(self) -> ComposeResult:
        yield Static(safe_markup("History · $title", title=self.record_title), id="history-title")
        table: DataTable = DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("When", "Who", "What", "Old → new")
        yield table
        yield Static("loading …", id="history-more")

    def on_mount(self) -> None:
        super().on_mount()
        self.load(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "more":
            return True if self.next_before is not None else None
        return True

    @work(thread=True, exclusive=True, exit_on_error=False, group="history")
    def load(self, before: history.Cursor | None) -> None:
        with database.connection_context():
            page = history.record_history(self.table_name, self.row_id, before=before)
        if not get_current_worker().is_cancelled:
            self.post_message(HistoryLoaded(page, before is None))

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        self.fetching = False
        table = self.query_one(DataTable)
        if message.first:
            table.clear()
            self.loaded = 0
        for entry in message.page.entries:
            for row in entry_rows(entry):
                table.add_row(*row)
        self.loaded += len(message.page.entries)
        self.next_before = message.page.next_before
        more = "m: older changes" if self.next_before else "no older changes"
        if not self.loaded:
            more = "no recorded changes (or none you may see)"
        self.query_one("#history-more", Static).update(f"{self.loaded} changes · {more}")
        self.refresh_bindings()

    def action_more(self) -> None:
        if self.next_before is not None and not self.fetching:
            self.fetching = True
            self.load(self.next_before)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = self.query_one(DataTable)
        if event.cursor_row >= table.row_count - 1:
            self.action_more()

    def action_back(self) -> None:
        self.dismiss(None)
