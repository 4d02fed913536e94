"""`f` on the timeline: filter by kind, author and date range."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, SelectionList, Static

from db.connection import database
from db.errors import ValidationError
from db.services import activities
from tui.screens.worker_errors import ForwardWorkerErrors
from tui.text import clean, safe


@dataclass(frozen=True)
class TimelineFilter:
    kinds: tuple[str, ...] = ()
    author_id: int | None = None
    author_name: str = ""
    since: date | None = None
    until: date | None = None
    users: tuple[activities.User, ...] = field(default=(), compare=False)

    def describe(self) -> str:
        kinds = ",".join(self.kinds) if self.kinds else "all"
        who = clean(self.author_name, 20, single_line=True) if self.author_id else "anyone"
        text = f"kind: {kinds}  by: {who}"
        if self.since:
            text += f"  from {self.since.isoformat()}"
        if self.until:
            text += f"  to {self.until.isoformat()}"
        return text


class _UsersLoaded(Message):
    def __init__(self, users: list[activities.User]) -> None:
        super().__init__()
        self.users = users


class TimelineFilterScreen(ForwardWorkerErrors, ModalScreen[TimelineFilter | None]):
    DEFAULT_CSS = """
    TimelineFilterScreen { align: center middle; }
    TimelineFilterScreen > Vertical {
        width: 64; height: auto; max-height: 22; border: round $primary;
        background: $surface; padding: 0 1;
    }
    TimelineFilterScreen .row { height: auto; }
    TimelineFilterScreen .row > Label { width: 8; color: $text-muted; }
    TimelineFilterScreen SelectionList { height: 8; }
    TimelineFilterScreen #filter-error { color: $text-error; }
    TimelineFilterScreen #filter-hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("ctrl+s", "apply", "Apply", tooltip="Show the timeline with this filter",
                id="filter-apply", priority=True),
        Binding("ctrl+r", "reset", "Reset", tooltip="Clear every filter", id="filter-reset"),
        Binding("escape", "cancel", "Cancel", tooltip="Keep the current filter",
                id="filter-cancel"),
    ]  # fmt: skip

    def __init__(self, current: TimelineFilter) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        c = self.current
        with Vertical():
            yield Static("Filter the timeline", id="filter-title")
            with Horizontal(classes="row"):
                yield Label("Kind")
                yield SelectionList[str](
                    *[(Content(k), k, k in c.kinds) for k in activities.KINDS], id="filter-kinds"
                )
            with Horizontal(classes="row"):
                yield Label("By")
                yield Select([], id="filter-author", compact=True, prompt="anyone")
            with Horizontal(classes="row"):
                yield Label("From")
                yield Input(c.since.isoformat() if c.since else "", id="filter-since",
                            compact=True, placeholder="2024-12-01, -7, yesterday")  # fmt: skip
            with Horizontal(classes="row"):
                yield Label("To")
                yield Input(c.until.isoformat() if c.until else "", id="filter-until",
                            compact=True, placeholder="today")  # fmt: skip
            yield Static("", id="filter-error")
            yield Static("space toggles a kind · enter/^s apply · ^r reset · esc cancel",
                         id="filter-hint")  # fmt: skip

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()
        self.load_users()

    @work(thread=True, exclusive=True, exit_on_error=False, group="filter-users")
    def load_users(self) -> None:
        with database.connection_context():
            users = activities.assignable_users()
        self.post_message(_UsersLoaded(users))

    def on__users_loaded(self, message: _UsersLoaded) -> None:
        select = self.query_one("#filter-author", Select)
        select.set_options([(safe(u.display_name, 40, single_line=True), u.id)
                            for u in message.users])  # fmt: skip
        if self.current.author_id is not None:
            select.value = self.current.author_id
        self._users = {u.id: u.display_name for u in message.users}

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_apply()

    def action_apply(self) -> None:
        try:
            since = activities.parse_date(self.query_one("#filter-since", Input).value, "since")
            until = activities.parse_date(self.query_one("#filter-until", Input).value, "until")
            if since and until and until < since:
                raise ValidationError("until", "the end date is before the start date")
        except ValidationError as exc:
            label = {"since": "From", "until": "To"}.get(exc.field, exc.field)
            self.query_one("#filter-error", Static).update(safe(f"{label}: {exc.message}"))
            return
        author = self.query_one("#filter-author", Select).value
        author_id = None if author == Select.NULL else int(author)  # type: ignore[arg-type]
        kinds = tuple(k for k in activities.KINDS if k in self.query_one(SelectionList).selected)
        names = getattr(self, "_users", {})
        self.dismiss(TimelineFilter(kinds, author_id, names.get(author_id, ""), since, until))

    def action_reset(self) -> None:
        self.dismiss(TimelineFilter())

    def action_cancel(self) -> None:
        self.dismiss(None)
