"""The board's columns: one per open stage, drawn as one widget (no widget per card).

Columns are at least COLUMN_WIDTH cells wide plus a separator (wider when all of them fit); as
many as fit are shown and the rest
scroll sideways with the selected column (◀ ▶ say that more are there). Cards are compact (two
lines) when the terminal is small (under COMPACT_BELOW rows or columns), else four lines and a
blank. The selected card is drawn in reverse video (visible in monochrome).

Card markers, in characters that survive monochrome (docs/pipeline.md):
  next activity   ! overdue   • due today   › later   ? none planned (a warning)
  idle            12d/14 = idle days / the stage's rotting period; ~ when rotting
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from rich.text import Text
from textual.widget import Widget

from db.services.pipeline import Board, Card, Column
from tui.text import cells, clean, cut, money

COLUMN_WIDTH = 25
COMPACT_BELOW = (100, 32)  # width, height: below either, cards go compact
NEXT_MARK = {"overdue": "!", "today": "•", "later": "›", "none": "?"}
NEXT_WORD = {"overdue": "overdue", "today": "due today", "later": "planned", "none": "none planned"}


def idle_text(card: Card) -> str:
    limit = f"/{card.rotting_days}" if card.rotting_days is not None else ""
    return f"{card.idle_days}d{limit}{'~' if card.rotting else ''}"


def close_text(day: date | None, today: date) -> str:
    """The expected close: '12 Dec' this year, 'Dec 2030' another, 'no date'."""
    if day is None:
        return "no date"
    return day.strftime("%d %b") if day.year == today.year else day.strftime("%b %Y")


def card_lines(card: Card, width: int, compact: bool, today: date) -> list[str]:
    """The lines of one card (plain text, cleaned and cut to `width`)."""
    state = card.next_state(today)
    mark = NEXT_MARK[state]
    name = clean(card.name, single_line=True)
    account = clean(card.account, single_line=True)
    owner = clean(card.owner or "—", single_line=True)
    close = close_text(card.expected_close, today)
    amount = money(card.amount)
    if compact:
        first = f"{mark} {name} · {account}"
        second = f"  {amount} {close} {idle_text(card)} {owner}"
        return [cut(first, width), cut(second, width)]
    return [
        cut(f"{mark} {name}", width),
        cut(f"  {account}", width),
        cut(f"  {amount} {clean(card.currency)} · {close}", width),
        cut(f"  {owner} · {idle_text(card)} · {NEXT_WORD[state]}", width),
    ]


@dataclass
class Cursor:
    column: int = 0
    cards: dict[int, int] = field(default_factory=dict)  # stage id -> selected card index
    tops: dict[int, int] = field(default_factory=dict)  # stage id -> first card shown
    first: int = 0  # first column shown


class PipelineColumns(Widget, can_focus=True):
    DEFAULT_CSS = """
    PipelineColumns { height: 1fr; background: $surface; }
    """

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self.board: Board | None = None
        self.cursor = Cursor()
        self.pending: set[int] = set()  # deals with a move on its way

    # -- geometry -------------------------------------------------------------------------
    @property
    def compact(self) -> bool:
        width, height = self.app.size
        return width < COMPACT_BELOW[0] or height < COMPACT_BELOW[1]

    @property
    def card_height(self) -> int:
        return 2 if self.compact else 5

    @property
    def visible_columns(self) -> int:
        # two cells stay free at the right for the ◀ ▶ marks
        return max(1, (self.size.width - 2 + 1) // (COLUMN_WIDTH + 1))

    @property
    def visible_cards(self) -> int:
        # the header line on top, the "…N more" line at the bottom
        return max(1, (self.size.height - 2) // self.card_height)

    # -- selection ------------------------------------------------------------------------
    @property
    def column(self) -> Column | None:
        if self.board is None or not self.board.columns:
            return None
        return self.board.columns[min(self.cursor.column, len(self.board.columns) - 1)]

    @property
    def card(self) -> Card | None:
        col = self.column
        if col is None or not col.cards:
            return None
        index = min(self.cursor.cards.get(col.stage.id, 0), len(col.cards) - 1)
        return col.cards[index]

    def select(self, deal_id: int) -> bool:
        """Put the cursor on a deal if it is on the board."""
        if self.board is None:
            return False
        for ci, col in enumerate(self.board.columns):
            for i, card in enumerate(col.cards):
                if card.id == deal_id:
                    self.cursor.column = ci
                    self.cursor.cards[col.stage.id] = i
                    self._follow()
                    return True
        return False

    def move_column(self, delta: int) -> None:
        if self.board and self.board.columns:
            self.cursor.column = max(0, min(len(self.board.columns) - 1,
                                            self.cursor.column + delta))  # fmt: skip
            self._follow()

    def move_card(self, delta: int) -> None:
        col = self.column
        if col is None or not col.cards:
            return
        index = self.cursor.cards.get(col.stage.id, 0) + delta
        self.cursor.cards[col.stage.id] = max(0, min(len(col.cards) - 1, index))
        self._follow()

    def _follow(self) -> None:
        """Scroll sideways and down so that the selection is visible."""
        n = self.visible_columns
        c = self.cursor
        if c.column < c.first:
            c.first = c.column
        elif c.column >= c.first + n:
            c.first = c.column - n + 1
        col = self.column
        if col is not None:
            index = min(c.cards.get(col.stage.id, 0), max(0, len(col.cards) - 1))
            c.cards[col.stage.id] = index
            top = c.tops.get(col.stage.id, 0)
            rows = self.visible_cards
            if index < top:
                top = index
            elif index >= top + rows:
                top = index - rows + 1
            c.tops[col.stage.id] = top
        self.refresh()

    def near_end(self) -> bool:
        """The selected column shows its last loaded cards and has more to load."""
        col = self.column
        if col is None or not col.more:
            return False
        return self.cursor.cards.get(col.stage.id, 0) >= len(col.cards) - self.visible_cards

    # -- drawing --------------------------------------------------------------------------
    def on_resize(self) -> None:
        self._follow()

    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        if self.board is None:
            return Text("Loading the board…")
        if not self.board.columns:
            return Text("This pipeline has no open stage: an admin adds stages (0 Admin).")
        n = self.visible_columns
        c = self.cursor
        shown = self.board.columns[c.first : c.first + n]
        lines = [Text() for _ in range(height)]
        for k, col in enumerate(shown):
            index = c.first + k
            self._draw_column(lines, col, index == c.column, height, self.column_width)
            if k < len(shown) - 1:
                for line in lines:
                    line.append("│", style="dim")
        more_left = c.first > 0
        more_right = c.first + n < len(self.board.columns)
        if more_left or more_right:
            # the arrows sit at the right edge of the header line
            head = lines[0]
            pad = max(0, width - head.cell_len - 2)
            head.append(" " * pad)
            head.append(("◀" if more_left else " ") + ("▶" if more_right else " "), style="bold")
        out = Text("\n").join(lines)
        out.no_wrap = True
        out.overflow = "crop"
        return out

    @property
    def column_width(self) -> int:
        """COLUMN_WIDTH, or wider when every column fits and room is left over."""
        count = len(self.board.columns) if self.board else 1
        shown = max(1, min(count, self.visible_columns))
        return max(COLUMN_WIDTH, (self.size.width - 2 + 1) // shown - 1)

    def _draw_column(
        self, lines: list[Text], col: Column, selected: bool, height: int, w: int
    ) -> None:
        title = cut(f"{clean(col.stage.name, single_line=True)} {col.count:,} · "
                    f"{money(col.total)}", w)  # fmt: skip
        lines[0].append(title.ljust(w - cells(title) + len(title)),
                        style="bold underline" if selected else "bold")  # fmt: skip
        today = self.board.today if self.board else date.today()
        top = self.cursor.tops.get(col.stage.id, 0)
        chosen = self.cursor.cards.get(col.stage.id, 0) if selected else -1
        y = 1
        drawn = top
        for i in range(top, len(col.cards)):
            card = col.cards[i]
            body = card_lines(card, w, self.compact, today)
            if y + len(body) > height - 1:
                break
            drawn = i + 1
            style = "reverse" if i == chosen else ("italic" if card.id in self.pending else "")
            for j, text in enumerate(body):
                line_style = style + (" bold" if j == 0 and i != chosen else "")
                lines[y + j].append(text.ljust(w - cells(text) + len(text)), style=line_style)
            y += len(body)
            if not self.compact and y < height:
                lines[y].append(" " * w)
                y += 1
        rest = col.count - drawn
        if y < height:
            if not col.cards:
                note = "no deals"
            elif rest > 0:
                note = f"…{rest:,} more"
            else:
                note = ""
            lines[y].append(note.ljust(w), style="dim")
            y += 1
        for k in range(y, height):
            lines[k].append(" " * w)
