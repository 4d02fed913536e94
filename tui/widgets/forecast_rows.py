"""How a forecast row looks: name, a text bar and the figures, in monochrome too.

The bar is made of characters, never colour, so it reads on a terminal without colours:
`█` closed won, `▓` open commit, `▒` open best case, `░` the rest of the open pipeline; one
scale for the whole view (the longest bar fills the bar column). Partial cells use `▌`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from textual.content import Content

from db.services import forecast as fc
from tui.text import money
from tui.widgets.activity_rows import fit

NAME = 20
NUM = 6
COLUMNS = ("closed", "commit", "best", "pipe", "wtd")
LEGEND = "█ closed  ▓ commit  ▒ best case  ░ pipeline"


@dataclass(frozen=True)
class AdjustmentLine:
    """The line under a person (or a team) whose figures a manager adjusted."""

    row: fc.Row


def bar_width(width: int) -> int:
    return max(width - NAME - 1 - (NUM + 1) * len(COLUMNS) - 1, 4)


def segments(row: fc.Row) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """closed, open commit, open best case, open pipeline-category: they add up to the bar."""
    o = row.own
    commit_open = o.commit - o.closed
    best_open = o.best_case - o.commit
    return o.closed, commit_open, best_open, max(o.pipeline - commit_open - best_open, Decimal(0))


def bar(row: fc.Row, scale: Decimal, width: int) -> str:
    """The row's bar in `width` cells; `scale` is the amount of a full bar. A cell shows the
    segment under its middle; a last part shorter than half a cell is drawn as `▌`."""
    if scale <= 0:
        return " " * width
    bounds: list[float] = []
    used = Decimal(0)
    for amount in segments(row):
        used += amount
        bounds.append(float(used / scale) * width)
    total = bounds[-1]
    out = []
    for i in range(width):
        middle = i + 0.5
        if middle <= total:
            out.append("█▓▒░"[next(k for k, b in enumerate(bounds) if b >= middle)])
        elif i < total:
            out.append("▌")
        else:
            out.append(" ")
    return "".join(out)


def scale_of(rows: list[fc.Row]) -> Decimal:
    return max((sum(segments(r), Decimal(0)) for r in rows), default=Decimal(0))


def header(width: int) -> Content:
    nums = "".join(f" {c:>{NUM}}" for c in COLUMNS)
    return Content(f"{'':<{NAME}} {'':<{bar_width(width)}}{nums}")


def row_line(row: fc.Row, scale: Decimal, width: int) -> Content:
    indent = " " * row.depth
    marker = "▸ " if row.kind in ("team", "total") else "  "
    name = fit(indent + marker + row.name if row.kind != "total" else "Total", NAME)
    o = row.own
    nums = "".join(f" {money(v):>{NUM}}" for v in (o.closed, o.commit, o.best_case, o.pipeline,
                                                     o.weighted))  # fmt: skip
    return Content(f"{name} {bar(row, scale, bar_width(width))}{nums}")


def adjustment_line(row: fc.Row, width: int) -> Content:
    """'adj commit 5k by Mia Mid 2 Dec' (latest per category), or the rolled-up figures."""
    parts = []
    for k in fc.CATEGORIES:
        if k not in row.adjusted:
            continue
        a = row.adjustments.get(k)
        words = f"{fc.CATEGORY_WORDS[k]} {money(row.adjusted[k])}"
        if a is not None:
            words += f" by {a.by_name} {a.at:%-d %b}"
        parts.append(words)
    lead = " " * row.depth + ("    adj " if row.kind == "person" else "    adj total ")
    return Content(fit(lead + "; ".join(parts), width))
