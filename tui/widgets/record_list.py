"""A virtual list of header and item rows drawn with Textual's Line API.

Only the visible lines are rendered (`render_line`), so a timeline of thousands of activities
costs what one screen of them costs. Pages are appended as they arrive; when the cursor or the
scroll position comes near the end the list posts `NearEnd`, and the screen fetches the next
keyset page. The rows hold small dataclasses only; the screen caps how many it appends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.segment import Segment
from textual.binding import Binding
from textual.cache import LRUCache
from textual.content import Content
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

NEAR_END = 8  # rows before the end at which the next page is asked for


@dataclass(frozen=True)
class Header:
    label: Content


class RecordList(ScrollView, can_focus=True):
    """Rows are `Header` or items; `render_item(item, width)` turns an item into Content."""

    DEFAULT_CSS = """
    RecordList { height: 1fr; background: $surface; }
    RecordList > .record-list--cursor { background: $block-cursor-background;
        color: $block-cursor-foreground; text-style: bold; }
    RecordList:blur > .record-list--cursor { background: $block-cursor-blurred-background;
        text-style: none; }
    RecordList > .record-list--header { color: $text-accent; text-style: bold; }
    RecordList > .record-list--empty { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "record-list--cursor", "record-list--header", "record-list--empty",
    }  # fmt: skip
    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False, id="list-up"),
        Binding("down,j", "move(1)", "Down", show=False, id="list-down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="list-page-up"),
        Binding("pagedown,space", "page(1)", "Page down", show=False, id="list-page-down"),
        Binding("home", "first", "First", show=False, id="list-first"),
        Binding("end", "last", "Last", show=False, id="list-last"),
    ]

    cursor: reactive[int] = reactive(-1, always_update=True)

    class Highlighted(Message):
        def __init__(self, record_list: RecordList, item: Any) -> None:
            super().__init__()
            self.record_list = record_list
            self.item = item

    class NearEnd(Message):
        """The person is close to the last loaded row: load the next page if there is one."""

        def __init__(self, record_list: RecordList) -> None:
            super().__init__()
            self.record_list = record_list

    def __init__(
        self,
        render_item: Callable[[Any, int], Content],
        empty: str = "Nothing here yet.",
        *,
        id: str | None = None,  # noqa: A002 (Textual's own name)
    ) -> None:
        super().__init__(id=id)
        self.render_item = render_item
        self.empty = empty
        self.rows: list[Any] = []
        self._asked_at = -1
        # Rendered lines by (row index, width, highlighted): a frame redraws only what changed.
        self._lines: LRUCache[tuple[int, int, bool], Strip] = LRUCache(1024)

    # -- data ---------------------------------------------------------------------------------

    @property
    def items(self) -> list[Any]:
        return [r for r in self.rows if not isinstance(r, Header)]

    @property
    def item(self) -> Any | None:
        """The highlighted item (never a header), or None."""
        if 0 <= self.cursor < len(self.rows) and not isinstance(self.rows[self.cursor], Header):
            return self.rows[self.cursor]
        return None

    def clear(self, empty: str | None = None) -> None:
        self.rows = []
        self._lines.clear()
        self._asked_at = -1
        if empty is not None:
            self.empty = empty
        self._resize()
        self.scroll_to(0, 0, animate=False)
        self.cursor = -1

    def extend(self, rows: list[Any]) -> None:
        """Append header and item rows (the next page)."""
        self.rows.extend(rows)
        self._resize()
        if self.cursor < 0:
            self.cursor = self._next_item(0, 1)
        self.refresh()

    def swap(self, rows: list[Any], key: Callable[[Any], object]) -> None:
        """Replace every row with `rows` (a re-read after a change notice), keeping the
        highlighted item (found again by `key`) and the scroll position."""
        keep = key(self.item) if self.item is not None else None
        old_cursor, scroll_y = self.cursor, self.scroll_offset.y
        self.rows = list(rows)
        self._lines.clear()
        self._asked_at = -1
        self._resize()
        found = -1
        if keep is not None:
            found = next((i for i, r in enumerate(self.rows)
                          if not isinstance(r, Header) and key(r) == keep), -1)  # fmt: skip
        if found < 0 and self.rows:
            found = self._next_item(min(max(old_cursor, 0), len(self.rows) - 1), -1)
            if found < 0:
                found = self._next_item(0, 1)
        self.scroll_to(0, scroll_y, animate=False, immediate=True)
        if found != old_cursor:
            self.cursor = found
        self.refresh()

    def replace(self, match: Callable[[Any], bool], new: Any) -> None:
        """Swap the first item for which `match` is true (an edited or completed activity)."""
        for index, row in enumerate(self.rows):
            if not isinstance(row, Header) and match(row):
                self.rows[index] = new
                self._lines.clear()
                self.refresh()
                return

    def _resize(self) -> None:
        self.virtual_size = Size(self.size.width, max(len(self.rows), 1))

    # -- drawing ------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        if not self.rows:
            if y == 0:
                style = self.get_component_rich_style("record-list--empty")
                return Strip([Segment(" " + self.empty, style)]).crop_extend(0, width, None)
            return Strip.blank(width)
        if index >= len(self.rows):
            return Strip.blank(width)
        key = (index, width, index == self.cursor)
        cached = self._lines.get(key)
        if cached is not None:
            return cached
        row = self.rows[index]
        if isinstance(row, Header):
            content = row.label
            style = self.get_component_rich_style("record-list--header")
        else:
            content = self.render_item(row, width)
            style = None
        strip = Strip(content.render_segments()).crop_extend(0, width, None)
        if style is not None:
            strip = strip.apply_style(style)
        if index == self.cursor:
            strip = strip.apply_style(self.get_component_rich_style("record-list--cursor"))
        self._lines[key] = strip
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()  # focus, theme: the cursor and header styles changed

    # -- movement -----------------------------------------------------------------------------

    def _next_item(self, start: int, step: int) -> int:
        index = start
        while 0 <= index < len(self.rows):
            if not isinstance(self.rows[index], Header):
                return index
            index += step
        return -1

    def watch_cursor(self, old: int, new: int) -> None:
        if new < 0:
            return
        top = new - 1 if new > 0 and isinstance(self.rows[new - 1], Header) else new
        self.scroll_to_region(Region(0, top, 1, new - top + 1), animate=False, immediate=True)
        self.refresh()
        self.post_message(self.Highlighted(self, self.item))
        self._check_near_end()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._check_near_end()

    def _check_near_end(self) -> None:
        if not self.rows:
            return
        bottom = max(self.cursor, int(self.scroll_offset.y) + self.size.height)
        if bottom >= len(self.rows) - NEAR_END and self._asked_at != len(self.rows):
            self._asked_at = len(self.rows)
            self.post_message(self.NearEnd(self))

    def _move_to(self, target: int, step: int) -> None:
        if not self.rows:
            return
        target = max(0, min(target, len(self.rows) - 1))
        found = self._next_item(target, step)
        if found < 0:
            found = self._next_item(target, -step)
        if found >= 0:
            self.cursor = found

    def action_move(self, step: int) -> None:
        if self.cursor < 0:
            self._move_to(0, 1)
            return
        found = self._next_item(self.cursor + step, step)
        if found >= 0:
            self.cursor = found
        else:
            self._check_near_end()

    def action_page(self, direction: int) -> None:
        self._move_to(self.cursor + direction * max(self.size.height - 1, 1), direction)

    def action_first(self) -> None:
        self._move_to(0, 1)

    def action_last(self) -> None:
        self._move_to(len(self.rows) - 1, -1)
