"""The keys of a view of one period in one currency (forecast and KPIs): ←/→ the previous or
next period, p month or quarter, c the next currency; the screen says which currencies it has
and reads itself again (`load`)."""

from __future__ import annotations

from db.services.periods import Period
from tui.widgets.record_list import RecordList


class PeriodKeys:
    period: Period
    currency: str | None

    def shown_currencies(self) -> tuple[list[str], str | None]:
        """The currencies of what is shown, and the one it is shown in."""
        raise NotImplementedError

    def load(self) -> None:
        raise NotImplementedError

    def period_check(self, action: str) -> bool | None:
        """check_action's answer for these keys (None: dimmed), or True for any other."""
        if action == "next_currency":
            return len(self.shown_currencies()[0]) > 1 or None
        return True

    def on_record_list_highlighted(self, message: RecordList.Highlighted) -> None:
        self.refresh_bindings()  # type: ignore[attr-defined]

    def action_shift(self, steps: int) -> None:
        self.period = self.period.shifted(steps)
        self.load()

    def action_switch_period(self) -> None:
        self.period = self.period.switched()
        self.load()

    def action_next_currency(self) -> None:
        codes, current = self.shown_currencies()
        if len(codes) < 2:
            return
        at = codes.index(current) if current in codes else -1
        self.currency = codes[(at + 1) % len(codes)]
        self.load()
