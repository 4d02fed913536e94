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
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from db import connection
from db.connection import database
from db.errors import SwitchboardError
from db.live import LinkState, is_connection_error
from db.outbox import Entry, Outbox, ReplayResult, replay, unavailable
from db.presence import SWEEP_INTERVAL_S
from db.services import session
from db.services.rights import NOBODY, Rights, load_rights
from db.services.session import Me
from tui.keys import OrderedKeysApp, keys_belong_to_form
from tui.live import LiveHub
from tui.messages import (
    ConnectionChanged,
    OutboxChanged,
    OutboxReplayed,
    RecordsChanged,
    SessionLoaded,
)
from tui.palette import RecordSearch
from tui.presence import PresenceLink
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


def _forecast() -> Screen:
    from tui.screens.forecast import ForecastScreen

    return ForecastScreen()


def _kpis() -> Screen:
    from tui.screens.kpis import KpiScreen

    return KpiScreen()


def _pipeline() -> Screen:
    from tui.screens.pipeline_board import PipelineBoardScreen

    return PipelineBoardScreen()


def _console() -> Screen:
    from tui.screens.console import ConsoleScreen

    return ConsoleScreen()


def _cases() -> Screen:
    from tui.screens.cases import CasesScreen

    return CasesScreen()


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
    "pipeline": _pipeline,
    "console": _console,
    "cases": _cases,
    "forecast": _forecast,
    "kpis": _kpis,
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
    "pipeline": ("Pipeline", "The pipeline board: deals by stage"),
    "console": ("Call console", "Look up a caller, log the call's outcome, callbacks"),
    "cases": ("Cases", "My support cases and the team queue"),
    "forecast": ("Forecast", "Commit, best case and pipeline by month and quarter, per team"),
    "kpis": ("KPIs", "Win rate, deal size, cycle, coverage, activity, overdue follow-ups"),
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
        Binding("7", "switch_mode('forecast')", "Forecast", tooltip="Commit, best case and "
                "pipeline by month and quarter, rolled up by team", id="go-forecast", show=False),
        Binding("8", "switch_mode('kpis')", "KPIs", tooltip="Win rate, deal size, cycle, "
                "coverage, activity, exceptions", id="go-kpis", show=False),
        Binding("4", "switch_mode('pipeline')", "Pipeline", tooltip="The pipeline board: "
                "deals by stage", id="go-pipeline", show=False),
        Binding("5", "switch_mode('console')", "Call console", tooltip="Caller lookup, call "
                "outcomes, the callback queue", id="go-console", show=False),
        Binding("6", "switch_mode('cases')", "Cases", tooltip="My cases and the team queue",
                id="go-cases", show=False),
        Binding("9", "switch_mode('trash')", "Trash", tooltip="Deleted records: restore "
                "(admins: purge)", id="go-trash", show=False),
        Binding("0", "switch_mode('admin')", "Admin", tooltip="Users, teams, sharing, audit",
                id="go-admin", show=False),
        Binding("ctrl+o", "outbox", "Outbox", tooltip="Writes saved on this machine, waiting "
                "to be sent", id="outbox", show=False),
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
    outbox_waiting: reactive[int] = reactive(0)  # writes in the outbox (waiting or failed)
    # While writes wait, try again this long after one was queued (a terminated backend with
    # the server up: sent at once, nearly), then this often (besides on ConnectionChanged).
    OUTBOX_FIRST_RETRY_S = 2.0
    OUTBOX_RETRY_S = 10.0
    link: reactive[LinkState] = reactive(LinkState, always_update=True)  # the header's words

    def __init__(self, start_screen: str = "accounts", login: LoginRequest | None = None) -> None:
        # Under NO_COLOR the ANSI theme must be native from the start: Textual picks its colour
        # filter in __init__ (greyscale RGB otherwise, black on black on some terminals).
        super().__init__(
            ansi_color=True if os.environ.get("NO_COLOR") else None, driver_class=_driver()
        )
        self.start_screen = start_screen if start_screen in MODE_FACTORIES else "accounts"
        self.login = login  # set when the connection needs a user name and password
        self.rights: Rights = NOBODY
        # Who else has a record open (tui/presence.py); connected by start(), after the login.
        self.presence = PresenceLink(None)
        self.outbox: Outbox | None = None
        self._outbox_retry: Timer | None = None
        self.hub = LiveHub(self)  # change notices, reconnect, the slow poll (tui/live.py)
        self.pending_pops: list[str] = []  # popped numbers the console has not taken yet
        self.register_theme(SWITCHBOARD)
        self.register_theme(MONO)
        self.theme = theme_name()

    def on_mount(self) -> None:
        # Which worker runs in this thread: lets db/ cancel the statement of a worker the
        # person left (tui/screens/worker_errors.py).
        from textual.worker import NoActiveWorker, get_current_worker

        def task_of() -> object | None:
            try:
                return get_current_worker()
            except NoActiveWorker:
                return None

        database.task_of = task_of
        if self.login is not None:
            from tui.screens.login import LoginScreen

            self.push_screen(LoginScreen(self.login), callback=lambda _: self.start())
        else:
            self.start()
        if os.environ.get("SWITCHBOARD_EXIT_ON_READY") == "1":  # bench B9: cold start
            self.set_interval(0.005, self._exit_when_ready)

    def start(self) -> None:
        """Open the first screen and load who is connected (after the login, if any)."""
        self.presence = PresenceLink.for_settings()
        self.switch_mode(self.start_screen)
        self.load_session()
        # The presence sweep is the App's like the hub's slow poll, on a shorter period: a
        # crashed app's presence must be gone within seconds, not at the next 10 s poll.
        self.set_interval(SWEEP_INTERVAL_S, self._sweep_presence, name="presence-sweep")
        self.open_outbox()


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
        if self.screen_stack:  # an answer that arrives while the app closes has no screen
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
        if self.screen_stack:  # not while closing: nothing would stop the listener again
            self.hub.start()  # the session answered: live; now listen for changes
        self.sub_title = clean(message.me.display_name, single_line=True)

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        """Posted by the hub (tui/live.py) when the connection is lost (live=False) and when it
        is back (live=True, after listening again): presence announces again on a new
        connection, and the outbox replays what was saved on this machine meanwhile."""
        if message.live and self.live is False:
            # The old backend's presence rows go with the next sweep.
            self.presence.reconnected()
        self.live = message.live
        if message.live and self.me is None:
            self.load_session()  # lost before the session had loaded: load it now
        if message.live:
            self.replay_outbox()

    # -- the offline outbox (db/outbox.py, docs/outbox.md) -----------------------------------

    def open_outbox(self) -> None:
        """This login's outbox on this database; what an earlier run left is sent now."""
        try:
            current = connection.settings()
        except RuntimeError:
            return  # not configured (some tests build the app without a database)
        self.outbox = Outbox.for_connection(current.dsn, current.schema)
        self.replay_outbox()

    @work(thread=True, exclusive=True, exit_on_error=False, group="outbox")
    def replay_outbox(self) -> None:
        box = self.outbox
        if box is None:
            return
        if not box.waiting():
            self.post_message(OutboxChanged(box.count()))
            return
        # After a restart of the server the pool still holds connections to the old one; each
        # fails once (and is dropped). Try again until one works or a new one cannot be made.
        for _attempt in range((getattr(database, "_max_connections", 8) or 8) + 1):
            try:
                with database.connection_context():
                    result = replay(box)
            except Exception as exc:  # the connection itself could not be made
                if not unavailable(exc):
                    raise
                result = ReplayResult(stopped=str(exc), left=box.count())
                break
            if not result.stopped:
                break
        self.post_message(OutboxReplayed(result))

    def on_outbox_changed(self, message: OutboxChanged) -> None:
        self.outbox_waiting = message.waiting
        if message.note:
            self.notify(message.note, markup=False, timeout=6)
        self._retry_outbox_later(self.OUTBOX_FIRST_RETRY_S)

    def on_outbox_replayed(self, message: OutboxReplayed) -> None:
        result: ReplayResult = message.result  # type: ignore[assignment]
        self.outbox_waiting = result.left
        if result.sent:
            n = len(result.sent)
            self.notify(f"Sent {n} write{'s' if n > 1 else ''} saved on this machine.",
                        markup=False, timeout=5)  # fmt: skip
        if result.failed:
            n = len(result.failed)
            self.notify(f"{n} saved write{'s' if n > 1 else ''} could not be stored: "
                        "ctrl+o shows why.", severity="warning", markup=False,
                        timeout=10)  # fmt: skip
        from tui.screens.outbox import OutboxScreen

        if isinstance(self.screen, OutboxScreen):
            self.screen.load()
        for entry, _conflict in result.conflicts:
            self.resolve_outbox_conflict(entry)
        if result.stopped:
            self._retry_outbox_later()

    def _retry_outbox_later(self, delay: float | None = None) -> None:
        box = self.outbox
        if box is None or self._outbox_retry is not None or not box.waiting():
            return
        self._outbox_retry = self.set_timer(delay or self.OUTBOX_RETRY_S, self._outbox_retry_due)

    def _outbox_retry_due(self) -> None:
        self._outbox_retry = None
        self.replay_outbox()

    def resolve_outbox_conflict(self, entry: Entry) -> None:
        """A contact edit that met someone else's change: the form opens with the person's
        values and saves them through the conflict dialog (nothing they typed is lost)."""
        if entry.kind != "edit_contact" or keys_belong_to_form(self.screen):
            return  # the Outbox screen (ctrl+o) offers it again
        from tui.screens.contact_form import ContactFormScreen

        self.push_screen(ContactFormScreen(entry.payload["contact_id"], replay=entry))

    def action_outbox(self) -> None:
        from tui.screens.outbox import OutboxScreen

        if not isinstance(self.screen, OutboxScreen):
            self.push_screen(OutboxScreen())

    def _sweep_presence(self) -> None:
        if self.live:  # offline: nothing to sweep with; the presence link reconnects itself
            self.presence.sweep()

    def on_unmount(self) -> None:
        self.hub.stop()
        self.presence.close()  # others see this app leave at once, not at the next sweep

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.worker_failed(event.worker)

    def worker_failed(self, worker: Worker) -> None:
        """The one funnel for worker failures: a notification, never a crash. Screens forward
        theirs here (tui/screens/worker_errors.py): their StateChanged does not bubble."""
        error = worker.error
        if error is not None and is_connection_error(error):
            # The header says reconnecting; the screen reloads by itself when it is back.
            self.hub.data_lost(str(error))
            text = f"{error}: reconnecting; this screen reloads when the database is back"
            self.notify(clean(text, single_line=True), severity="error", markup=False, timeout=8)
            return
        if isinstance(error, SwitchboardError):
            text = str(error)
        else:
            text = f"{type(error).__name__}: {error}"
            self.log.error(repr(error))
        self.notify(clean(text, single_line=True), severity="error", markup=False, timeout=8)

    # -- screen pops (docs/console.md) ---------------------------------------------------------

    def on_records_changed(self, message: RecordsChanged) -> None:
        """The hub hands the App every batch that names screen_pop rows, or that may hide
        them (everything: a reconnect, a flood): only this person's pops can be read and each
        is taken once (take_screen_pops)."""
        from tui.screens.console import pop_ids

        ids = list(pop_ids(message.changes))
        if ids or message.changes.everything:
            self.take_screen_pops(ids, recent=message.changes.everything)

    @work(thread=True, exit_on_error=False, group="screen-pop")
    def take_screen_pops(self, ids: Iterable[int], recent: bool = False) -> None:
        from db.services import screen_pops

        with database.connection_context():
            numbers = [n for n in (screen_pops.take(i) for i in ids) if n]
            if recent:
                numbers += screen_pops.take_recent()
        for number in numbers:
            self.call_from_thread(self.open_in_console, number)

    def open_in_console(self, number: str) -> None:
        """Show the call console with `number` as an incoming call (it waits in line while
        another call is being wrapped up, or while a form is open here)."""
        self.pending_pops.append(number)
        if keys_belong_to_form(self.screen):  # never leave a half-filled form behind
            self.notify(f"Incoming call {clean(number, limit=40, single_line=True)}: "
                        "5 opens the call console", markup=False, timeout=10)  # fmt: skip
            return
        if self.current_mode != "console":
            self.switch_mode("console")
        self.call_after_refresh(self._deliver_pops)

    def _deliver_pops(self) -> None:
        from tui.screens.console import ConsoleScreen

        for screen in self._screen_stacks.get("console", []):
            if isinstance(screen, ConsoleScreen) and screen.is_mounted:
                screen.take_pending_pops()

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
        yield SystemCommand("Outbox: writes waiting to be sent",
                            "Saved on this machine while the database was away (ctrl+o)",
                            self.action_outbox)  # fmt: skip
