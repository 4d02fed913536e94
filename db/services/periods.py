"""Forecast periods: a calendar month or quarter, named by its first day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

KINDS = ("month", "quarter")


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """[start, end) of a month or a quarter; start is the first day of it."""

    kind: str
    start: date

    @classmethod
    def containing(cls, day: date, kind: str = "month") -> Period:
        if kind not in KINDS:
            raise ValueError(f"period kind must be one of {', '.join(KINDS)}")
        month = day.month if kind == "month" else (day.month - 1) // 3 * 3 + 1
        return cls(kind, date(day.year, month, 1))

    @property
    def months(self) -> int:
        return 1 if self.kind == "month" else 3

    @property
    def end(self) -> date:
        return _add_months(self.start, self.months)

    def shifted(self, steps: int) -> Period:
        return Period(self.kind, _add_months(self.start, steps * self.months))

    def switched(self) -> Period:
        """The other kind of period around the same start (month -> its quarter, and back)."""
        other = "quarter" if self.kind == "month" else "month"
        return Period.containing(self.start, other)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start:%b %Y}"
        return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"

    @property
    def key(self) -> str:
        """For file names and CSV: 2026-12 or 2026-Q4."""
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
