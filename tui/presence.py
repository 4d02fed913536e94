"""Presence on screen: "Erik also here", "Erik editing" (docs/presence.md).

`PresenceLink` (one per app, `app.presence`) runs the app's `PresenceSession` calls one after
another on a single background thread: announcements and releases must reach the database in
the order the screens made them (a release overtaking its announcement would leave a record
held for as long as the app runs), and they must run even when the screen that made them has
just been removed (Textual cancels a removed screen's workers). Answers come back as
`PresenceShown` messages, posted (thread-safe) to the screen that asked.

`PresenceHolder` is the mixin for a screen that shows one record: it holds the record while the
screen is the top full screen of the stack (dialogs over it keep it there), releases it when
another full screen covers it or it closes, shows who else is there, and asks again when the
live hub says the record's presence changed (`on_records_changed`, "presence" notices).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ClassVar

from textual.message import Message
from textual.screen import ModalScreen

from db.presence import RECORD_TABLES, PresenceSession, Present
from tui.text import clean

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

log = logging.getLogger(__name__)

Record = tuple[str, int]
NAME_CELLS = 20  # a name in the presence line is cut to this


class PresenceShown(Message):
    """Who else has `record` open (not the person themselves)."""

    def __init__(self, record: Record, others: list[Present]) -> None:
        super().__init__()
        self.record = record
        self.others = others


def presence_words(others: list[Present]) -> str:
    """'Erik also here', 'Erik editing', 'Erik editing · Maja, Per also here', 'A, B +3 also
    here'. Names are cleaned (tui/text.py) and cut; plain text, never markup."""
    editing = [clean(p.name, limit=NAME_CELLS, single_line=True) for p in others if p.editing]
    here = [clean(p.name, limit=NAME_CELLS, single_line=True) for p in others if not p.editing]
    parts = []
    if editing:
        parts.append(f"{_names(editing)} editing")
    if here:
        parts.append(f"{_names(here)} also here")
    return " · ".join(parts)


def _names(names: list[str]) -> str:
    if len(names) <= 2:
        return ", ".join(names)
    return f"{names[0]}, {names[1]} +{len(names) - 2}"


class PresenceLink:
    """The app's presence calls, in order, off the UI thread. A link without a session (no
    database configured) does nothing."""

    def __init__(self, session: PresenceSession | None) -> None:
        self.session = session
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="presence")
        self._pending = 0
        self._count_lock = threading.Lock()
        self._closed = False

    @classmethod
    def for_settings(cls) -> PresenceLink:
        try:
            return cls(PresenceSession.from_settings())
        except RuntimeError:  # db.connection.configure was never called
            return cls(None)

    @property
    def idle(self) -> bool:
        """Nothing queued or running (tests wait on this)."""
        return self._pending == 0

    def _submit(self, job: Callable[[PresenceSession], Any]) -> None:
        session = self.session
        if session is None or self._closed:
            return
        with self._count_lock:
            self._pending += 1

        def run() -> None:
            try:
                job(session)
            except Exception as exc:  # noqa: BLE001 (presence never takes the app down)
                log.info("presence: %s", exc)
            finally:
                with self._count_lock:
                    self._pending -= 1

        self._pool.submit(run)

    def hold(self, record: Record, editing: bool = False) -> None:
        self._submit(lambda s: s.announce(*record, editing=editing))

    def release(self, record: Record, editing: bool = False) -> None:
        self._submit(lambda s: s.leave(*record, editing=editing))

    def ask(self, screen: Screen, record: Record) -> None:
        """Post `PresenceShown(record, others)` to `screen` when the answer is in."""
        self._submit(lambda s: screen.post_message(PresenceShown(record, s.others(*record))))

    def sweep(self) -> None:
        """Remove the presence of apps that are gone (the hub's slow poll calls this). An app
        that has never shown a record has no presence connection and opens none for this:
        the apps that show records sweep."""
        self._submit(lambda s: s.sweep() if s.connected else 0)

    def reconnected(self) -> None:
        """The database came back: a new presence connection, everything held announced
        again (the old backend's rows are swept)."""
        self._submit(lambda s: s.reconnect())

    def close(self) -> None:
        """Clear this app's presence and stop (the queue drains in the background)."""
        self._submit(lambda s: s.close())
        self._closed = True
        self._pool.shutdown(wait=False)


def presence_link(app: App) -> PresenceLink | None:
    return getattr(app, "presence", None)


class PresenceHolder:
    """Mixin for a Screen that shows one record. Call `hold_presence(table, id)` when the
    screen shows a record (and again when it moves to another), `drop_presence()` when it
    shows none; override `show_presence(text)` to put the words somewhere else than the
    status bar."""

    PRESENCE_EDITING: ClassVar[bool] = False  # forms: the person is editing the record
    _presence_record: Record | None = None  # the record the screen shows
    _presence_held: Record | None = None  # what this screen has announced

    def hold_presence(self, table: str, row_id: int) -> None:
        if table not in RECORD_TABLES:
            return
        self._presence_record = (table, int(row_id))
        self._presence_sync(ask=True)

    def drop_presence(self) -> None:
        self._presence_record = None
        self._presence_sync(ask=True)

    @property
    def presence_record(self) -> Record | None:
        return self._presence_record

    def show_presence(self, text: str) -> None:
        from tui.widgets.status_bar import StatusBar

        for bar in self.query(StatusBar):  # type: ignore[attr-defined]
            bar.presence = text

    def _presence_on_top(self) -> bool:
        """The top full screen of the app (dialogs over it do not count)."""
        screen: Any = self
        if not screen.is_attached:
            return False
        try:
            stack = screen.app.screen_stack
        except Exception:  # noqa: BLE001 (no screen stack while the app shuts down)
            return False
        full = [s for s in stack if not isinstance(s, ModalScreen)]
        return bool(full) and full[-1] is self

    def _presence_sync(self, ask: bool = False, on_top: bool | None = None) -> None:
        link = presence_link(self.app)  # type: ignore[attr-defined]
        if link is None:
            return
        showing = self._presence_on_top() if on_top is None else on_top
        want = self._presence_record if showing else None
        held = self._presence_held
        if want != held:
            if want is not None:  # announce first: a hold moving between screens never drops
                link.hold(want, self.PRESENCE_EDITING)
            if held is not None:
                link.release(held, self.PRESENCE_EDITING)
            self._presence_held = want
            ask = True
        if not ask:
            return
        if want is None:
            if on_top is None:  # not while the screen is being taken down
                self.show_presence("")
        else:
            link.ask(self, want)  # type: ignore[arg-type]

    # Textual calls these by name on every class of the MRO, the screen's own handlers too.
    def on_screen_resume(self, _event: object) -> None:
        self._presence_sync(ask=True)

    def on_screen_suspend(self, _event: object) -> None:
        # The screen that covers this one is on the stack already: a dialog keeps the hold.
        self._presence_sync()

    def on_unmount(self, _event: object) -> None:
        self._presence_sync(on_top=False)

    def on_presence_shown(self, message: PresenceShown) -> None:
        if message.record == self._presence_held:
            self.show_presence(presence_words(message.others))

    def on_records_changed(self, message: Any) -> None:
        """The live hub's batch: ask again when this record's presence may have changed
        (notices {"t":"presence","id":<record id>}; ids of all record tables share the key)."""
        held = self._presence_held
        if held is not None and message.changes.touches("presence", [held[1]]):
            link = presence_link(self.app)  # type: ignore[attr-defined]
            if link is not None:
                link.ask(self, held)  # type: ignore[arg-type]
