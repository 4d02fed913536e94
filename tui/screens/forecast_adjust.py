"""The adjust form: a manager's figure beside a person's for one period and category.

Category, amount (120000, 120k, 1.5M) and an optional note. ctrl+s or enter saves, esc
cancels. A rule broken names the field ("Amount: must be a number, e.g. 120000 or 120k");
what the database refuses is shown as "Not saved: …; your text is still here".
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static

from db.connection import database
from db.errors import SwitchboardError, ValidationError
from db.services import forecast as fc
from db.services.periods import Period
from tui.screens.worker_errors import ForwardWorkerErrors
from tui.text import clean, money, safe

HISTORY = 4  # adjustments shown in the form, newest first
FIELD_WORDS = {"amount": "Amount", "category": "Category", "currency": "Currency",
               "note": "Note"}  # fmt: skip


class AdjustFailed(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class HistoryLoaded(Message):
    def __init__(self, entries: list[fc.HistoryEntry]) -> None:
        super().__init__()
        self.entries = entries


class AdjustForm(ForwardWorkerErrors, ModalScreen[str | None]):
    DEFAULT_CSS = """
    AdjustForm { align: center middle; }
    AdjustForm > Vertical { width: 64; height: auto; max-height: 22; border: round $primary;
        background: $surface; padding: 0 1; }
    AdjustForm .adjust-label { color: $text-muted; }
    AdjustForm #adjust-error { color: $text-error; }
    AdjustForm .prompt-hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", tooltip="Store the adjustment", id="adjust-save"),
        Binding("escape", "cancel", "Cancel", tooltip="Leave without storing", id="adjust-cancel"),
    ]  # fmt: skip

    def __init__(self, period: Period, person: fc.Row, currency: str) -> None:
        super().__init__()
        self.period = period
        self.person = person
        self.currency = currency
        self.saving = False

    def compose(self) -> ComposeResult:
        p, o = self.person, self.person.own
        with Vertical():
            yield Static(safe(f"Adjust {p.name} · {self.period.label} · {self.currency}",
                              single_line=True))  # fmt: skip
            yield Static(Content(f"own: commit {money(o.commit)} · best case "
                                 f"{money(o.best_case)} · pipeline {money(o.pipeline)}"),
                         classes="adjust-label")  # fmt: skip
            yield Static("Category", classes="adjust-label")
            yield Select([(fc.CATEGORY_WORDS[k], k) for k in fc.CATEGORIES], value="commit",
                         allow_blank=False, compact=True, id="adjust-category")  # fmt: skip
            yield Static("Amount", classes="adjust-label")
            yield Input(placeholder="120000, 120k or 1.5M", id="adjust-amount", compact=True)
            yield Static("Note (optional)", classes="adjust-label")
            yield Input(placeholder="why", id="adjust-note", compact=True, max_length=fc.NOTE_MAX)
            yield Static("", id="adjust-error")
            yield Static("", id="adjust-history", classes="adjust-label")
            yield Static("ctrl+s save · esc cancel", classes="prompt-hint")

    def on_mount(self) -> None:
        self.query_one("#adjust-amount", Input).focus()
        self.load_history()

    @work(thread=True, exclusive=True, exit_on_error=False, group="adjust-history")
    def load_history(self) -> None:
        with database.connection_context():
            entries = fc.history(self.period, self.person.id, limit=HISTORY)
        self.post_message(HistoryLoaded(entries))

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        """The latest adjustments of this person and period, newest first, who and when."""
        if not message.entries:
            self.query_one("#adjust-history", Static).update("No adjustments yet.")
            return
        lines = [f"{e.at:%-d %b %H:%M} {clean(e.by_name, 40, single_line=True)}: "
                 f"{fc.CATEGORY_WORDS[e.category]} {money(e.amount)} {e.currency}"
                 + (f" ({clean(e.note, 60, single_line=True)})" if e.note else "")
                 for e in message.entries]  # fmt: skip
        self.query_one("#adjust-history", Static).update(
            safe("History:\n" + "\n".join(lines))
        )

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.action_save()

    def _error(self, text: str) -> None:
        self.query_one("#adjust-error", Static).update(safe(text, single_line=True))

    def action_save(self) -> None:
        if self.saving:
            return
        category = self.query_one("#adjust-category", Select).value
        try:
            amount = fc.parse_amount(self.query_one("#adjust-amount", Input).value)
        except ValidationError as exc:
            self._error(f"{FIELD_WORDS.get(exc.field, exc.field)}: {exc.message}")
            self.query_one("#adjust-amount", Input).focus()
            return
        note = self.query_one("#adjust-note", Input).value
        self.saving = True
        self._error("Saving…")
        self.store(str(category), amount, note)

    @work(thread=True, exclusive=True, exit_on_error=False, group="adjust")
    def store(self, category: str, amount, note: str) -> None:  # noqa: ANN001 (Decimal)
        try:
            with database.connection_context():
                fc.adjust(self.period, self.person.id, category, amount, self.currency, note)
        except ValidationError as exc:
            self.post_message(AdjustFailed(f"{FIELD_WORDS.get(exc.field, exc.field)}: "
                                           f"{exc.message}"))  # fmt: skip
            return
        except SwitchboardError as exc:
            self.post_message(AdjustFailed(f"Not saved: {exc}; your text is still here"))
            return
        words = f"{fc.CATEGORY_WORDS[category]} of {clean(self.person.name, single_line=True)}"
        self.app.call_from_thread(self.dismiss, f"adjusted {words}: {money(amount)}")

    def on_adjust_failed(self, message: AdjustFailed) -> None:
        self.saving = False
        self._error(message.text)

    def action_cancel(self) -> None:
        self.dismiss(None)
