"""One-line renderings of records shared by the account and contact screens.

Every database value goes through tui.text (clean/safe/safe_markup); columns are padded by
terminal cells (CJK and emoji are two cells wide), never by characters.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from rich.cells import set_cell_size
from textual.content import Content

from db.services.accounts import ActivityRow, ContactRow, OpportunityRow
from db.services.contacts import CaseRow
from tui.text import clean, money, safe, safe_markup


def fit(value: object, width: int) -> str:
    """The cleaned value cut or padded to exactly `width` terminal cells."""
    text = clean(value, limit=max(width * 2, 1), single_line=True)
    return set_cell_size(text, width)


def lines(items: Iterable[Content], empty: str = "none") -> Content:
    """Contents one per line; a muted `empty` when there are none."""
    items = list(items)
    if not items:
        return Content.from_markup("[dim]$empty[/]", empty=empty)
    return Content("\n").join(items)


def when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at else ""


def contact_line(c: ContactRow, title_width: int = 14) -> Content:
    """'Name (22 cells) Job title (title_width cells) phone-or-email'."""
    reach = clean(c.phone or c.email or "", single_line=True)
    return safe(f"{fit(c.full_name, 22)} {fit(c.job_title or '', title_width)} {reach}")


def deal_line(o: OpportunityRow) -> Content:
    close = o.expected_close.isoformat() if o.expected_close else "no date"
    return safe_markup(
        "$name  [dim]$stage[/] $amount  $close",
        name=fit(o.name, 24), stage=fit(o.stage, 9), amount=money(o.amount), close=close,
    )  # fmt: skip


def activity_line(a: ActivityRow, with_contact: bool = True) -> Content:
    detail = " ".join(part for part in (a.direction, a.outcome) if part)
    if a.duration_seconds:
        detail += f" {max(1, round(a.duration_seconds / 60))}m"
    who = (
        f"{clean(a.contact_name, limit=20, single_line=True)}: "
        if with_contact and a.contact_name
        else ""
    )
    return safe_markup(
        "$at  [b]$kind[/] $detail  $who$subject",
        at=when(a.occurred_at), kind=a.kind, detail=detail.strip(), who=who,
        subject=clean(a.subject, limit=200, single_line=True),
    )  # fmt: skip


def case_line(c: CaseRow) -> Content:
    due = f"due {when(c.due_at)}" if c.due_at else ""
    return safe_markup(
        "case [b]#$id[/] $subject  [dim]$status $priority $due[/]",
        id=c.id, subject=fit(c.subject, 28), status=c.status, priority=c.priority, due=due,
    )  # fmt: skip
