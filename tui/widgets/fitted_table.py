"""A DataTable whose columns fit their content and the terminal.

Every column but the last is as wide as its widest cell, up to its cap; the last takes what is
left (at least its own cap). Cells wrap and rows grow instead of being cut, and a resize fits
the columns again. Used by History, Trash and Admin › Audit (QA #12, walk-through 2i, 2l, 2m).
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widgets import DataTable

from tui.text import cells

SCROLLBAR = 2  # DataTable's vertical scrollbar


class FittedTable(DataTable):
    def __init__(self, columns: list[tuple[str, int]], **kwargs) -> None:
        super().__init__(cursor_type="row", **kwargs)
        self.specs = columns
        self.data_rows: list[tuple[Text, ...]] = []
        self.row_keys: list[str | None] = []
        self._fitted_for = -1

    def set_rows(self, rows: list[tuple[Text, ...]], keys: list[str | None] | None = None,
                 append: bool = False, keep_cursor: bool = False) -> None:  # fmt: skip
        """Show `rows` (after the current ones when `append`); `keep_cursor` keeps the cursor
        row and the scroll position (a re-read after a change notice)."""
        if not append:
            self.data_rows, self.row_keys = [], []
        self.data_rows += rows
        self.row_keys += keys or [None] * len(rows)
        scroll_y = self.scroll_y
        self._fit(keep_cursor=append or keep_cursor)
        if keep_cursor:
            self.scroll_to(y=scroll_y, animate=False, immediate=True)

    def widths(self, total: int) -> list[int]:
        """Column widths for a table `total` cells wide."""
        pad = 2 * self.cell_padding * len(self.specs) + SCROLLBAR
        out = []
        for i, (label, cap) in enumerate(self.specs[:-1]):
            widest = max((cells(row[i].plain) for row in self.data_rows), default=0)
            out.append(max(cells(label), min(cap, widest)))
        last_label, last_min = self.specs[-1]
        out.append(max(last_min, cells(last_label), total - pad - sum(out)))
        return out

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._fitted_for:
            self._fit(keep_cursor=True)

    def _fit(self, keep_cursor: bool) -> None:
        width = self.size.width or self.app.size.width
        self._fitted_for = width
        row = self.cursor_row
        self.clear(columns=True)
        for (label, _cap), w in zip(self.specs, self.widths(width), strict=True):
            self.add_column(label, width=w)
        for cells_, key in zip(self.data_rows, self.row_keys, strict=True):
            wrapped = [Text(c.plain, style=c.style, no_wrap=False, overflow="fold") for c in cells_]
            self.add_row(*wrapped, height=None, key=key)
        if keep_cursor and self.data_rows:
            self.move_cursor(row=min(row, len(self.data_rows) - 1))
