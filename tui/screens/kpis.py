"""KPIs (key 8): the period's figures for the person's scope; enter opens the records behind.

Figures come from db/services/kpis.py in a thread worker (one query). ←/→ previous/next
period, p month/quarter, c currency (amount figures), enter the records, ctrl+e CSV.
"""

from __future__ import annotations

from datetime import date

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from db.connection import database
from db.errors import PermissionDenied
from db.services import kpis
from db.services.periods import Period
from tui.screens.base import BaseScreen
from tui.screens.period_keys import PeriodKeys
from tui.text import safe
from tui.widgets.activity_rows import fit
from tui.widgets.record_list import RecordList

LABEL = 28
VALUE = 12


def kpi_line(k: kpis.Kpi, width: int) -> Content:
    rest = max(width - LABEL - VALUE - 2, 0)
    return Content(f"{fit(k.label, LABEL)} {fit(k.text, VALUE)} {fit(k.detail, rest)}")


class KpisLoaded(Message):
    def __init__(self, view: kpis.KpiView) -> None:
        super().__init__()
        self.view = view


class NoKpis(Message):
    """The person may not read deals (agents)."""


class KpiScreen(PeriodKeys, BaseScreen):
    DEFAULT_CSS = """
    KpiScreen #kpi-title { height: 1; padding: 0 1; background: $boost; }
    KpiScreen #kpis { padding: 0 1; }
    KpiScreen #kpi-status { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("enter", "open", "Records", tooltip="The deals or activities behind the figure",
                id="kpi-open"),
        Binding("left", "shift(-1)", "Prev", tooltip="The previous month or quarter",
                id="kpi-prev"),
        Binding("right", "shift(1)", "Next", tooltip="The next month or quarter", id="kpi-next"),
        Binding("p", "switch_period", "Month/quarter", tooltip="Switch between month and quarter",
                id="kpi-period"),
        Binding("c", "next_currency", "Currency", tooltip="Currency of the amount figures",
                id="kpi-currency"),
        Binding("ctrl+e", "export", "Export", tooltip="Write these figures to a CSV file",
                id="kpi-export"),
        Binding("ctrl+r", "refresh", "Refresh", tooltip="Measure again", id="kpi-refresh"),
    ]  # fmt: skip

    def __init__(self, today: date | None = None) -> None:
        super().__init__()
        self.period = Period.containing(today or date.today(), "quarter")
        self.currency = "EUR"
        self.view: kpis.KpiView | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("KPIs", id="kpi-title")
        yield RecordList(lambda k, w: kpi_line(k, w), empty="Loading…", id="kpis")
        yield Static("enter: the records behind a figure", id="kpi-status")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(RecordList).focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="kpis")
    def load(self) -> None:
        period, currency = self.period, self.currency
        with database.connection_context():
            try:
                view = kpis.kpis(period, currency)
            except PermissionDenied:
                self.post_message(NoKpis())
                return
        self.post_message(KpisLoaded(view))

    def on_no_kpis(self, message: NoKpis) -> None:
        self.query_one(RecordList).clear(
            empty="These KPIs measure deals and sales activity; your role has no access to deals."
        )

    def on_kpis_loaded(self, message: KpisLoaded) -> None:
        if message.view.period != self.period or message.view.currency != self.currency:
            return
        self.view = message.view
        listing = self.query_one(RecordList)
        at = listing.cursor
        listing.clear(empty="No figures.")
        listing.extend(message.view.figures)
        if 0 <= at < len(listing.rows):
            listing.cursor = at
        kind = "month" if self.period.kind == "month" else "quarter"
        self.query_one("#kpi-title", Static).update(
            safe(f"KPIs · {self.period.label} ({kind}) · amounts in {self.currency}",
                 single_line=True)  # fmt: skip
        )
        self.refresh_bindings()

    def on_records_changed(self, message) -> None:  # noqa: ANN001 (tui.messages.RecordsChanged)
        changes = message.changes
        if getattr(changes, "everything", False) or any(
            changes.touches(t) for t in ("opportunity", "activity", "app_user", "team")
        ):
            self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open":
            return self.kpi is not None or None
        if action == "export":
            return self.view is not None or None
        return self.period_check(action)

    def shown_currencies(self) -> tuple[list[str], str | None]:
        view = self.view
        return (list(view.currencies), self.currency) if view is not None else ([], None)

    @property
    def kpi(self) -> kpis.Kpi | None:
        return self.query_one(RecordList).item if self.is_mounted else None


    def action_refresh(self) -> None:
        self.load()

    def action_open(self) -> None:
        from tui.screens.kpi_records import KpiRecordsScreen

        if self.kpi is not None:
            self.app.push_screen(KpiRecordsScreen(self.kpi, self.period, self.currency))

    def action_export(self) -> None:
        from db import exports
        from tui.screens.export_prompt import ExportPrompt

        view = self.view
        if view is not None:
            self.app.push_screen(ExportPrompt(exports.default_name("kpis", view.period),
                                              exports.KPI_HEADER, lambda: exports.kpi_rows(view)))
