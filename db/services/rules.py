"""The Rules collector behind db/services/validation.py: typed values from form text, every
broken rule kept with its field, messages in our own short words (60 columns at most)."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from db.errors import ValidationError, ValidationErrors

AMOUNT_MAX = Decimal("9999999999999999.99")  # numeric(18, 2)


class Rules:
    """Collects broken rules; `check()` raises them all at once."""

    def __init__(self) -> None:
        self.errors: list[ValidationError] = []

    def fail(self, field: str, message: str) -> None:
        if not any(e.field == field for e in self.errors):  # one message per field
            self.errors.append(ValidationError(field, message))

    def check(self) -> None:
        if self.errors:
            raise ValidationErrors(self.errors)

    def text(
        self, data: Mapping[str, Any], field: str, max_len: int, required: bool = False
    ) -> str | None:
        value = data.get(field)
        text = "" if value is None else str(value).strip()
        if not text:
            if required:
                self.fail(field, "is required")
            return None
        if len(text) > max_len:
            self.fail(field, f"must be at most {max_len:,} characters (it has {len(text):,})")
        return text

    def choice(self, data: Mapping[str, Any], field: str, choices: Iterable[str]) -> str | None:
        text = self.text(data, field, 100)
        if text is None:
            return None
        allowed = tuple(choices)
        if text not in allowed:
            self.fail(field, "must be one of: " + ", ".join(allowed))
            return None
        return text

    def integer(self, data: Mapping[str, Any], field: str, low: int, high: int) -> int | None:
        text = self.text(data, field, 30)
        if text is None:
            return None
        try:
            number = int(text.replace(" ", "").replace("_", ""))
        except ValueError:
            self.fail(field, f"must be a whole number from {low:,} to {high:,}")
            return None
        if not low <= number <= high:
            self.fail(field, f"must be a whole number from {low:,} to {high:,}")
            return None
        return number

    def amount(self, data: Mapping[str, Any], field: str) -> Decimal | None:
        text = self.text(data, field, 40)
        if text is None:
            return None
        try:
            number = Decimal(text.replace(" ", "").replace("_", "").replace(",", ""))
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            self.fail(field, "must be an amount, like 1250000.50")
        elif number < 0:
            self.fail(field, "must be 0 or more")
        elif number > AMOUNT_MAX:
            self.fail(field, f"must be at most {AMOUNT_MAX:,}")
        elif number != number.quantize(Decimal("0.01")):
            self.fail(field, "must have at most 2 decimals")
        else:
            return number.quantize(Decimal("0.01"))
        return None

    def day(
        self,
        data: Mapping[str, Any],
        field: str,
        low: date | None = None,
        high: date | None = None,
    ) -> date | None:
        value = data.get(field)
        if isinstance(value, date):
            parsed: date | None = value
        else:
            text = self.text(data, field, 20)
            if text is None:
                return None
            try:
                parsed = date.fromisoformat(text)
            except ValueError:
                self.fail(field, not_a_date(text))
                return None
        assert parsed is not None
        if low and parsed < low:
            self.fail(field, f"must be on or after {low.isoformat()}")
        if high and parsed > high:
            self.fail(field, f"must be on or before {high.isoformat()}")
        return parsed

    def flag(self, data: Mapping[str, Any], field: str) -> bool:
        return bool(data.get(field))


_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip


def not_a_date(text: str) -> str:
    """Why `text` is not a date: '2026-02-30' has the right form but no such day."""
    match = _ISO_DAY.match(text)
    if not match:
        return "must be a date written YYYY-MM-DD, like 2024-03-12"
    year, month, day = (int(g) for g in match.groups())
    if not 1 <= month <= 12:
        return f"is not a date: there is no month {month}"
    if year < 1:
        return "is not a date: the year must be 1 or later"
    days = calendar.monthrange(year, month)[1]
    return f"is not a date: {_MONTHS[month - 1]} {year} has {days} days, not {day}"
