"""The app's one live path: change notices in, `RecordsChanged` out, and the connection state.

`LiveHub` (owned by `SwitchboardApp` as `app.hub`) reads the listening connection of
db/live.py from the event loop (`loop.add_reader`), coalesces what arrives for WINDOW seconds
and delivers at most one batch per MIN_GAP seconds (docs/live.md "Caps"): to the screen on top
and, under a modal, to the screen below it. A screen that is not shown collects its batches
and gets them, merged, when it is shown again (`LiveScreen`, mixed into every screen).

It also watches the data connection: a worker that dies of a lost connection (the App's
worker funnel calls `data_lost`) or a failed slow poll puts the header into "reconnecting";
a probe retries with backoff (db.live.Backoff); on return it listens again, posts
`ConnectionChanged(live=True)` to the App (the outbox replays on it) and `RecordsChanged
(everything=True)` to the screens. Every POLL_SECONDS the slow poll reads `change_mark()` and
runs the hooks registered with `add_poll_hook` (presence's sweep) in the same worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary, WeakSet

from textual import on
from textual.events import ScreenResume
from textual.screen import ModalScreen, Screen
from textual.timer import Timer

from db import live as dblive
from db.connection import database, settings
from db.errors import DatabaseUnavailable
from db.live import EVERYTHING, Changes, LinkState, Listener
from tui.messages import ConnectionChanged, RecordsChanged
from tui.screens.worker_errors import cancel_abandoned

if TYPE_CHECKING:
    from textual.app import App

log = logging.getLogger(__name__)

WINDOW = 0.1  # seconds notices are collected before one batch goes out
MIN_GAP = 0.2  # seconds between two batches: at most 5 re-reads a second per screen
CANCEL_SWEEP = 0.25  # seconds between sweeps for queries of screens the person left
OUTAGE_TEXT = "No connection to the database: this reloads by itself when it is back."


class LiveHub:
    def __init__(self, app: App) -> None:
        self.app = app
        self.state = LinkState()
        self.listener: Listener | None = None
        self._fd: int | None = None
        self.backoff = dblive.Backoff()
        self.mark = dblive.MarkWatch()
        self._noticed = False  # a notice arrived since the last poll
        self._pending: WeakKeyDictionary[Screen, Changes] = WeakKeyDictionary()
        self._known: WeakSet[Screen] = WeakSet()
        self._flush_timer: Timer | None = None
        self._retry_timer: Timer | None = None
        self._last_batch = 0.0
        self._attempting = False
        self._started = False
        self._timers_on = False
        self._poll_hooks: list[Callable[[], None]] = []
        self.batches = 0  # RecordsChanged batches delivered (tests, docs/live.md)
        self.poll_seconds = dblive.POLL_SECONDS

    # ------------------------------------------------------------------------- public

    @property
    def live(self) -> bool | None:
        return self.state.live

    def start(self) -> None:
        """Connect the listener (in a thread) and start the slow poll; called once the
        session has loaded."""
        if self._started:
            return
        self._started = True
        if self.state.status in ("reconnecting", "offline") or self.listener is not None:
            return  # lost before the session loaded: the retry attaches (or attached) it
        self.state = dblive.LIVE  # the session's own query has just answered
        self._publish()
        self._timers()
        self._attempt(first=True)

    def _timers(self) -> None:
        if self._timers_on:
            return
        self._timers_on = True
        self.app.set_interval(self.poll_seconds, self._poll, name="live-poll")
        self.app.set_interval(1.0, self._tick, name="live-tick")
        self.app.set_interval(CANCEL_SWEEP, cancel_abandoned, name="cancel-sweep")

    def add_poll_hook(self, hook: Callable[[], None]) -> None:
        """Run `hook()` in the slow poll's worker thread, inside a connection context, every
        POLL_SECONDS while the connection is live (presence sweeps from here). An exception
        from it is logged; a lost connection from it starts reconnecting."""
        self._poll_hooks.append(hook)

    def data_lost(self, detail: str = "") -> None:
        """A database call found the connection gone: show it, close the pool, retry."""
        self._lost(detail or "the connection to the database was lost")

    def stop(self) -> None:
        self._detach()
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    # ------------------------------------------------------------------------- notices

    def _attach(self, listener: Listener) -> None:
        self._detach()
        if self.listener is not None and self.listener is not listener:
            self.listener.close()
        self.listener = listener
        self._fd = listener.fileno()
        asyncio.get_running_loop().add_reader(self._fd, self._readable)

    def _detach(self) -> None:
        if self._fd is not None:
            try:
                asyncio.get_running_loop().remove_reader(self._fd)
            except (RuntimeError, ValueError, OSError):
                pass
            self._fd = None

    def _readable(self) -> None:
        listener = self.listener
        if listener is None:
            return
        try:
            read = listener.drain()
        except DatabaseUnavailable as exc:
            self._lost(str(exc))
            return
        if read:
            self._noticed = True
        if listener.pending and self._flush_timer is None:
            self._flush_timer = self.app.set_timer(WINDOW, self._flush, name="live-flush")

    def _flush(self) -> None:
        self._flush_timer = None
        wait = MIN_GAP - (time.monotonic() - self._last_batch)
        if wait > 0:
            self._flush_timer = self.app.set_timer(wait, self._flush, name="live-flush")
            return
        if self.listener is not None and (changes := self.listener.take()) is not None:
            self.deliver(changes)

    def deliver(self, changes: Changes) -> None:
        """One batch: to the shown screen(s) now, to every other screen when shown again."""
        self._last_batch = time.monotonic()
        self.batches += 1
        shown = self._shown()
        if changes.everything or changes.ids.get("screen_pop"):
            self.app.post_message(RecordsChanged(changes))  # screen pops are the App's
        for screen in shown:
            self._known.add(screen)
            screen.post_message(RecordsChanged(changes))
        for screen in list(self._known):
            if screen not in shown:
                before = self._pending.get(screen)
                self._pending[screen] = changes if before is None else before.merged(changes)

    def _shown(self) -> list[Screen]:
        try:
            stack = self.app.screen_stack
        except Exception:  # noqa: BLE001 (no screen yet)
            return []
        if not stack:
            return []
        shown = [stack[-1]]
        if isinstance(stack[-1], ModalScreen) and len(stack) > 1:
            shown.append(stack[-2])
        return shown

    def screen_shown(self, screen: Screen) -> None:
        """`screen` is on top again: hand it what changed while it was not shown."""
        self._known.add(screen)
        changes = self._pending.pop(screen, None)
        if changes is not None:
            screen.post_message(RecordsChanged(changes))
        if self.state.live is False:
            show_outage(screen)

    # ------------------------------------------------------------------------- the poll

    def _poll(self) -> None:
        if self.state.status != "live" or self._attempting:
            return
        noticed, self._noticed = self._noticed, False
        hooks = list(self._poll_hooks)

        def run() -> None:
            try:
                with database.connection_context():
                    mark = dblive.change_mark()
                    for hook in hooks:
                        try:
                            hook()
                        except Exception as exc:  # noqa: BLE001 (a hook never stops the poll)
                            if dblive.is_connection_error(exc):
                                raise
                            log.exception("live poll hook failed")
            except Exception as exc:  # noqa: BLE001
                if dblive.is_connection_error(exc):
                    self._from_thread(self._lost, f"the database stopped answering: {exc}")
                return
            self._from_thread(self._polled, mark, noticed)

        self.app.run_worker(run, thread=True, group="listen-poll", exit_on_error=False)

    def _polled(self, mark: int, noticed: bool) -> None:
        if self.mark.seen(mark, noticed or self._noticed):
            self.deliver(EVERYTHING)  # changes came that no notice told about

    # ------------------------------------------------------------------------- reconnect

    def _lost(self, detail: str) -> None:
        if self.state.status in ("reconnecting", "offline"):
            for screen in self._shown():
                show_outage(screen)  # a screen opened meanwhile failed to load: say why
            return
        self._detach()
        self._timers()
        now = time.monotonic()
        self.state = self.state.lost(now, detail)
        self._publish()
        self.app.post_message(ConnectionChanged(False, detail))
        for screen in self._shown():
            show_outage(screen)
        self._tell_headerless("No connection to the database: reconnecting…", "warning")
        if not self._attempting:
            self._schedule_retry()

    def _schedule_retry(self) -> None:
        delay = self.backoff.next_delay()
        now = time.monotonic()
        if self.state.status == "connecting":
            self.state = LinkState("connecting", retry_at=now + delay)
        else:
            self.state = self.state.waiting(now + delay, now)
        self._publish()
        if self._retry_timer is not None:
            self._retry_timer.stop()
        self._retry_timer = self.app.set_timer(delay, self._attempt, name="live-retry")

    def _attempt(self, first: bool = False) -> None:
        """Probe the data connection and open a new listener, in a thread."""
        self._retry_timer = None
        if self._attempting:
            return
        self._attempting = True
        try:
            conf = settings()
        except RuntimeError:
            self._attempting = False
            return

        def run() -> None:
            listener = Listener(conf.dsn, conf.schema)
            try:
                if not first:
                    database.close_idle()  # pooled connections to a lost server are dead
                with database.connection_context():
                    mark = dblive.change_mark()
                listener.connect()
            except Exception as exc:  # noqa: BLE001 (anything: try again later)
                listener.close()
                self._from_thread(self._failed, str(exc))
                return
            self._from_thread(self._connected, listener, mark)

        self.app.run_worker(run, thread=True, group="listen-connect", exit_on_error=False)

    def _failed(self, detail: str) -> None:
        self._attempting = False
        if self.state.status == "live":
            self._lost(detail)  # the first listener could not connect
            return
        self._schedule_retry()

    def _connected(self, listener: Listener, mark: int) -> None:
        self._attempting = False
        if not self.app.is_running:
            listener.close()
            return
        was = self.state.status
        self._attach(listener)
        self.backoff.reset()
        self.state = dblive.LIVE
        self._publish()
        self.mark.mark = mark
        if was == "live":
            return  # the first listener of a session that was live already
        self.app.post_message(ConnectionChanged(True, "reconnected"))
        self._tell_headerless("The database is back.", "information")
        self.deliver(EVERYTHING)  # what changed while away: refresh what is shown

    def _tell_headerless(self, text: str, severity: str) -> None:
        """Forms and dialogs have no header line: a notification says it there instead."""
        from tui.widgets.status_bar import StatusBar

        shown = self._shown()
        if shown and not shown[0].query(StatusBar):
            self.app.notify(text, severity=severity, markup=False, timeout=5)  # type: ignore[arg-type]

    def _tick(self) -> None:
        if self.state.status != "live":
            if self.state.status == "reconnecting" and self.state.since_mono and (
                time.monotonic() - self.state.since_mono >= dblive.OFFLINE_AFTER
            ):
                self.state = self.state.waiting(self.state.retry_at or 0.0, time.monotonic())
            self._publish()

    def _publish(self) -> None:
        app = self.app
        app.link = self.state  # type: ignore[attr-defined]
        app.live = self.state.live  # type: ignore[attr-defined]

    def _from_thread(self, fn: Callable, *args: object) -> None:
        try:
            self.app.call_from_thread(fn, *args)
        except RuntimeError:
            pass  # the app has closed meanwhile


class LiveScreen:
    """Mixed into every screen: tells the hub when it is shown again (its backlog follows)."""

    @on(ScreenResume)
    def _live_resumed(self, _event: ScreenResume) -> None:
        hub = getattr(self.app, "hub", None)  # type: ignore[attr-defined]
        if hub is not None:
            hub.screen_shown(self)


def show_outage(screen: Screen) -> None:
    """Nothing on `screen` says "Loading…" for good: what waits for data says the database is
    unreachable instead (the screen reloads it on `RecordsChanged(everything=True)`)."""
    from textual.widgets import Static

    from tui.widgets.record_list import RecordList

    hook = getattr(screen, "show_outage", None)
    if callable(hook):
        hook()
    try:
        for listing in screen.query(RecordList):
            if not listing.rows:
                listing.clear(empty=OUTAGE_TEXT)
        for static in screen.query(Static):
            text = str(static.content).strip().lower() if hasattr(static, "content") else ""
            if text.startswith("loading"):
                static.update(OUTAGE_TEXT)
    except Exception:  # noqa: BLE001 (a screen being torn down)
        log.debug("show_outage skipped", exc_info=True)
