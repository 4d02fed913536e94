"""Small dialogs of the pipeline board: why a deal was lost, and the board's filters."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static

from db.errors import ValidationError, ValidationErrors
from db.services import pipeline
from db.services.pipeline import Filters
from db.services.rules import Rules
from db.services.validation import LOST_REASON_MAX, validate_lost_reason
from tui.screens.activity_prompts import _PROMPT_CSS
from tui.text import clean, safe


class LostReasonPrompt(ModalScreen[str | None]):
    """Why the deal was lost (required). Enter accepts, escape keeps the deal open."""

    IS_FORM: ClassVar[bool] = True
    DEFAULT_CSS = _PROMPT_CSS.format(name="LostReasonPrompt")
    BINDINGS = [Binding("escape", "cancel", "Cancel", tooltip="Keep the deal open",
                        id="lost-cancel")]  # fmt: skip

    def __init__(self, deal_name: str) -> None:
        super().__init__()
        self.deal_name = deal_name

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(safe(f"Lost: {clean(self.deal_name)}", single_line=True))
            yield Input(placeholder="why: price, competitor, no budget…", id="lost-reason",
                        compact=True, max_length=LOST_REASON_MAX)  # fmt: skip
            yield Static("", id="lost-error", classes="prompt-error")
            yield Static("enter mark lost · esc keep it open", classes="prompt-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            reason = validate_lost_reason(event.value)
        except ValidationErrors as exc:
            self.query_one("#lost-error", Static).update(
                safe(f"Lost reason {exc.errors[0].message}")
            )
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)


class BoardFilterModal(ModalScreen[Filters | None]):
    """Whose deals (mine, my team, everyone I may see) and an expected close range."""

    IS_FORM: ClassVar[bool] = True
    DEFAULT_CSS = (
        _PROMPT_CSS.format(name="BoardFilterModal")
        + """
    BoardFilterModal Select { width: 1fr; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", tooltip="Keep the filters",
                        id="filter-cancel"),
                Binding("ctrl+s", "apply", "Apply", tooltip="Apply the filters",
                        id="filter-apply")]  # fmt: skip

    def __init__(self, filters: Filters) -> None:
        super().__init__()
        self.filters = filters

    def compose(self) -> ComposeResult:
        f = self.filters
        with Vertical():
            yield Static("Board filters")
            yield Select(
                [(pipeline.SCOPE_WORDS[s], s) for s in pipeline.SCOPES],
                value=f.scope,
                allow_blank=False,
                compact=True,
                id="filter-scope",
            )
            yield Input(
                value=f.close_from.isoformat() if f.close_from else "",
                placeholder="closing from YYYY-MM-DD (empty: any)",
                compact=True,
                id="filter-from",
            )
            yield Input(value=f.close_to.isoformat() if f.close_to else "",
                        placeholder="closing to YYYY-MM-DD (empty: any)", compact=True,
                        id="filter-to")  # fmt: skip
            yield Static("", id="filter-error", classes="prompt-error")
            yield Static("tab next · enter or ^s apply · esc cancel", classes="prompt-hint")

    def on_mount(self) -> None:
        self.query_one(Select).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_apply()

    def action_apply(self) -> None:
        r = Rules()
        data = {"close_from": self.query_one("#filter-from", Input).value,
                "close_to": self.query_one("#filter-to", Input).value}  # fmt: skip
        start, end = r.day(data, "close_from"), r.day(data, "close_to")
        if start and end and end < start:
            r.fail("close_to", "must be on or after the start")
        try:
            r.check()
        except ValidationErrors as exc:
            error: ValidationError = exc.errors[0]
            words = "Closing from" if error.field == "close_from" else "Closing to"
            self.query_one("#filter-error", Static).update(safe(f"{words} {error.message}"))
            return
        scope = self.query_one(Select).value
        self.dismiss(Filters(self.filters.pipeline_id, str(scope), start, end))

    def action_cancel(self) -> None:
        self.dismiss(None)
