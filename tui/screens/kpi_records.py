"""The records behind one KPI figure: deals or activities, newest first, a page at a time.

Pages of 50 come from db/services/kpis.records (keyset on id) as the cursor nears the end; the
list never holds more than what was scrolled to. enter opens an activity; ctrl+e writes every
record behind the figure to CSV; esc goes back.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from db.connection import database
from db.services import kpis
from db.services.periods import Period
from tui.screens.base import BaseScreen
from tui.text import money, safe
from tui.widgets.activity_rows import fit
from tui.widgets.record_list import RecordList


def record_line(r: object, width: int) -> Content:
    if isinstance(r, kpis.DealRecord):
        when = r.closed_at.date() if r.closed_at else r.expected_close
        day = f"{when:%d %b %y}" if when else ""
        head = f"{money(r.amount):>6} {fit(r.currency, 3)} {day:<9} "
        rest = max(width - len(head), 0)
        name_w, stage_w, owner_w = max(rest * 3 // 10, 1), 10, 12
        acc_w = max(rest - name_w - stage_w - owner_w - 3, 1)
        return Content(head + f"{fit(r.name, name_w)} {fit(r.account, acc_w)} "
                       f"{fit(r.stage, stage_w)} {fit(r.owner or '', owner_w)}")
    assert isinstance(r, kpis.ActivityRecord)
    at = r.due_at if r.due_at and r.kind == "task" else r.occurred_at
    head = f"{at:%d %b %H:%M} {fit(r.kind, 7)} {fit(r.outcome or '', 10)} "
    rest = max(width - len(head), 0)
    who = r.assignee if r.kind == "task" and r.assignee else r.author
    return Content(head + f"{fit(r.subject, max(rest - 17, 1))} {fit(who or '', 16)}")


class RecordsPage(Message):
    def __init__(self, page: kpis.Page, first: bool) -> None:
        super().__init__()
        self.page = page
        self.first = first


class KpiRecordsScreen(BaseScreen):
    DEFAULT_CSS = """
    KpiRecordsScreen #kpi-records-title { height: 1; padding: 0 1; background: $boost; }
    KpiRecordsScreen #kpi-records { padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the figures", id="kpi-records-back"),
        Binding("enter", "open", "Open", tooltip="Read the activity", id="kpi-records-open"),
        Binding("ctrl+e", "export", "Export", tooltip="Write every record behind the figure "
                "to a CSV file", id="kpi-records-export"),
    ]  # fmt: skip

    def __init__(self, kpi: kpis.Kpi, period: Period, currency: str) -> None:
        super().__init__()
        self.kpi = kpi
        self.period = period
        self.currency = currency
        self.next_after: int | None = None
        self.loading = False

    def compose_body(self) -> ComposeResult:
        title = f"{self.kpi.label} · {self.period.label} · {self.kpi.text} · {self.kpi.detail}"
        yield Static(safe(title, single_line=True), id="kpi-records-title")
        yield RecordList(record_line, empty="Loading…", id="kpi-records")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(RecordList).focus()
        self.load(None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="kpi-records")
    def load(self, after: int | None) -> None:
        with database.connection_context():
            page = kpis.records(self.kpi.key, self.period, self.currency, self.kpi.outcome,
                                after=after)  # fmt: skip
        self.post_message(RecordsPage(page, after is None))

    def on_records_page(self, message: RecordsPage) -> None:
        listing = self.query_one(RecordList)
        if message.first:
            listing.clear(empty="No records behind this figure.")
        listing.extend(list(message.page.rows))
        self.next_after = message.page.next_after
        self.loading = False
        self.refresh_bindings()

    def on_records_changed(self, message) -> None:  # noqa: ANN001 (tui.messages.RecordsChanged)
        """Deals or activities changed: read the first page again (a hint, re-read under RLS)."""
        changes = message.changes
        if getattr(changes, "everything", False) or any(
            changes.touches(t) for t in ("opportunity", "activity")
        ):
            self.loading = True
            self.load(None)

    def on_record_list_near_end(self, message: RecordList.NearEnd) -> None:
        if self.next_after is not None and not self.loading:
            self.loading = True
            self.load(self.next_after)

    def on_record_list_highlighted(self, message: RecordList.Highlighted) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open":
            item = self.query_one(RecordList).item if self.is_mounted else None
            return isinstance(item, kpis.ActivityRecord) or None
        return True

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_open(self) -> None:
        from tui.screens.activity_detail import ActivityDetailScreen

        item = self.query_one(RecordList).item
        if isinstance(item, kpis.ActivityRecord):
            self.app.push_screen(ActivityDetailScreen(item.id))

    def action_export(self) -> None:
        from db import exports
        from tui.screens.export_prompt import ExportPrompt

        k, period, currency = self.kpi, self.period, self.currency
        name = exports.default_name(f"{k.key}{'-' + k.outcome if k.outcome else ''}", period)
        self.app.push_screen(ExportPrompt(
            name, exports.kpi_record_header(k.key),
            lambda: exports.kpi_record_rows(k.key, period, currency, k.outcome)))
