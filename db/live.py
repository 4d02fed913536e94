"""Change notices: the one listening connection, coalescing, reconnect policy, missed-notice poll.

Plain Python (no textual): the app (tui/live.py), the benchmarks (bench/b7_live_fanout.py) and
the tests use it directly.

Every committed change fires `record_change()` (migrations 0002, 0010), which sends a NOTIFY on
the channel named after the schema with a payload such as
`{"t":"contact","op":"U","id":7,"a":3}`. Anyone with SQL access can send the same on the same
channel, so a notice is a hint, never data (docs/security.md "Change notices are hints"): the
listener parses defensively, drops and counts what is malformed, and merges everything that
arrives into one `Changes` per batch. Past `MAX_IDS` tracked ids it stops tracking and says
`everything=True` instead: one refresh of what is on screen, never one query per notice.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

import peewee
import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from db.connection import connect_kwargs
from db.errors import DatabaseUnavailable

MAX_PAYLOAD = 256  # bytes: the trigger's payloads are under 80
MAX_IDS = 500  # tracked (table, id) pairs per batch; beyond: everything=True
MAX_ACCOUNTS = 500
_TABLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_MAX_ID = 2**63 - 1


# --------------------------------------------------------------------------------- Changes


@dataclass(frozen=True)
class Changes:
    """What may have changed: `ids` per table, the accounts named, or `everything`.

    A hint only: a screen that cares re-reads what it shows through the services, under RLS.
    `table_accounts` (an addition to the shared interface) says which tables named which
    accounts, so `touches("opportunity", accounts=...)` is not set off by a contact's notice.
    """

    ids: Mapping[str, frozenset[int]] = field(default_factory=lambda: MappingProxyType({}))
    accounts: frozenset[int] = frozenset()
    everything: bool = False
    table_accounts: Mapping[str, frozenset[int]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def touches(
        self,
        table: str | Iterable[str],
        ids: Iterable[int] | None = None,
        accounts: Iterable[int] | None = None,
    ) -> bool:
        """True when a row of `table` (or of any of several tables) may have changed that
        matters here: one of `ids`, or one under one of `accounts`; with neither given, any row
        of the table. Always True when `everything` is set."""
        if self.everything:
            return True
        if not isinstance(table, str):
            return any(self.touches(t, ids, accounts) for t in table)
        rows = self.ids.get(table)
        if ids is None and accounts is None:
            return bool(rows) or table in self.table_accounts
        if ids is not None and rows and not rows.isdisjoint(ids):
            return True
        if accounts is not None:
            named = self.table_accounts.get(table)
            if named is None:
                named = self.accounts if rows else frozenset()
            return not named.isdisjoint(accounts)
        return False

    def merged(self, other: Changes) -> Changes:
        if self.everything or other.everything:
            return EVERYTHING
        return Changes(
            _union(self.ids, other.ids),
            self.accounts | other.accounts,
            False,
            _union(self.table_accounts, other.table_accounts),
        )

    @property
    def empty(self) -> bool:
        return not (self.everything or self.ids or self.accounts)

    @property
    def size(self) -> int:
        return sum(len(v) for v in self.ids.values()) + len(self.accounts)


def _union(
    a: Mapping[str, frozenset[int]], b: Mapping[str, frozenset[int]]
) -> Mapping[str, frozenset[int]]:
    empty: frozenset[int] = frozenset()
    return MappingProxyType({t: a.get(t, empty) | b.get(t, empty) for t in {*a, *b}})


EVERYTHING = Changes(everything=True)
NOTHING = Changes()


class Collector:
    """Notices of one batch, merged as they come; `take()` hands them over and starts again."""

    def __init__(self, max_ids: int = MAX_IDS) -> None:
        self.max_ids = max_ids
        self._reset()

    def _reset(self) -> None:
        self.ids: dict[str, set[int]] = {}
        self.accounts: set[int] = set()
        self.table_accounts: dict[str, set[int]] = {}
        self.everything = False
        self.count = 0  # notices in this batch (valid ones)
        self._tracked = 0

    def add(self, table: str, row_id: int, account_id: int | None) -> None:
        self.count += 1
        if self.everything:
            return
        bucket = self.ids.setdefault(table, set())
        if row_id not in bucket:
            bucket.add(row_id)
            self._tracked += 1
        if account_id is not None:
            self.accounts.add(account_id)
            self.table_accounts.setdefault(table, set()).add(account_id)
        if self._tracked > self.max_ids or len(self.accounts) > MAX_ACCOUNTS:
            self.mark_everything()

    def mark_everything(self) -> None:
        self.everything = True
        self.ids.clear()
        self.accounts.clear()
        self.table_accounts.clear()

    @property
    def pending(self) -> bool:
        return self.everything or bool(self.ids)

    def take(self) -> Changes | None:
        if not self.pending:
            return None
        if self.everything:
            changes = EVERYTHING
        else:
            changes = Changes(
                MappingProxyType({t: frozenset(v) for t, v in self.ids.items()}),
                frozenset(self.accounts),
                False,
                MappingProxyType({t: frozenset(v) for t, v in self.table_accounts.items()}),
            )
        self._reset()
        return changes


def parse(payload: str, tables: frozenset[str] | None = None) -> tuple[str, int, int | None] | None:
    """(table, id, account id) from one payload, or None when it is not one of ours.

    Never raises: wrong types, unknown tables, oversized or non-JSON payloads are dropped."""
    if not isinstance(payload, str) or len(payload) > MAX_PAYLOAD:
        return None
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    table, row_id, account_id, op = data.get("t"), data.get("id"), data.get("a"), data.get("op")
    if not isinstance(table, str) or not _TABLE.match(table):
        return None
    if tables is not None and table not in tables:
        return None
    if op not in ("I", "U", "D"):
        return None
    if type(row_id) is not int or not 0 <= row_id <= _MAX_ID:
        return None
    if account_id is not None and (type(account_id) is not int or not 0 < account_id <= _MAX_ID):
        return None
    return table, row_id, account_id


# --------------------------------------------------------------------------------- Listener


class Listener:
    """One autocommit connection that LISTENs on the schema's channel.

    `connect()` blocks (run it in a thread); `fileno()` goes to `loop.add_reader`; `drain()`
    reads everything waiting on the socket (a flood never grows memory), parses it into the
    current batch and returns how many notices it read; `take()` hands the batch over. A lost
    connection makes `drain()` raise DatabaseUnavailable; then `close()` and connect a new one.
    """

    def __init__(self, dsn: str, schema: str, max_ids: int = MAX_IDS) -> None:
        self.dsn = dsn
        self.schema = schema
        self.conn: psycopg2.extensions.connection | None = None
        self.tables: frozenset[str] | None = None
        self.collector = Collector(max_ids)
        self.received = 0  # notices read, valid or not
        self.dropped = 0  # payloads that were not ours (malformed, unknown table, ...)
        self.last_notice: float = 0.0  # time.time() of the last valid notice
        # Called with (table, id) for every valid notice as it is read (bench B7 times them).
        self.observe: Callable[[str, int], None] | None = None

    @property
    def channel(self) -> str:
        return self.schema

    def connect(self) -> None:
        """Open the connection (connect and statement timeouts from db.connection) and LISTEN.

        Raises DatabaseUnavailable (or AuthenticationFailed) when the server cannot be reached."""
        params = connect_kwargs(self.dsn, self.schema)
        params["application_name"] = "switchboard listen"
        host = params.get("host") or ""
        if host and not host.startswith("/"):
            # TCP: a silent network loss (no FIN from the server) shows within ~2 s even when
            # nothing is sent: a keepalive after 1 s idle, dead after 1 s without an answer,
            # and unacknowledged data fails after 2 s. A false alarm on a lossy link costs a
            # reconnect and one refresh. (A stopped server or a killed backend closes the
            # socket: that shows at once.)
            params.setdefault("keepalives", 1)
            params.setdefault("keepalives_idle", 1)
            params.setdefault("keepalives_interval", 1)
            params.setdefault("keepalives_count", 1)
            params.setdefault("tcp_user_timeout", 2000)
        try:
            conn = psycopg2.connect(**params)
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
                    " ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'p')",
                    [self.schema],
                )
                self.tables = frozenset(r[0] for r in cur.fetchall()) or None
                cur.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        except psycopg2.Error as exc:
            raise DatabaseUnavailable(f"cannot listen for changes: {_last_line(exc)}") from exc
        self.close()
        self.conn = conn

    def fileno(self) -> int:
        if self.conn is None:
            raise DatabaseUnavailable("not connected")
        return self.conn.fileno()

    def drain(self) -> int:
        """Read every notice waiting; returns how many. Raises DatabaseUnavailable when the
        connection is gone (server stopped, backend terminated, network)."""
        conn = self.conn
        if conn is None or conn.closed:
            raise DatabaseUnavailable("the listening connection is closed")
        try:
            conn.poll()
        except psycopg2.Error as exc:
            raise DatabaseUnavailable(f"lost the listening connection: {_last_line(exc)}") from exc
        read = 0
        notifies = conn.notifies
        while notifies:
            batch = notifies[:]
            del notifies[:]
            read += len(batch)
            for notice in batch:
                if notice.channel != self.channel:
                    self.dropped += 1
                    continue
                parsed = parse(notice.payload, self.tables)
                if parsed is None:
                    self.dropped += 1
                    continue
                self.collector.add(*parsed)
                if self.observe is not None:
                    self.observe(parsed[0], parsed[1])
        self.received += read
        if read:
            self.last_notice = time.time()
        return read

    @property
    def pending(self) -> bool:
        return self.collector.pending

    def take(self) -> Changes | None:
        return self.collector.take()

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.close()
            except psycopg2.Error:
                pass


def _last_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


# --------------------------------------------------------------------------------- errors


# SQLSTATEs that mean the session is gone: class 08 (connection exception) and 57P01-57P03
# (terminated by an administrator, crash shutdown, cannot connect now).
_GONE = ("57P01", "57P02", "57P03")


def is_connection_error(exc: BaseException | None) -> bool:
    """True when `exc` (or what caused it) says the connection to the database is lost,
    as opposed to a refusal, a timeout of one statement or a bug."""
    seen = 0
    while exc is not None and seen < 8:
        seen += 1
        if isinstance(exc, DatabaseUnavailable):
            return True
        if isinstance(exc, psycopg2.Error):
            code = exc.pgcode
            if isinstance(exc, psycopg2.InterfaceError):
                return True
            if isinstance(exc, psycopg2.OperationalError):
                return code is None or code.startswith("08") or code in _GONE
            return code is not None and (code.startswith("08") or code in _GONE)
        if isinstance(exc, peewee.InterfaceError):
            return True
        nxt = exc.__cause__ or exc.__context__
        orig = getattr(exc, "orig", None)
        if nxt is None and isinstance(orig, BaseException):
            nxt = orig
        if nxt is None and isinstance(exc, peewee.OperationalError):
            return True
        exc = nxt
    return False


# --------------------------------------------------------------------------------- reconnect


OFFLINE_AFTER = 30.0  # seconds of outage after which the header says "offline since HH:MM"


@dataclass
class Backoff:
    """0.5 s, 1 s, 2 s, 4 s, 8 s, 10 s, 10 s ... between attempts."""

    first: float = 0.5
    factor: float = 2.0
    cap: float = 10.0
    attempts: int = 0

    def next_delay(self) -> float:
        delay = min(self.first * self.factor**self.attempts, self.cap)
        self.attempts += 1
        return delay

    def reset(self) -> None:
        self.attempts = 0


@dataclass(frozen=True)
class LinkState:
    """The connection as the header shows it.

    status: "connecting" (never connected yet), "live", "reconnecting" (lost since `since`,
    next attempt at `retry_at`, monotonic) or "offline" (lost for OFFLINE_AFTER or more)."""

    status: str = "connecting"
    since: datetime | None = None  # wall clock of the loss
    since_mono: float = 0.0
    retry_at: float | None = None  # monotonic time of the next attempt
    detail: str = ""

    @property
    def live(self) -> bool | None:
        return {"connecting": None, "live": True}.get(self.status, False)

    def describe(self, now: float | None = None) -> str:
        """'● live', '↻ reconnecting… 3 s', '✕ offline since 10:42' (monochrome-safe)."""
        now = time.monotonic() if now is None else now
        if self.status == "live":
            return "● live"
        if self.status == "connecting":
            return "○ connecting"
        if self.status == "reconnecting" or self.since is None:
            wait = max(0, round((self.retry_at or now) - now))
            return f"↻ reconnecting… {wait} s" if self.retry_at else "↻ reconnecting…"
        return f"✕ offline since {self.since:%H:%M}"

    def lost(self, now: float, detail: str = "") -> LinkState:
        if self.status in ("reconnecting", "offline"):
            return self
        return LinkState("reconnecting", datetime.now(), now, None, detail)

    def waiting(self, retry_at: float, now: float) -> LinkState:
        status = "offline" if now - self.since_mono >= OFFLINE_AFTER else "reconnecting"
        return LinkState(status, self.since or datetime.now(), self.since_mono, retry_at,
                         self.detail)  # fmt: skip


LIVE = LinkState("live")


# --------------------------------------------------------------------------------- the poll


POLL_SECONDS = 10.0


def change_mark() -> int:
    """The newest audit entry's id (0 when none): one index probe through change_mark()
    (migration 0012, SECURITY DEFINER). Run it inside `database.connection_context()`."""
    from db.connection import database

    row = database.execute_sql("SELECT change_mark()").fetchone()
    return int(row[0] or 0)


@dataclass
class MarkWatch:
    """Tells a change no notice covered: `seen(mark, noticed_since)` is True when the mark
    moved although no notice arrived since the previous poll (lost while reconnecting, a
    dropped LISTEN, a notice queue overflow)."""

    mark: int | None = None

    def seen(self, mark: int, noticed: bool) -> bool:
        previous, self.mark = self.mark, mark
        return previous is not None and mark != previous and not noticed
