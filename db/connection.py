"""The database object, connecting, session settings and the errors a person can act on.

peewee connections are per thread: every thread worker wraps its work in
`with database.connection_context():`, and writes use `database.atomic()`. The pool keeps a
few open connections so a worker does not pay a new login each time.
"""

from __future__ import annotations

import getpass
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

import psycopg2
import psycopg2.extensions
from playhouse.pool import PooledPostgresqlDatabase

from db.errors import AuthenticationFailed, DatabaseUnavailable, SchemaError

STATEMENT_TIMEOUT_MS = 15_000
# A statement that would wait longer than this for a lock fails (55P03) instead: a save then
# says who holds the record (db/services/editing.py), rather than hanging until the statement
# timeout. Reads wait only for ACCESS EXCLUSIVE, which no login can take (docs/security.md).
LOCK_TIMEOUT_MS = 2_000
CONNECT_TIMEOUT_S = 5



class TrackedDatabase(PooledPostgresqlDatabase):
    """The pool, plus which task holds which connection, so that a task the person left
    (a screen closed, the cursor moved on) can have its running statement cancelled.

    `task_of` (set by the app) names the task running in the current thread (a Textual worker)
    or None; db/ never imports textual. `cancel_task(task)` sends PostgreSQL a cancel request
    for that task's statement, if it is still in one."""

    task_of: Callable[[], object | None] | None = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._holders: dict[object, psycopg2.extensions.connection] = {}
        self._holders_lock = threading.Lock()

    def _task(self) -> object | None:
        finder = self.task_of
        return finder() if finder is not None else None

    def connect(self, reuse_if_open: bool = False) -> bool:
        opened = super().connect(reuse_if_open)
        task = self._task()
        if task is not None:
            with self._holders_lock:
                self._holders[task] = self._state.conn
        return opened

    def close(self) -> bool:
        task = self._task()
        if task is not None:
            with self._holders_lock:
                self._holders.pop(task, None)
        return super().close()

    def tasks(self) -> list[object]:
        """The tasks holding a connection right now."""
        with self._holders_lock:
            return list(self._holders)

    def cancel_task(self, task: object) -> bool:
        """Cancel the statement `task` is running (True when a cancel request was sent). Held
        under the lock that `close()` takes, so it never reaches a connection already handed
        back to the pool."""
        with self._holders_lock:
            conn = self._holders.get(task)
            if conn is None or conn.closed:
                return False
            if conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_ACTIVE:
                return False  # between statements: nothing to cancel
            try:
                conn.cancel()
            except psycopg2.Error:
                return False
            return True


database = TrackedDatabase(None, max_connections=8, stale_timeout=300, timeout=10)


@dataclass(frozen=True)
class Settings:
    """What the current process is connected to (set once by `configure`)."""

    dsn: str
    schema: str


_settings: Settings | None = None


def session_options(schema: str, existing: str | None = None) -> str:
    """libpq `options` that every connection of ours carries."""
    # jit=off: RLS policies inflate cost estimates, and PostgreSQL then JIT-compiles even a
    # 50-row page (measured: 5 s of a 5.1 s timeline query at 1M contacts). Our queries are
    # short keyset pages; JIT never pays for itself here.
    # plan_cache_mode: our prepared statements (db/prepared.py) are keyset pages through
    # indexes; their generic plan is the plan, so it is used from the first run on every pooled
    # connection instead of after five custom plans (each costing the full planning).
    opts = (
        f"-c search_path={schema},public -c statement_timeout={STATEMENT_TIMEOUT_MS} -c jit=off"
        f" -c lock_timeout={LOCK_TIMEOUT_MS} -c plan_cache_mode=force_generic_plan"
    )
    return f"{existing} {opts}" if existing else opts


def connect_kwargs(dsn: str, schema: str) -> dict:
    """psycopg2.connect keyword arguments for `dsn` with our session settings added."""
    params = psycopg2.extensions.parse_dsn(dsn)
    params["options"] = session_options(schema, params.get("options"))
    params.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    params.setdefault("application_name", "switchboard")
    return params


def raw_connect(dsn: str, schema: str) -> psycopg2.extensions.connection:
    """A plain psycopg2 connection with our session settings (CLI, tests, benchmarks)."""
    try:
        return psycopg2.connect(**connect_kwargs(dsn, schema))
    except psycopg2.OperationalError as exc:
        raise explain_connect_error(exc, dsn) from exc


def explain_connect_error(exc: psycopg2.OperationalError, dsn: str) -> Exception:
    """Turn libpq's text into one line that says what happened and what to do."""
    text = str(exc).strip()
    last = text.splitlines()[-1] if text else "unknown error"
    lowered = text.lower()
    if "password authentication failed" in lowered:
        return AuthenticationFailed("wrong user name or password")
    if "no password supplied" in lowered:
        return AuthenticationFailed("the server asks for a password: give one with PGPASSWORD")
    if "not permitted to log in" in lowered:
        return AuthenticationFailed("this account is disabled: ask an administrator")
    if re.search(r'database ".*" does not exist', lowered):
        return DatabaseUnavailable(f"{last.removeprefix('FATAL:').strip()}: check the DSN")
    if re.search(r'role ".*" does not exist', lowered):
        return AuthenticationFailed(f"{last.removeprefix('FATAL:').strip()}: check the user name")
    return DatabaseUnavailable(f"cannot reach the database ({_describe(dsn)}): {last}")


def _describe(dsn: str) -> str:
    try:
        params = psycopg2.extensions.parse_dsn(dsn)
    except psycopg2.ProgrammingError:
        return "invalid DSN"
    host = params.get("host", "local socket")
    port = params.get("port", "5432")
    return f"{host}:{port}/{params.get('dbname', params.get('user', getpass.getuser()))}"


def configure(dsn: str, schema: str) -> Settings:
    """Point the process-wide peewee database at `dsn` (schema `schema`) and check it.

    Raises AuthenticationFailed, DatabaseUnavailable or SchemaError with a one-line message.
    """
    global _settings
    from db import migrate
    from db.models import bind_schema

    conn = raw_connect(dsn, schema)
    try:
        with conn.cursor() as cur:
            version = migrate.current_version(cur, schema)
    except psycopg2.Error as exc:
        raise SchemaError(f"cannot read the schema version: {exc.pgerror or exc}") from exc
    finally:
        conn.close()
    migrate.check_compatible(version)
    if not database.deferred:
        # Pooled connections belong to the previous login: never hand them to the next one.
        database.close_all()
    params = connect_kwargs(dsn, schema)
    dbname = params.pop("dbname", None)
    database.init(dbname, **params)
    bind_schema(schema)
    _settings = Settings(dsn, schema)
    return _settings


def settings() -> Settings:
    if _settings is None:
        raise RuntimeError("db.connection.configure() has not been called")
    return _settings
