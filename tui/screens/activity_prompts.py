"""Small modal prompts of the activity screens: discard changes?, a new due date, a user."""

from __future__ import annotations

from datetime import date

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from db.connection import database
from db.errors import ValidationError
from db.services import activities
from tui.screens.worker_errors import ForwardWorkerErrors
from tui.text import safe

_PROMPT_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 60; height: auto; max-height: 20; border: round $primary;
    background: $surface; padding: 0 1;
}}
{name} .prompt-error {{ color: $text-error; }}
{name} .prompt-hint {{ color: $text-muted; }}
"""


class ConfirmDiscard(ModalScreen[bool]):
    """'Discard what you typed?' y discards, n or escape keeps editing."""

    DEFAULT_CSS = _PROMPT_CSS.format(name="ConfirmDiscard")
    BINDINGS = [
        Binding("y", "answer(True)", "Discard", tooltip="Throw away the changes", id="discard-yes"),
        Binding("n,escape", "answer(False)", "Keep editing", tooltip="Go back to the form",
                id="discard-no"),
    ]  # fmt: skip

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Discard your unsaved changes?")
            yield Static("y discard · n / esc keep editing", classes="prompt-hint")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class DuePrompt(ModalScreen[date | None]):
    """A new due date: 2024-12-06, tomorrow, +3, fri. Enter accepts, escape cancels."""

    DEFAULT_CSS = _PROMPT_CSS.format(name="DuePrompt")
    BINDINGS = [Binding("escape", "cancel", "Cancel", tooltip="Keep the date", id="due-cancel")]

    def __init__(self, title: str = "New due date") -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text)
            yield Input(placeholder="tomorrow, +3, fri or 2024-12-06", id="due-input", compact=True)
            yield Static("", id="due-error", classes="prompt-error")
            yield Static("enter accept · esc cancel", classes="prompt-hint")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            day = activities.parse_date(event.value, "due_at")
        except ValidationError as exc:
            self.query_one("#due-error", Static).update(safe(f"Due date: {exc.message}"))
            return
        if day is None:
            self.query_one("#due-error", Static).update("Due date: type a date")
            return
        if day < date.today():
            self.query_one("#due-error", Static).update("Due date: cannot be in the past")
            return
        self.dismiss(day)

    def action_cancel(self) -> None:
        self.dismiss(None)


class UsersLoaded(Message):
    def __init__(self, users: list[activities.User]) -> None:
        super().__init__()
        self.users = users


class UserPicker(ForwardWorkerErrors, ModalScreen[int | None]):
    """Pick an active user (type to move, enter picks, escape cancels)."""

    DEFAULT_CSS = (
        _PROMPT_CSS.format(name="UserPicker")
        + """
    UserPicker OptionList { height: auto; max-height: 14; }
    """
    )
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Keep the assignee", id="pick-cancel")
    ]

    def __init__(self, title: str = "Assign to") -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text)
            yield OptionList(id="user-options")
            yield Static("↑↓ choose · enter pick · esc cancel", classes="prompt-hint")

    def on_mount(self) -> None:
        self.load_users()

    @work(thread=True, exclusive=True, exit_on_error=False, group="users")
    def load_users(self) -> None:
        with database.connection_context():
            users = activities.assignable_users()
        self.post_message(UsersLoaded(users))

    def on_users_loaded(self, message: UsersLoaded) -> None:
        users = message.users
        options = self.query_one(OptionList)
        options.add_options(
            [Option(safe(f"{u.display_name} ({u.username})", single_line=True), id=str(u.id))
             for u in users]
        )  # fmt: skip
        options.highlighted = 0 if users else None
        options.focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0) or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
