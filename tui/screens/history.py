"""History of one record: who changed what, old -> new, newest first, a page at a time.

Other screens bind `h` to `self.app.push_screen(HistoryScreen(table, row_id, title))`.
The rows come from audit_log under its row-level security: a person sees the history of the
rows they can see; admins see everything.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static
from textual.worker import get_current_worker

from db.connection import database
from db.services import history, names
from tui.audit_words import Words, wanted
from tui.messages import RecordsChanged
from tui.screens.base import BaseScreen
from tui.text import cell, safe_markup
from tui.widgets.fitted_table import FittedTable

OPS = {"I": "created", "U": "changed", "D": "deleted"}
VALUE_LIMIT = 200  # cells of one old or new value; the column wraps what is kept
# (label, widest) per column; the last one takes what is left, at least its number of cells
COLUMNS = [("When", 16), ("Who", 12), ("What", 20), ("Old → new", 20)]
AUDIT_COLUMNS = [("When", 10), ("Who", 12), ("Record", 16), ("What", 16), ("Old → new", 16)]


def load_page(load) -> tuple[history.Page, dict]:
    """`load()` (a history or audit page) and the names its entries refer to, in one worker."""
    with database.connection_context():
        page = load()
        return page, names.names(wanted(page.entries))


def entry_rows(entry: history.Entry, words: Words, with_record: bool = False) -> list[tuple]:
    """One table row per changed field of `entry`, in words (cells are Text, never markup)."""
    when = cell(entry.at.strftime("%Y-%m-%d %H:%M"))
    who = cell(entry.actor_name, limit=40)
    what = OPS.get(entry.op, entry.op)
    record = [cell(words.record(entry), limit=80)] if with_record else []
    blank = Text("")
    if not entry.changes:
        return [(when, who, *record, cell(what), blank)]
    rows = []
    for i, change in enumerate(entry.changes):
        old = words.value(entry, change.field, change.old)
        new = words.value(entry, change.field, change.new)
        if entry.op == "U":
            text = cell(f"{cell(old, VALUE_LIMIT).plain} → {cell(new, VALUE_LIMIT).plain}")
        else:
            text = cell(new if entry.op == "I" else old, VALUE_LIMIT)
        label = words.label(entry, change.field)
        first = i == 0
        what_cell = cell(f"{what} {label}" if first else f"  {label}", limit=60)
        rows.append((when if first else blank, who if first else blank,
                     *(record if first else [blank] * len(record)), what_cell, text))  # fmt: skip
    return rows


class HistoryLoaded(Message):
    def __init__(self, page: history.Page, names: dict, first: bool) -> None:
        super().__init__()
        self.page = page
        self.names = names
        self.first = first


class HistoryScreen(BaseScreen):
    """Changes of `table` row `row_id`; `m` or reaching the end loads older ones."""

    DEFAULT_CSS = """
    HistoryScreen #history-title { height: 1; padding: 0 1; text-style: bold; }
    HistoryScreen FittedTable { height: 1fr; }
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
        self.refreshing = False

    def compose_body(self) -> ComposeResult:
        yield Static(safe_markup("History · $title", title=self.record_title), id="history-title")
        yield FittedTable(COLUMNS, id="history-table", zebra_stripes=True)
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
        page, found = load_page(
            lambda: history.record_history(self.table_name, self.row_id, before=before)
        )
        if not get_current_worker().is_cancelled:
            self.post_message(HistoryLoaded(page, found, before is None))

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        self.fetching = False
        table = self.query_one(FittedTable)
        if message.first:
            self.loaded = 0
        words = Words(message.names)
        rows = [row for entry in message.page.entries for row in entry_rows(entry, words)]
        refreshing, self.refreshing = self.refreshing, False
        table.set_rows(rows, append=not message.first, keep_cursor=refreshing)
        self.loaded += len(message.page.entries)
        self.next_before = message.page.next_before
        more = "m: older changes" if self.next_before else "no older changes"
        if not self.loaded:
            more = "no recorded changes (or none you may see)"
        self.query_one("#history-more", Static).update(f"{self.loaded} changes · {more}")
        self.refresh_bindings()

    def on_records_changed(self, message: RecordsChanged) -> None:
        if message.changes.touches(self.table_name, [self.row_id]) and not self.fetching:
            self.refreshing = True
            self.load(None)

    def action_more(self) -> None:
        if self.next_before is not None and not self.fetching:
            self.fetching = True
            self.load(self.next_before)

    def on_data_table_row_highlighted(self, event: FittedTable.RowHighlighted) -> None:
        table = self.query_one(FittedTable)
        if event.cursor_row >= table.row_count - 1:
            self.action_more()

    def action_back(self) -> None:
        self.dismiss(None)
