"""What the app means to draw: its compositor's rows as text, one string per screen row.

Textual's compositor holds the screen the app intends (the top screen over the screens it
shows through). Every row is made exactly as wide as the screen in terminal cells, and any
character a terminal would act on instead of showing (a newline, an escape) is dropped from
the row and reported as a fault: the app meant the visible text, the terminal gets the control.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from rich.cells import cell_len, set_cell_size
from textual._context import visible_screen_stack
from textual.app import App


@dataclass
class Model:
    rows: list[str]
    faults: list[str] = field(default_factory=list)  # "row 5: '\\n'"


def _visible(text: str) -> tuple[str, str]:
    """(text without control characters, the control characters found)."""
    kept, dropped = [], []
    for ch in text:
        (dropped if unicodedata.category(ch) == "Cc" else kept).append(ch)
    return "".join(kept), "".join(dropped)


def model(app: App) -> Model:
    """The app's current screen as it means it, row by row (no side effects on painting)."""
    width, height = app.size
    token = visible_screen_stack.set(app._background_screens)
    try:
        strips = app.screen._compositor.render_strips()
    finally:
        visible_screen_stack.reset(token)
    rows, faults = [], []
    for y, strip in enumerate(strips[:height]):
        parts = []
        for segment in strip:
            if segment.control:
                continue
            text, dropped = _visible(segment.text)
            if dropped:
                faults.append(f"row {y}: {dropped!r} after {''.join(parts)[-30:]!r}")
            parts.append(text)
        row = "".join(parts)
        rows.append(row if cell_len(row) == width else set_cell_size(row, width))
    rows += [" " * width] * (height - len(rows))
    return Model(rows, faults)
