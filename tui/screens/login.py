"""Asking for a user name and password when the connection needs one.

The password lives only in the Input while typing and in the connection parameters the pool
needs to reconnect: it is never written anywhere, never shown, and the field is cleared after
every attempt. The connect attempt runs in a thread worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg2.extensions import make_dsn, parse_dsn
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Label, Static

from tui.screens.worker_errors import ForwardWorkerErrors
from tui.text import safe, safe_markup
from tui.widgets.footer import KeyFooter


@dataclass(frozen=True)
class LoginRequest:
    dsn: str  # the DSN without a usable password (user name may be missing or wrong)
    schema: str
    reason: str = ""  # why the first attempt failed, shown above the fields


class LoginScreen(ForwardWorkerErrors, Screen[None]):
    """User name and password; on success the app continues to its first screen."""

    IS_FORM = True  # printable keys are the form's: no screen keys (tui/keys.py)

    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    LoginScreen > Vertical {
        width: 60; max-width: 100%; height: auto; border: thick $primary;
        background: $surface; padding: 1 2;
    }
    LoginScreen #login-title { text-style: bold; margin-bottom: 1; }
    LoginScreen #login-error { color: $text-error; height: auto; min-height: 1; }
    LoginScreen Input { margin-bottom: 1; }
    """
    BINDINGS = [
        Binding("ctrl+q", "app.quit", "Quit", tooltip="Leave Switchboard", id="quit"),
    ]

    class Attempted(Message):
        def __init__(self, error: str | None) -> None:
            super().__init__()
            self.error = error

    def __init__(self, request: LoginRequest) -> None:
        super().__init__()
        self.request = request
        self.busy = False

    def compose(self) -> ComposeResult:
        params = parse_dsn(self.request.dsn)
        where = params.get("host", "local socket")
        with Vertical():
            yield Static(
                safe_markup("[b]Switchboard[/b] · sign in to $db on $host",
                            db=params.get("dbname", ""), host=where),  # fmt: skip
                id="login-title",
            )
            yield Label("User name")
            yield Input(value=params.get("user", ""), id="login-user", max_length=63)
            yield Label("Password")
            yield Input(password=True, id="login-password")
            yield Static(safe(self.request.reason), id="login-error")
        yield KeyFooter()

    def on_mount(self) -> None:
        user = self.query_one("#login-user", Input)
        self.set_focus(self.query_one("#login-password", Input) if user.value else user)

    @on(Input.Submitted, "#login-user")
    def _next(self) -> None:
        self.set_focus(self.query_one("#login-password", Input))

    @on(Input.Submitted, "#login-password")
    def _submit(self) -> None:
        user = self.query_one("#login-user", Input).value.strip()
        field = self.query_one("#login-password", Input)
        password = field.value
        field.value = ""  # never kept on screen after the attempt
        if not user:
            self._show("User name: give your user name")
            return
        if self.busy:
            return
        self.busy = True
        self._show("Signing in …")
        self.attempt(user, password)

    def _show(self, text: str) -> None:
        self.query_one("#login-error", Static).update(safe(text, single_line=True))

    @work(thread=True, exclusive=True, exit_on_error=False, group="login")
    def attempt(self, user: str, password: str) -> None:
        from db.connection import configure
        from db.errors import SwitchboardError

        params = parse_dsn(self.request.dsn)
        params.update(user=user, password=password)
        try:
            configure(make_dsn(**params), self.request.schema)
        except SwitchboardError as exc:
            self.post_message(self.Attempted(str(exc)))
            return
        self.post_message(self.Attempted(None))

    def on_login_screen_attempted(self, message: Attempted) -> None:
        self.busy = False
        if message.error is None:
            self.dismiss(None)
            return
        self._show(message.error)
        self.set_focus(self.query_one("#login-password", Input))
