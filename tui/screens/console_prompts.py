"""The console's small dialogs: book a callback, open a case, confirm a do-not-call call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from db.errors import ValidationError
from db.services import activities, cases
from tui.text import safe

_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 64; height: auto; max-height: 20; border: round $primary;
    background: $surface; padding: 0 1;
}}
{name} Input, {name} Input:focus {{ height: 1; border: none; padding: 0; }}
{name} .prompt-error {{ color: $text-error; }}
{name} .prompt-hint {{ color: $text-muted; }}
"""


class ConfirmCall(ModalScreen[bool]):
    """'DO NOT CALL: log this outbound call anyway?' y logs, n / esc goes back."""

    DEFAULT_CSS = _CSS.format(name="ConfirmCall")
    BINDINGS = [
        Binding("y", "answer(True)", "Log anyway", tooltip="Log the outbound call", id="dnc-yes"),
        Binding("n,escape", "answer(False)", "Back", tooltip="Do not log it", id="dnc-no"),
    ]  # fmt: skip

    def __init__(self, name: str) -> None:
        super().__init__()
        self.contact_name = name

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(safe(f"DO NOT CALL: {self.contact_name} asked not to be called."))
            yield Static("Log this outbound call anyway?")
            yield Static("y log it · n / esc back", classes="prompt-hint")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


@dataclass(frozen=True)
class CallbackChoice:
    due_at: datetime
    assignee: str  # "" the queue, "me", or a user name


class CallbackPrompt(ModalScreen[CallbackChoice | None]):
    """When (15:30, tomorrow 09:00, +1, fri 10:00) and who (blank: the queue; me; a user name)."""

    DEFAULT_CSS = _CSS.format(name="CallbackPrompt")
    BINDINGS = [Binding("escape", "cancel", "Cancel", tooltip="No callback", id="cb-cancel")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Book a callback")
            yield Input(placeholder="when: 15:30, tomorrow 09:00, +1, fri 10:00", id="cb-when")
            yield Input(placeholder="who: blank = the queue, me, or a user name", id="cb-who")
            yield Static("", id="cb-error", classes="prompt-error")
            yield Static("enter next / book · esc cancel", classes="prompt-hint")

    def on_mount(self) -> None:
        self.query_one("#cb-when", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "cb-when" and not self.query_one("#cb-who", Input).has_focus:
            self.query_one("#cb-who", Input).focus()
            if event.value.strip():
                return
        try:
            due = activities.parse_datetime(self.query_one("#cb-when", Input).value, "when")
            if due is None:
                raise ValidationError("when", "give a time, like 15:30 or tomorrow 09:00")
        except ValidationError as exc:
            self.query_one("#cb-error", Static).update(safe(str(exc)))
            self.query_one("#cb-when", Input).focus()
            return
        self.dismiss(CallbackChoice(due, self.query_one("#cb-who", Input).value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class CaseChoice:
    subject: str
    priority: str


class CasePrompt(ModalScreen[CaseChoice | None]):
    """A new case for the caller: subject, then priority (l n h u; blank normal)."""

    DEFAULT_CSS = _CSS.format(name="CasePrompt")
    BINDINGS = [Binding("escape", "cancel", "Cancel", tooltip="No case", id="case-cancel")]
    PRIORITY_KEYS = {"l": "low", "n": "normal", "h": "high", "u": "urgent", "": "normal"}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Open a case for this caller")
            yield Input(placeholder="subject", id="case-subject")
            yield Input(placeholder="priority: l low, n normal, h high, u urgent", id="case-prio")
            yield Static("", id="case-error", classes="prompt-error")
            hours = ", ".join(f"{p} {h}h" for p, h in cases.SLA_HOURS.items())
            yield Static(f"SLA: {hours} · enter next / open · esc cancel",
                         classes="prompt-hint")  # fmt: skip

    def on_mount(self) -> None:
        self.query_one("#case-subject", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "case-subject":
            self.query_one("#case-prio", Input).focus()
            return
        subject = self.query_one("#case-subject", Input).value.strip()
        key = self.query_one("#case-prio", Input).value.strip().lower()
        priority = self.PRIORITY_KEYS.get(key[:1], key if key in cases.PRIORITIES else None)
        if not subject:
            self.query_one("#case-error", Static).update("subject: is required")
            self.query_one("#case-subject", Input).focus()
        elif priority is None:
            self.query_one("#case-error", Static).update("priority: l, n, h or u")
        else:
            self.dismiss(CaseChoice(subject, priority))

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class CaseEdit:
    subject: str
    due_text: str  # as typed: blank keeps the SLA due time
    assignee: str  # as typed: blank = nobody (the team queue), me, or a user name


class CaseEditPrompt(ModalScreen[CaseEdit | None]):
    """Edit a case: subject, due time (blank: keep), assignee (blank: the team queue)."""

    DEFAULT_CSS = _CSS.format(name="CaseEditPrompt")
    BINDINGS = [Binding("escape", "cancel", "Cancel", tooltip="Keep the case as it is",
                        id="case-edit-cancel")]  # fmt: skip

    def __init__(self, subject: str, assignee: str) -> None:
        super().__init__()
        self.subject = subject
        self.assignee = assignee

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Edit the case")
            yield Input(self.subject, placeholder="subject", id="ce-subject")
            yield Input(placeholder="due: blank keeps it; 15:30, tomorrow 09:00, +2", id="ce-due")
            yield Input(self.assignee, placeholder="assignee: blank = team queue, me, a name",
                        id="ce-who")  # fmt: skip
            yield Static("", id="ce-error", classes="prompt-error")
            yield Static("enter next / save · esc cancel", classes="prompt-hint")

    def on_mount(self) -> None:
        self.query_one("#ce-subject", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        order = ["ce-subject", "ce-due", "ce-who"]
        index = order.index(event.input.id or "ce-subject")
        if index < len(order) - 1:
            self.query_one(f"#{order[index + 1]}", Input).focus()
            return
        subject = self.query_one("#ce-subject", Input).value.strip()
        due = self.query_one("#ce-due", Input).value.strip()
        if not subject:
            self.query_one("#ce-error", Static).update("subject: is required")
            self.query_one("#ce-subject", Input).focus()
            return
        try:
            activities.parse_datetime(due, "due")
        except ValidationError as exc:
            self.query_one("#ce-error", Static).update(safe(str(exc)))
            self.query_one("#ce-due", Input).focus()
            return
        self.dismiss(CaseEdit(subject, due, self.query_one("#ce-who", Input).value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)
