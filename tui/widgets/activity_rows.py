"""How one activity looks as a line of a timeline or of My day (and the day headers).

Every value from the database is cleaned (tui/text.py) before it is placed in a column; the
line is assembled as Content from plain strings, so nothing in a record is parsed as markup.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from rich.cells import cell_len, set_cell_size
from textual.content import Content

from db.services.activities import Activity, local_day
from tui.text import clean

KIND_WIDTH = 8
ARROWS = {"out": "→", "in": "←"}


def fit(value: object, width: int) -> str:
    """A cleaned single-line value cut or padded to exactly `width` cells."""
    text = clean(value, limit=400, single_line=True)
    if cell_len(text) > width:
        return set_cell_size(text, max(width - 1, 0)) + "…" if width > 0 else ""
    return set_cell_size(text, width)


def short_day(day: date, today: date | None = None) -> str:
    today = today or date.today()
    if day == today:
        return "today"
    if day == today + timedelta(days=1):
        return "tomorrow"
    if day == today - timedelta(days=1):
        return "yesterday"
    if abs((day - today).days) < 7:
        return day.strftime("%a")
    return day.strftime("%d %b" if day.year == today.year else "%d %b %Y")


def day_label(day: date, today: date | None = None) -> str:
    """'Today', 'Yesterday' or 'Monday 21 Nov' (with the year when it is not this year)."""
    today = today or date.today()
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    return day.strftime("%A %d %b" if day.year == today.year else "%A %d %b %Y")


def header_content(label: str, width: int = 200) -> Content:
    return Content(f"── {label} " + "─" * max(width - len(label) - 4, 0))


def duration_text(seconds: int | None) -> str:
    if not seconds:
        return ""
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes}m" if minutes else f"{seconds}s"
    return f"{minutes // 60}h{minutes % 60:02d}" if minutes % 60 else f"{minutes // 60}h"


def kind_text(a: Activity) -> str:
    if a.due_at is not None:
        return f"{a.kind} {'☑' if a.completed_at else '☐'}"
    return a.kind


def state_text(a: Activity, today: date | None = None) -> str:
    """'overdue', 'due Fri' or 'done': readable without colour."""
    if a.due_at is None:
        return ""
    if a.completed_at is not None:
        return "done"
    if a.is_overdue(today):
        return "overdue"
    return "due " + short_day(local_day(a.due_at), today)


def who_text(a: Activity) -> str:
    author = clean(a.author_name or "", single_line=True).split(" ")[0]
    if a.contact_name:
        arrow = ARROWS.get(a.direction or "", "·")
        return f"{author} {arrow} {clean(a.contact_name, single_line=True)}"
    return author


def timeline_row(a: Activity, width: int, today: date | None = None) -> Content:
    """`09:12 call   alice → Anna Lind   reached 6m  budget approved…   overdue`"""
    when = a.occurred_at.astimezone() if a.occurred_at.tzinfo else a.occurred_at
    state = state_text(a, today)
    outcome = clean((a.outcome or "").replace("_", " "))
    result = " ".join(p for p in (outcome, duration_text(a.duration_seconds)) if p)
    who_w = 22 if width >= 70 else 14
    res_w = 11 if width >= 70 else 0
    state_w = 10 if state else 0
    title_w = max(width - 6 - KIND_WIDTH - who_w - res_w - state_w - 4, 8)
    parts: list[str | tuple[str, str]] = [
        (when.strftime("%H:%M"), "bold"), " ",
        (fit(kind_text(a), KIND_WIDTH), "$accent"), " ",
        fit(who_text(a), who_w), " ",
    ]  # fmt: skip
    if res_w:
        parts += [(fit(result, res_w), "italic"), " "]
    parts.append(fit(a.title, title_w))
    if state:
        style = "bold reverse" if state == "overdue" else "dim"
        parts += [" ", (fit(state, state_w - 1).rstrip().rjust(state_w - 1), style)]
    return Content.assemble(*parts)


def my_day_row(a: Activity, width: int, today: date | None = None) -> Content:
    """`☐ due Mon 09:00  call  Anna Lind · Volvo Cars   send quote         overdue`"""
    due = a.due_at.astimezone() if a.due_at and a.due_at.tzinfo else a.due_at
    assert due is not None
    day = short_day(due.date(), today)
    clock = due.strftime("%H:%M") if (due.hour, due.minute) != (0, 0) else ""
    where = " · ".join(
        clean(v, single_line=True) for v in (a.contact_name, a.account_name) if v
    )
    state = "overdue" if a.is_overdue(today) else ""
    where_w = 24 if width >= 70 else 14
    title_w = max(width - 2 - 16 - KIND_WIDTH - where_w - 9 - 3, 8)
    parts: list[str | tuple[str, str]] = [
        "☐ ", (fit(f"{day} {clock}".strip(), 16), "bold"), (fit(a.kind, KIND_WIDTH), "$accent"),
        fit(where, where_w), " ", fit(a.title or "(no subject)", title_w), " ",
    ]  # fmt: skip
    if state:
        parts.append((" overdue", "bold reverse"))
    return Content.assemble(*parts)


def when_text(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone() if value.tzinfo else value
    return local.strftime("%a %d %b %Y %H:%M")
