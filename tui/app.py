"""The App: screens as modes, global keys, the command palette, the one worker-error funnel."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterable

from textual import on, work
from textual.app import SystemCommand
from textual.binding import Binding
from textual.driver import Driver
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from db.connection import database
from db.errors import DatabaseUnavailable, SwitchboardError
from db.services import session
from db.services.rights import NOBODY, Rights, load_rights
from db.services.session import Me
from tui.keys import OrderedKeysApp, keys_belong_to_form
from tui.messages import ConnectionChanged, SessionLoaded
from tui.palette import RecordSearch
from tui.rights import RightsLoaded
from tui.screens.login import LoginRequest
from tui.text import clean
from tui.theme import MONO, SWITCHBOARD, theme_name


def _account_tree() -> Screen:
    from tui.screens.account_tree import AccountTreeScreen

    return AccountTreeScreen()


def _my_day() -> Screen:
    from tui.screens.my_day import MyDayScreen

    return MyDayScreen()


def _trash() -> Screen:
    from tui.screens.trash import TrashScreen

    return TrashScreen()


def _admin() -> Screen:
    from tui.screens.admin import AdminScreen

    return AdminScreen()


# Mode name -> factory. Screens are imported lazily so start-up imports only the first one.
MODE_FACTORIES: dict[str, Callable[[], Screen]] = {
    "accounts": _account_tree,
    "my_day": _my_day,
    "trash": _trash,
    "admin": _admin,
}


def _driver() -> type[Driver] | None:
    """Our Linux/macOS driver hands over a lone Esc at once (tui/driver.py); elsewhere, or
    when TEXTUAL_DRIVER names one, Textual picks."""
    if sys.platform == "win32" or os.environ.get("TEXTUAL_DRIVER"):
        return None
    from tui.driver import FastEscapeDriver

    return FastEscapeDriver


# Mode name -> the words the command palette shows.
MODE_WORDS = {
    "accounts": ("Accounts", "The account tree"),
    "my_day": ("My day", "Follow-ups due today and overdue"),
    "trash": ("Trash", "Deleted records: restore, and purge for admins"),
    "admin": ("Admin", "Users, teams, sharing and the audit log"),
}


FRIENDLY_GC = (700, 10, 100)  # Python's defaults are (700, 10, 10)


class SwitchboardApp(OrderedKeysApp):
    TITLE = "Switchboard"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = OrderedKeysApp.COMMANDS | {RecordSearch}
    MODES = MODE_FACTORIES  # type: ignore[assignment]
    BINDINGS = [
        Binding("1", "switch_mode('accounts')", "Accounts", tooltip="The account tree",
                id="go-accounts", show=False),
        Binding("3", "switch_mode('my_day')", "My day", tooltip="My follow-ups due today and "
                "overdue (t: my activity timeline)", id="go-my-day", show=False),
        Binding("9", "switch_mode('trash')", "Trash", tooltip="Deleted records: restore "
                "(admins: purge)", id="go-trash", show=False),
        Binding("0", "switch_mode('admin')", "Admin", tooltip="Users, teams, sharing, audit",
                id="go-admin", show=False),
        Binding("slash", "search", "Search", tooltip="Find any account, contact, deal or case "
                "by name, email or phone", id="search", show=False),
        Binding("question_mark", "help", "Help", tooltip="Every key of this screen", id="help"),
        Binding("ctrl+q", "quit", "Quit", tooltip="Leave Switchboard", id="quit", priority=True),
        Binding("ctrl+l", "repaint", "Repaint", tooltip="Draw the whole screen again",
                id="repaint", show=False, priority=True),
    ]  # fmt: skip

    listing_keys = False  # True while help reads the keys of the screen under it
    me: reactive[Me | None] = reactive(None)
    live: reactive[bool | None] = reactive(None)

    def __init__(self, start_screen: str = "accounts", login: LoginRequest | None = None) -> None:
        # Under NO_COLOR the ANSI theme must be native from the start: Textual picks its colour
        # filter in __init__ (greyscale RGB otherwise, black on black on some terminals).
        super().__init__(
            ansi_color=True if os.environ.get("NO_COLOR") else None, driver_class=_driver()
        )
        self.start_screen = start_screen if start_screen in MODE_FACTORIES else "accounts"
        self.login = login  # set when the connection needs a user name and password
        self.rights: Rights = NOBODY
        self.register_theme(SWITCHBOARD)
        self.register_theme(MONO)
        self.theme = theme_name()

    def on_mount(self) -> None:
        if self.login is not None:
            from tui.screens.login import LoginScreen

            self.push_screen(LoginScreen(self.login), callback=lambda _: self.start())
        else:
            self.start()
        if os.environ.get("SWITCHBOARD_EXIT_ON_READY") == "1":  # bench B9: cold start
            self.set_interval(0.005, self._exit_when_ready)

    def start(self) -> None:
        """Open the first screen and load who is connected (after the login, if any)."""
        self.switch_mode(self.start_screen)
        self.load_session()


    def _exit_when_ready(self) -> None:
        """Exit once the session and the first screen's data have arrived and been painted."""
        busy = (WorkerState.PENDING, WorkerState.RUNNING)
        waiting = [w for w in self.workers if w.state in busy and "listen" not in w.group]
        if self.me is not None and not waiting:
            self.call_after_refresh(self.exit)

    @work(thread=True, exclusive=True, exit_on_error=False, group="session")
    def load_session(self) -> None:
        with database.connection_context():
            me = session.whoami()
            rights = load_rights()
        self.post_message(RightsLoaded(rights))
        self.post_message(SessionLoaded(me))

    def on_rights_loaded(self, message: RightsLoaded) -> None:
        self.rights = message.rights
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Inside a form or a dialog a printable key is the form's: it never switches screens
        # (the half-filled form would be left behind) nor opens help over it.
        if action in ("switch_mode", "help", "search") and keys_belong_to_form(self.screen):
            # Help (a dialog itself) lists the keys of the screen under it as they are there.
            if not self.listing_keys:
                return False
        # Only admins see the admin screen or its key.
        if action == "switch_mode" and parameters == ("admin",):
            return self.rights.is_admin
        return True

    def on_session_loaded(self, message: SessionLoaded) -> None:
        # Everything made so far (modules, the first screen, the session) lives as long as the
        # app: move it out of the collector's reach. Without this a full collection walks it
        # all and stalls the interface for 40-110 ms at random moments (measured in B5). Full
        # collections also come ten times less often (young ones are unchanged).
        gc.freeze()
        gc.set_threshold(*FRIENDLY_GC)
        self.me = message.me
        self.live = True
        self.sub_title = clean(message.me.display_name, single_line=True)

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        self.live = message.live

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.worker_failed(event.worker)

    def worker_failed(self, worker: Worker) -> None:
        """The one funnel for worker failures: a notification, never a crash. Screens forward
        theirs here (tui/screens/worker_errors.py): their StateChanged does not bubble."""
        error = worker.error
        if isinstance(error, DatabaseUnavailable):
            self.live = False
        if isinstance(error, SwitchboardError):
            text = str(error)
        else:
            text = f"{type(error).__name__}: {error}"
            self.log.error(repr(error))
        self.notify(clean(text, single_line=True), severity="error", markup=False, timeout=8)

    def action_repaint(self) -> None:
        """ctrl+l: send every cell again, for when something else wrote on the terminal."""
        self.screen.refresh(repaint=True, layout=True)

    def action_search(self, text: str = "") -> None:
        """/: the search screen (the account tree keeps / for its own filter)."""
        from tui.screens.search import SearchScreen

        if not isinstance(self.screen, SearchScreen):
            self.push_screen(SearchScreen(text))

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            # Screenshots write record data to SVG files on the server: not offered.
            if "screenshot" not in command.title.lower():
                yield command
        if keys_belong_to_form(screen):
            return  # leave a form by saving or cancelling it, not by going elsewhere
        yield SystemCommand("Search records", "Find any account, contact, deal or case (/)",
                            self.action_search)
        for mode, (name, what) in MODE_WORDS.items():
            if mode == "admin" and not self.rights.is_admin:
                continue
            yield SystemCommand(f"Go to {name}", what, lambda m=mode: self.switch_mode(m))
