"""Presence: who else has a record open, and who is editing it (docs/presence.md).

One `PresenceSession` per app process: a small long-lived autocommit connection whose backend
the announcements belong to (the database ties every presence row to the pid of the backend
that announced it). When the app closes the session clears its rows; when the app crashes or
its network goes, the backend goes and `presence_sweep()` (run by every app every few seconds,
`sweep`) removes the rows. If the connection dies the session reconnects on its next call and
announces again everything still held.

Plain Python, no textual; every method is blocking and meant for thread workers. Screens hold a
record open with `announce` and release it with `leave`; holds are counted, so a detail screen
and the form opened over it can both hold the same record (the form editing) and the row says
"editing" exactly while the form is open.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import psycopg2
import psycopg2.extensions

from db.connection import connect_kwargs, explain_connect_error, settings
from db.errors import DatabaseUnavailable

# Tables with a record screen: the only ones presence is kept for (the database checks too).
RECORD_TABLES = frozenset({"account", "contact", "opportunity", "support_case"})
# Seconds between sweeps: a crashed app's presence is gone for everyone within about this.
SWEEP_INTERVAL_S = 3.0
# A presence call is a few rows through an index: anything slower is a sick connection.
STATEMENT_TIMEOUT_MS = 3_000
APPLICATION_NAME = "switchboard presence"
# libpq's side (idle 2 s, then 2 probes 1 s apart; unacknowledged data: 4 s) and the
# server's (the backend of a vanished client ends after about 4 s idle, not 2 hours).
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 2, "keepalives_interval": 1,
              "keepalives_count": 2, "tcp_user_timeout": 4000}  # fmt: skip
SERVER_KEEPALIVES = {"tcp_keepalives_idle": 2, "tcp_keepalives_interval": 1,
                     "tcp_keepalives_count": 2, "tcp_user_timeout": 4000}  # fmt: skip

_LOST = (psycopg2.OperationalError, psycopg2.InterfaceError)


@dataclass(frozen=True)
class Present:
    """Someone else who has the record open (one per person, whatever number of apps)."""

    user_id: int
    name: str
    editing: bool
    since: datetime


def sweep(cur: psycopg2.extensions.cursor) -> int:
    """Remove the presence of backends that are gone; how many rows went. For the hub's slow
    poll (db/live.py), on any connection of this login, outside a long transaction."""
    cur.execute("SELECT presence_sweep()")
    return int(cur.fetchone()[0])


class PresenceSession:
    """The app's presence connection. Thread-safe; every call may block on the network."""

    def __init__(self, dsn: str, schema: str) -> None:
        self.dsn = dsn
        self.schema = schema
        self._conn: psycopg2.extensions.connection | None = None
        self._lock = threading.RLock()
        # (table, id) -> [holds, editing holds]
        self._held: dict[tuple[str, int], list[int]] = {}
        self._closed = False

    @classmethod
    def from_settings(cls) -> PresenceSession:
        """A session for the login `db.connection.configure` was given."""
        s = settings()
        return cls(s.dsn, s.schema)

    # ------------------------------------------------------------------------ connection

    @property
    def backend_pid(self) -> int | None:
        """The pid the presence rows of this app carry (None before the first call)."""
        with self._lock:
            return self._conn.get_backend_pid() if self._conn is not None else None

    def _connect(self) -> psycopg2.extensions.connection:
        params = connect_kwargs(self.dsn, self.schema)
        params["application_name"] = APPLICATION_NAME
        # A lost network must end the presence quickly on both sides: the client gives up on
        # the socket, and the server (tcp_keepalives_* below) ends the backend, which the
        # sweep then sees gone. Both only apply over TCP (a Unix socket closes at once).
        params.update(KEEPALIVES)
        try:
            conn = psycopg2.connect(**params)
        except psycopg2.OperationalError as exc:
            raise explain_connect_error(exc, self.dsn) from exc
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SET statement_timeout = %s", (STATEMENT_TIMEOUT_MS,))
            for name, value in SERVER_KEEPALIVES.items():
                cur.execute("SELECT set_config(%s, %s, false)", (name, str(value)))
        return conn

    def _run(self, fn: Callable[[psycopg2.extensions.cursor], object]) -> object:
        """`fn(cursor)` on the presence connection: connecting (and announcing again what is
        held) when there is none, once more after a lost connection."""
        with self._lock:
            if self._closed:
                raise DatabaseUnavailable("the presence session is closed")
            for attempt in (1, 2):
                fresh = self._conn is None
                try:
                    if fresh:
                        self._conn = self._connect()
                        self._announce_held()
                    with self._conn.cursor() as cur:
                        return fn(cur)
                except _LOST as exc:
                    self._drop()
                    if attempt == 2 or fresh:
                        raise DatabaseUnavailable(f"presence: {exc}".strip()) from exc
            raise AssertionError("unreachable")

    def _announce_held(self) -> None:
        assert self._conn is not None
        with self._conn.cursor() as cur:
            for (table, row_id), (_holds, editing) in self._held.items():
                cur.execute("SELECT presence_set(%s, %s, %s)", (table, row_id, editing > 0))

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg2.Error:
                pass
            self._conn = None

    def reconnect(self) -> None:
        """Start over on a new connection and announce again what is held (the hub calls this
        after the database came back; rows of the old backend are swept)."""
        with self._lock:
            self._drop()
            if self._held:
                self._run(lambda cur: None)

    # ------------------------------------------------------------------------------ API

    def announce(self, table: str, row_id: int, editing: bool = False) -> bool:
        """Hold the record open (editing: a form on it). False when this person may not read
        it or it does not exist: nothing is announced then (the hold is still counted, so
        `leave` stays symmetric)."""
        key = _key(table, row_id)
        with self._lock:
            holds = self._held.setdefault(key, [0, 0])
            before = holds[1] > 0
            holds[0] += 1
            holds[1] += 1 if editing else 0
            if holds[0] > 1 and before == (holds[1] > 0):
                return True  # the database already says so
            return bool(self._run(lambda cur: _set(cur, key, holds[1] > 0)))

    def leave(self, table: str, row_id: int, editing: bool = False) -> None:
        """Release one hold taken by `announce` with the same arguments."""
        key = _key(table, row_id)
        with self._lock:
            holds = self._held.get(key)
            if holds is None:
                return
            was_editing = holds[1] > 0
            holds[0] -= 1
            if editing and holds[1] > 0:
                holds[1] -= 1
            if holds[0] <= 0:
                del self._held[key]
                self._run(lambda cur: cur.execute("SELECT presence_clear(%s, %s)", key))
            elif was_editing and holds[1] == 0:
                self._run(lambda cur: _set(cur, key, False))

    def others(self, table: str, row_id: int) -> list[Present]:
        """The other people who have the record open, editors first. Empty when nobody is, and
        also when this person may not read the record (the two look the same)."""
        key = _key(table, row_id)

        def read(cur: psycopg2.extensions.cursor) -> list[Present]:
            cur.execute("SELECT user_id, display_name, editing, since FROM presence_of(%s, %s)",
                        key)  # fmt: skip
            return [Present(int(u), n, bool(e), s) for u, n, e, s in cur.fetchall()]

        return self._run(read)  # type: ignore[return-value]

    def held(self) -> dict[tuple[str, int], bool]:
        """What this app holds open: (table, id) -> editing."""
        with self._lock:
            return {k: v[1] > 0 for k, v in self._held.items()}

    @property
    def connected(self) -> bool:
        return self._conn is not None

    def sweep(self) -> int:
        """`sweep` on the presence connection."""
        return int(self._run(sweep))  # type: ignore[arg-type]

    def close(self) -> None:
        """Clear this app's presence and close the connection (best effort: a dead connection
        leaves rows that the next sweep of any app removes)."""
        with self._lock:
            self._closed = True
            self._held.clear()
            if self._conn is not None:
                try:
                    with self._conn.cursor() as cur:
                        cur.execute("SELECT presence_clear_all()")
                except psycopg2.Error:
                    pass
            self._drop()


def _key(table: str, row_id: int) -> tuple[str, int]:
    if table not in RECORD_TABLES:
        raise ValueError(f"presence is kept for {sorted(RECORD_TABLES)}, not {table!r}")
    return table, int(row_id)


def _set(cur: psycopg2.extensions.cursor, key: tuple[str, int], editing: bool) -> bool:
    cur.execute("SELECT presence_set(%s, %s, %s)", (*key, editing))
    return bool(cur.fetchone()[0])
