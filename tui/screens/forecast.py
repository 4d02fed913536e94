"""Forecast (key 7): the period's figures per person and team with text bars; managers adjust.

Rows come from db/services/forecast.py in a thread worker (one query); the list holds a team,
its people, its sub-teams, each with a bar (tui/widgets/forecast_rows.py) and the figures
closed, commit, best case, pipeline, weighted. Under a person a manager adjusted, a line says
by whom and when. ←/→ previous/next period, p month/quarter, c currency, a adjust, ctrl+e CSV.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from db.connection import database
from db.errors import PermissionDenied
from db.services import forecast as fc
from db.services.periods import Period
from tui.screens.base import BaseScreen
from tui.screens.period_keys import PeriodKeys
from tui.text import clean, safe
from tui.widgets import forecast_rows as fr
from tui.widgets.record_list import RecordList


class ForecastLoaded(Message):
    def __init__(self, forecast: fc.Forecast, adjustable: frozenset[int], note: str = "") -> None:
        super().__init__()
        self.forecast = forecast
        self.adjustable = adjustable
        self.note = note


class NoForecast(Message):
    """The person may not read deals (agents)."""


NO_DEALS = "The forecast covers deals, and your role has no access to deals."


class ForecastScreen(PeriodKeys, BaseScreen):
    DEFAULT_CSS = """
    ForecastScreen #forecast-title { height: 1; padding: 0 1; background: $boost; }
    ForecastScreen #forecast-head { height: 1; padding: 0 1; color: $text-muted; }
    ForecastScreen #forecast { padding: 0 1; }
    ForecastScreen #forecast-status { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("left", "shift(-1)", "Prev", tooltip="The previous month or quarter",
                id="forecast-prev"),
        Binding("right", "shift(1)", "Next", tooltip="The next month or quarter",
                id="forecast-next"),
        Binding("p", "switch_period", "Month/quarter", tooltip="Switch between month and quarter",
                id="forecast-period"),
        Binding("c", "next_currency", "Currency", tooltip="Show the next currency (amounts in "
                "different currencies are never added)", id="forecast-currency"),
        Binding("a", "adjust", "Adjust", tooltip="Put your figure beside this person's "
                "(managers, for the people of their teams)", id="forecast-adjust"),
        Binding("ctrl+e", "export", "Export", tooltip="Write this view to a CSV file",
                id="forecast-export"),
        Binding("ctrl+r", "refresh", "Refresh", tooltip="Read the figures again",
                id="forecast-refresh"),
    ]  # fmt: skip

    def __init__(self, today: date | None = None) -> None:
        super().__init__()
        self.period = Period.containing(today or date.today(), "month")
        self.currency: str | None = None
        self.data: fc.Forecast | None = None
        self.adjustable: frozenset[int] = frozenset()

    def compose_body(self) -> ComposeResult:
        yield Static("Forecast", id="forecast-title")
        yield Static("", id="forecast-head")
        yield RecordList(self._render_item, empty="Loading…", id="forecast")
        yield Static(fr.LEGEND, id="forecast-status")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(RecordList).focus()
        self.load()

    # -- loading ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="forecast")
    def load(self, note: str = "") -> None:
        period, currency = self.period, self.currency
        with database.connection_context():
            try:
                data = fc.forecast(period, currency)
            except PermissionDenied:
                self.post_message(NoForecast())
                return
            people = [r.id for r in data.rows if r.kind == "person"]
            adjustable = fc.adjustable(people)
        self.post_message(ForecastLoaded(data, adjustable, note))

    def on_no_forecast(self, message: NoForecast) -> None:
        self.query_one(RecordList).clear(empty=NO_DEALS)

    def on_forecast_loaded(self, message: ForecastLoaded) -> None:
        if message.forecast.period != self.period:
            return  # an older answer: the newer one is on its way
        self.data = message.forecast
        self.adjustable = message.adjustable
        self.currency = message.forecast.currency
        listing = self.query_one(RecordList)
        keep = self._key(listing.item)
        rows: list[object] = []
        for row in [*message.forecast.rows, message.forecast.total]:
            rows.append(row)
            if row.adjusted:
                rows.append(fr.AdjustmentLine(row))
        self._scale = fr.scale_of([*message.forecast.rows, message.forecast.total])
        listing.clear(empty="No one to show: your forecast lists your own deals, a manager's "
                      "the people of their teams.")  # fmt: skip
        listing.extend(rows)
        if keep is not None:
            for index, row in enumerate(listing.rows):
                if self._key(row) == keep:
                    listing.cursor = index
                    break
        self._paint_title()
        if message.note:
            self.notify(clean(message.note, single_line=True), markup=False, timeout=5)
        self.refresh_bindings()

    @staticmethod
    def _key(item: object) -> tuple | None:
        if isinstance(item, fc.Row):
            return (item.kind, item.id)
        if isinstance(item, fr.AdjustmentLine):
            return ("adj", item.row.kind, item.row.id)
        return None

    def _paint_title(self) -> None:
        data = self.data
        width = self.query_one(RecordList).size.width or 78
        self.query_one("#forecast-head", Static).update(fr.header(width))
        if data is None:
            return
        others = [c for c in data.currencies if c != data.currency]
        more = f" · also {', '.join(others[:3])}{'…' if len(others) > 3 else ''} (c)" if others \
            else ""  # fmt: skip
        kind = "month" if data.period.kind == "month" else "quarter"
        self.query_one("#forecast-title", Static).update(
            safe(f"Forecast · {data.period.label} ({kind}) · {data.currency}{more}",
                 single_line=True)  # fmt: skip
        )

    def on_resize(self) -> None:
        self._paint_title()

    _scale: Decimal = Decimal(0)

    def _render_item(self, item: object, width: int) -> Content:
        if isinstance(item, fr.AdjustmentLine):
            return fr.adjustment_line(item.row, width)
        assert isinstance(item, fc.Row)
        return fr.row_line(item, self._scale, width)

    def on_records_changed(self, message) -> None:  # noqa: ANN001 (tui.messages.RecordsChanged)
        """Deals, adjustments, people or teams changed: the figures may have (notices are
        hints; the reload reads everything again under RLS)."""
        changes = message.changes
        if getattr(changes, "everything", False) or any(
            changes.touches(t) for t in ("opportunity", "forecast_adjustment", "app_user", "team")
        ):
            self.load()

    # -- actions ------------------------------------------------------------------------------

    @property
    def person(self) -> fc.Row | None:
        item = self.query_one(RecordList).item if self.is_mounted else None
        if isinstance(item, fr.AdjustmentLine):
            item = item.row
        return item if isinstance(item, fc.Row) and item.kind == "person" else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "adjust":
            person = self.person
            return (person is not None and person.id in self.adjustable) or None
        if action == "export":
            return self.data is not None or None
        return self.period_check(action)

    def shown_currencies(self) -> tuple[list[str], str | None]:
        data = self.data
        return (list(data.currencies), data.currency) if data is not None else ([], None)

    def action_refresh(self) -> None:
        self.load()

    def action_adjust(self) -> None:
        from tui.screens.forecast_adjust import AdjustForm

        person, data = self.person, self.data
        if person is None or data is None or person.id not in self.adjustable:
            return

        def saved(note: str | None) -> None:
            if note:
                self.load(note)

        self.app.push_screen(AdjustForm(data.period, person, data.currency), saved)

    def action_export(self) -> None:
        from db import exports
        from tui.screens.export_prompt import ExportPrompt

        data = self.data
        if data is None:
            return
        self.app.push_screen(
            ExportPrompt(exports.default_name("forecast", data.period), exports.FORECAST_HEADER,
                         lambda: exports.forecast_rows(data))  # fmt: skip
        )
