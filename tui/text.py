"""The one place that turns database values into something a terminal may display.

Record data is hostile input (DESIGN.md section 5): markup must never be parsed from it and
control characters must never reach the terminal. Every value from the database goes through
`safe()` (or `safe_markup()` for templates) before any widget sees it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rich.cells import cell_len, split_graphemes
from rich.text import Text
from textual.content import Content

# C0 controls except tab and newline, DEL, C1 controls, and the bidi controls that reorder text.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_REPLACEMENT = "\ufffd"
MAX_DISPLAY = 2000  # longer values are cut: nobody reads a 10,000 character name on screen


def clean(value: Any, limit: int = MAX_DISPLAY, single_line: bool = False) -> str:
    """`value` as a plain string with every unsafe character replaced by U+FFFD.

    `single_line` also turns newlines and tabs into spaces (for table cells, tree labels).
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else _format(value)
    text = _UNSAFE.sub(_REPLACEMENT, text)
    if single_line:
        text = text.replace("\n", " ").replace("\t", " ")
    return cut(text, limit)


def cut(text: str, limit: int) -> str:
    """`text` in at most `limit` terminal cells, ending in "…" when it had to be cut.

    The cut falls between grapheme clusters, never inside one: half a ZWJ emoji leaves a joiner
    that glues the "…" to it, and the line comes out a cell short (Admin › Users, QA #16).
    Cells are counted the way Textual draws them (Rich's tables), so CJK counts two.
    """
    if len(text) <= limit and (text.isascii() or cell_len(text) <= limit):
        return text
    # Clusters are at least one code point and mostly one cell wide: measuring a generous head
    # keeps a 10,000 character value cheap. The last cluster of the head may be incomplete.
    head = text[: limit * 4 + 16]
    spans, width = split_graphemes(head)
    if width <= limit and len(head) == len(text):
        return text
    used, end = 0, 0
    for _start, stop, size in spans[:-1] if len(head) < len(text) else spans:
        if used + size > limit - 1:
            break
        used, end = used + size, stop
    return text[:end] + "…"


def cells(text: str) -> int:
    """How many terminal cells `text` takes."""
    return cell_len(text)


def cell(value: Any, limit: int = MAX_DISPLAY) -> Text:
    """A database value as a table cell: one line, literal, cut to `limit` cells.

    DataTable sizes its columns from its cells, and it can measure a Rich Text but not a
    Content (it counts one cell), which cut every column to its header (QA #12).
    """
    return Text(clean(value, limit=limit, single_line=True), no_wrap=True, overflow="ellipsis",
                end="")  # fmt: skip


def safe(value: Any, limit: int = MAX_DISPLAY, single_line: bool = False) -> Content:
    """A database value as Content: literal text, never markup, never escapes."""
    return Content(clean(value, limit=limit, single_line=single_line))


def safe_markup(template: str, **values: Any) -> Content:
    """Our own markup template with database values substituted as variables.

    `safe_markup("[b]$name[/b] · $title", name=contact.full_name, title=...)`: the values are
    cleaned and inserted literally, so `[/]` or `[@click=...]` in them stays text.
    """
    cleaned = {key: clean(v, single_line=True) for key, v in values.items()}
    return Content.from_markup(template, **cleaned)


def _format(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def money(value: Decimal | float | int | None) -> str:
    """Compact amounts for dense screens: 950, 12.5k, 3.2M."""
    if value is None:
        return "—"
    v = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"{v / size:.1f}{suffix}".replace(".0", "")
    return f"{v:.0f}"


def capped(count: int, cap: int) -> str:
    """A capped count: exact below the cap, '1,000+' at or above it."""
    return f"{cap:,}+" if count >= cap else f"{count:,}"
