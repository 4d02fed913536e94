"""The pipeline board (key 4, `--screen pipeline`): one column per open stage, cards by amount.

left/right choose a column, up/down a card; shift+right or `>` moves the selected deal to the
next stage (the status line shows the exit criteria of the stage it leaves), shift+left or `<`
to the previous one; `w` wins it, `x` loses it (asks the reason); enter or `e` edits it, `n`
makes a new deal in the selected stage; `f` filters (mine, my team, everyone I may see, an
expected close range); `p` switches pipeline. ctrl+e is left for the export (issue 12 part 6).

Moves are applied on screen at once and sent in order by one worker (a burst of `>>>` moves
the deal three stages, each with the version the previous move returned); when the queue is
empty the board is read again. Other people's changes arrive as RecordsChanged and reload it.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import replace
from decimal import Decimal
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from db.connection import database
from db.errors import SwitchboardError
from db.services import deals, pipeline
from db.services.pipeline import Board, Card, Filters
from tui.screens.base import BaseScreen
from tui.text import clean, money, safe
from tui.widgets.pipeline_columns import PipelineColumns


class BoardLoaded(Message):
    def __init__(self, board: Board, select: int | None, note: str = "", seq: int = 0) -> None:
        super().__init__()
        self.board, self.select, self.note, self.seq = board, select, note, seq


class PageLoaded(Message):
    def __init__(self, stage_id: int, cards: list[Card], generation: int) -> None:
        super().__init__()
        self.stage_id, self.cards, self.generation = stage_id, cards, generation


class MoveApplied(Message):
    def __init__(self, moved: deals.Moved) -> None:
        super().__init__()
        self.moved = moved


class MoveFailed(Message):
    def __init__(self, deal_id: int, text: str) -> None:
        super().__init__()
        self.deal_id, self.text = deal_id, text


class DealTrashed(Message):
    def __init__(self, deal_id: int) -> None:
        super().__init__()
        self.deal_id = deal_id


class MovesDone(Message):
    def __init__(self, deal_id: int | None) -> None:
        super().__init__()
        self.deal_id = deal_id


class PipelineBoardScreen(BaseScreen):
    DEFAULT_CSS = """
    PipelineBoardScreen #board-title { height: 1; padding: 0 1; background: $boost; }
    PipelineBoardScreen #board-summary { height: 1; padding: 0 1; }
    PipelineBoardScreen #board-status { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("left", "column(-1)", "Column", tooltip="Previous column", id="board-left",
                show=False),
        Binding("right", "column(1)", "Column", tooltip="Next column", id="board-right",
                show=False),
        Binding("up", "card(-1)", "Card", tooltip="Previous card", id="board-up", show=False),
        Binding("down", "card(1)", "Card", tooltip="Next card", id="board-down", show=False),
        Binding("pageup", "card(-8)", "Page up", tooltip="Eight cards up", id="board-pgup",
                show=False),
        Binding("pagedown", "card(8)", "Page down", tooltip="Eight cards down",
                id="board-pgdn", show=False),
        Binding("shift+right,greater_than_sign", "move(1)", "Next stage",
                tooltip="Move the deal to the next stage (shows the exit criteria it leaves)",
                id="board-forward"),
        Binding("shift+left,less_than_sign", "move(-1)", "Prev stage",
                tooltip="Move the deal back one stage", id="board-back"),
        Binding("w", "won", "Won", tooltip="Mark the deal won (closes it)", id="board-won"),
        Binding("x", "lost", "Lost", tooltip="Mark the deal lost (asks the reason)",
                id="board-lost"),
        Binding("enter,e", "edit", "Edit", tooltip="Open the deal in its form", id="board-edit"),
        Binding("n", "new", "New", tooltip="A new deal in the selected stage", id="board-new"),
        Binding("h", "history", "History", tooltip="Who changed this deal, and when",
                id="board-history", show=False),
        Binding("d,delete", "delete", "Delete", tooltip="Move the deal to the trash",
                id="board-delete", show=False),
        Binding("f", "filters", "Filter", tooltip="Mine, my team, everyone; close dates",
                id="board-filters"),
        Binding("p", "pipeline", "Pipeline", tooltip="Show the next pipeline",
                id="board-pipeline", show=False),
        Binding("ctrl+r", "refresh", "Refresh", tooltip="Read the board again",
                id="board-refresh", show=False),
        Binding("ctrl+e", "export", "Export", tooltip="Write the board as filtered (every "
                "card of every column) to a CSV file", id="board-export", show=False),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.filters = Filters(scope="all")
        self.ops: deque[tuple[str, int, Any]] = deque()
        self.ops_lock = threading.Lock()
        self.ops_running = False
        self.versions: dict[int, int] = {}
        self.generation = 0  # bumps on every board load: late pages of an old board are dropped
        self.paging: set[int] = set()
        self.reload_wanted = False
        self.reading = False
        self.load_seq = 0

    def compose_body(self) -> ComposeResult:
        yield Static("Pipeline", id="board-title")
        yield Static("", id="board-summary")
        yield PipelineColumns(id="board")
        yield Static("", id="board-status")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(PipelineColumns).focus()
        self.load()

    @property
    def columns(self) -> PipelineColumns:
        return self.query_one(PipelineColumns)

    # -- loading ----------------------------------------------------------------------------
    def action_refresh(self) -> None:
        self.load()

    def action_export(self) -> None:
        """ctrl+e: the board as filtered, every card of every column (not only those loaded)."""
        from db import exports
        from tui.screens.export_prompt import ExportPrompt

        board = self.columns.board
        if board is None:
            return
        stages = [(c.stage.id, c.stage.name) for c in board.columns]
        filters = board.filters
        self.app.push_screen(ExportPrompt(exports.default_name("board"), exports.BOARD_HEADER,
                                          lambda: exports.board_rows(filters, stages)))

    def load(self, select: int | None = None, note: str = "") -> None:
        """Read the board again (the latest read wins: an older one arriving late is dropped)."""
        self.load_seq += 1
        self.reading = True
        self._read(self.load_seq, select, note)

    @work(thread=True, exit_on_error=False, group="board")
    def _read(self, seq: int, select: int | None, note: str) -> None:
        try:
            with database.connection_context():
                board = pipeline.board(self.filters)
        except Exception:
            self.reading = False
            raise
        self.post_message(BoardLoaded(board, select, note, seq))

    def on_board_loaded(self, message: BoardLoaded) -> None:
        if message.seq != self.load_seq:
            return  # an older read: a newer one is on its way
        self.reading = False
        with self.ops_lock:
            busy = self.ops_running
        if busy:  # the moves on their way would be undone on screen: read again after them
            return
        if self.reload_wanted:  # changes arrived while this one was read
            self.reload_wanted = False
            self.load(select=message.select)
            return
        view = self.columns
        keep = message.select
        if keep is None and view.card is not None:
            keep = view.card.id
        old_column = view.cursor.column
        self.generation += 1
        self.paging.clear()
        view.board = message.board
        self.filters = message.board.filters
        self.versions = {c.id: c.version for col in message.board.columns for c in col.cards}
        if keep is None or not view.select(keep):
            view.cursor.column = min(old_column, max(0, len(message.board.columns) - 1))
            view._follow()
        self._show_summary()
        if message.note:
            self._status(message.note)
        self.refresh_bindings()

    def _show_summary(self) -> None:
        board = self.columns.board
        if board is None:
            return
        f = board.filters
        when = ""
        if f.close_from or f.close_to:
            when = f" · closing {f.close_from or '…'} to {f.close_to or '…'}"
        title = f"Pipeline {clean(board.pipeline.name, single_line=True)} · " \
                f"{pipeline.SCOPE_WORDS[f.scope]}{when}"  # fmt: skip
        self.query_one("#board-title", Static).update(safe(title, single_line=True))
        avg = board.average_days
        days = f"{avg:.0f}d" if avg is not None else "—"
        self.query_one("#board-summary", Static).update(safe(
            f"{board.count:,} deals  Σ {money(board.total)}  weighted {money(board.weighted)}"
            f"  ? {board.attention:,} need attention  avg {days} in stage"))  # fmt: skip

    def _status(self, text: str) -> None:
        self.query_one("#board-status", Static).update(safe(text, single_line=True))

    # -- moving about -------------------------------------------------------------------------
    def action_column(self, delta: int) -> None:
        self.columns.move_column(delta)
        self._maybe_page()
        self.refresh_bindings()

    def action_card(self, delta: int) -> None:
        self.columns.move_card(delta)
        self._maybe_page()
        self.refresh_bindings()

    def _maybe_page(self) -> None:
        view = self.columns
        col = view.column
        if col is None or not view.near_end() or col.stage.id in self.paging:
            return
        self.paging.add(col.stage.id)
        self.load_page(col.stage.id, col.after(), self.generation)

    @work(thread=True, exit_on_error=False, group="board-page")
    def load_page(self, stage_id: int, after: tuple[Decimal, int] | None, generation: int) -> None:
        with database.connection_context():
            cards = pipeline.cards(self.filters, stage_id, after)
        self.post_message(PageLoaded(stage_id, cards, generation))

    def on_page_loaded(self, message: PageLoaded) -> None:
        if message.generation != self.generation:
            return
        self.paging.discard(message.stage_id)
        board = self.columns.board
        if board is None:
            return
        for col in board.columns:
            if col.stage.id == message.stage_id:
                known = {c.id for c in col.cards}
                col.cards.extend(c for c in message.cards if c.id not in known)
                self.versions.update({c.id: c.version for c in message.cards})
        self.columns.refresh()

    # -- changing deals -----------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("move", "won", "lost", "edit", "history", "delete"):
            return self.columns.card is not None or None
        if action == "new":
            return self.columns.column is not None or None
        return True

    def action_move(self, direction: int) -> None:
        view = self.columns
        board, card = view.board, view.card
        if board is None or card is None:
            return
        ci = view.cursor.column
        target = ci + direction
        if not 0 <= target < len(board.columns):
            self._status("The last open stage: w marks the deal won." if direction > 0
                         else "The first stage: there is none before it.")  # fmt: skip
            return
        left, into = board.columns[ci], board.columns[target]
        # on screen at once; the worker sends the moves in order
        left.cards.remove(card)
        left.count -= 1
        left.total -= card.amount
        moved = replace(card, stage_id=into.stage.id)
        position = sum(1 for c in into.cards if (c.amount, -c.id) > (card.amount, -card.id))
        into.cards.insert(position, moved)
        into.count += 1
        into.total += card.amount
        view.pending.add(card.id)
        view.select(card.id)
        criteria = clean(left.stage.exit_criteria or "none written", single_line=True)
        verb = "Left" if direction > 0 else "Back from"
        self._status(f"{verb} {clean(left.stage.name)} (exit: {criteria}) → "
                     f"{clean(into.stage.name)}")  # fmt: skip
        self._queue("move", card.id, direction)
        self.refresh_bindings()

    def action_won(self) -> None:
        from tui.screens.confirm import ConfirmModal

        card = self.columns.card
        if card is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._queue("won", card.id, None)

        self.app.push_screen(
            ConfirmModal(
                safe(f"Mark {clean(card.name)} won? It closes the deal.", single_line=True),
                "Won",
                "Keep",
            ),
            answered,
        )

    def action_lost(self) -> None:
        from tui.screens.deal_prompts import LostReasonPrompt

        card = self.columns.card
        if card is None:
            return

        def answered(reason: str | None) -> None:
            if reason:
                self._queue("lost", card.id, reason)

        self.app.push_screen(LostReasonPrompt(card.name), answered)

    def action_history(self) -> None:
        from tui.screens.history import HistoryScreen

        card = self.columns.card
        if card is not None:
            self.app.push_screen(
                HistoryScreen("opportunity", card.id, clean(card.name, limit=60, single_line=True))
            )

    def action_delete(self) -> None:
        from tui.screens.confirm import ConfirmModal

        card = self.columns.card
        if card is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._queue("delete", card.id, None)

        self.app.push_screen(
            ConfirmModal(
                safe(f"Move {clean(card.name)} to the trash?", single_line=True), "Delete", "Keep"
            ),
            answered,
        )

    def _queue(self, op: str, deal_id: int, value: Any) -> None:
        with self.ops_lock:
            self.ops.append((op, deal_id, value))
            if self.ops_running:
                return
            self.ops_running = True
        self.run_ops()

    @work(thread=True, exit_on_error=False, group="board-moves")
    def run_ops(self) -> None:
        last: int | None = None
        with database.connection_context():
            while True:
                with self.ops_lock:
                    if not self.ops:
                        self.ops_running = False
                        break
                    op, deal_id, value = self.ops.popleft()
                last = deal_id
                version = self.versions.get(deal_id)
                try:
                    if version is None:
                        raise SwitchboardError("the deal is no longer on the board")
                    if op == "move":
                        moved = deals.move_stage(deal_id, value, version)
                    elif op == "won":
                        moved = deals.close_won(deal_id, version)
                    elif op == "delete":
                        deals.soft_delete(deal_id, version)
                        self.post_message(DealTrashed(deal_id))
                        continue
                    else:
                        moved = deals.close_lost(deal_id, version, value)
                except Exception as exc:  # every failure is shown; the board is read again
                    with self.ops_lock:  # later moves of this deal assumed this one
                        kept = [o for o in self.ops if o[1] != deal_id]
                        self.ops.clear()
                        self.ops.extend(kept)
                    text = str(exc) if isinstance(exc, SwitchboardError) else \
                        f"{type(exc).__name__}: {exc}"  # fmt: skip
                    self.post_message(MoveFailed(deal_id, text))
                    continue
                self.versions[deal_id] = moved.version
                self.post_message(MoveApplied(moved))
        self.post_message(MovesDone(last))

    def on_move_applied(self, message: MoveApplied) -> None:
        m = message.moved
        if m.is_closed:
            self._status(f"{'Won' if m.is_won else 'Lost'}: the deal is closed.")
        self.columns.pending.discard(m.deal_id)

    def on_deal_trashed(self, message: DealTrashed) -> None:
        self._status("Moved the deal to the trash (9 shows the trash, r restores).")

    def on_move_failed(self, message: MoveFailed) -> None:
        self.columns.pending.discard(message.deal_id)
        self._status("Not moved: " + message.text)
        self.notify(clean("Not moved: " + message.text, single_line=True), severity="warning",
                    markup=False)  # fmt: skip

    def on_moves_done(self, message: MovesDone) -> None:
        note = str(self.query_one("#board-status", Static).content)
        self.load(select=message.deal_id, note=note)

    # -- forms and filters ----------------------------------------------------------------------
    def action_edit(self) -> None:
        card = self.columns.card
        if card is not None:
            self._open_form(card.id, None)

    def action_new(self) -> None:
        col = self.columns.column
        if col is not None:
            self._open_form(None, col.stage.id)

    def _open_form(self, deal_id: int | None, stage_id: int | None) -> None:
        from tui.screens.deal_form import DealFormScreen

        def done(result: Any) -> None:
            if result is not None:
                self.load(select=result.record_id)

        self.app.push_screen(DealFormScreen(deal_id, stage_id=stage_id), done)

    def action_filters(self) -> None:
        from tui.screens.deal_prompts import BoardFilterModal

        def chosen(filters: Filters | None) -> None:
            if filters is not None:
                self.filters = filters
                self.load()

        self.app.push_screen(BoardFilterModal(self.filters), chosen)

    def action_pipeline(self) -> None:
        self.load_seq += 1
        self.next_pipeline(self.load_seq)

    @work(thread=True, exit_on_error=False, group="board")
    def next_pipeline(self, seq: int) -> None:
        with database.connection_context():
            found = pipeline.pipelines()
            ids = [p.id for p in found]
            board = self.columns.board
            current = board.pipeline.id if board else None
            nxt = ids[(ids.index(current) + 1) % len(ids)] if current in ids else ids[0]
            self.filters = replace(self.filters, pipeline_id=nxt)
            board = pipeline.board(self.filters)
        self.post_message(BoardLoaded(board, None, "", seq))

    # -- other people's changes -----------------------------------------------------------------
    def on_records_changed(self, message: Message) -> None:
        changes = message.changes  # type: ignore[attr-defined]
        if changes.everything or changes.touches("opportunity") or changes.touches("stage") \
                or changes.touches("pipeline"):  # fmt: skip
            with self.ops_lock:
                busy = self.ops_running
            if busy:  # a move in flight reloads the board when it is done
                return
            if self.reading:  # one read at a time: another follows when it is back
                self.reload_wanted = True
            else:
                self.load()

    def on_screen_resume(self) -> None:
        if self.columns.board is not None:
            self.load()
