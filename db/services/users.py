"""People: list them (keyset paged) and manage them through the admin API.

Every write goes through a SECURITY DEFINER function in `<schema>_admin_api` that only admins
may execute, so the database refuses it for anyone else whatever the client does. Passwords
are hashed to SCRAM verifiers here, on the client: no plaintext reaches the server or its logs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import peewee
import psycopg2
from psycopg2.extensions import encrypt_password

from db.connection import database, settings
from db.errors import ValidationError
from db.services._pgerrors import translate

ROLES = ("agent", "rep", "manager", "admin")
MIN_PASSWORD = 8
PAGE = 100
# How long a display name read for a timeline is trusted before it is read again.
NAME_TTL_S = 30.0


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    email: str | None
    role: str
    team_id: int | None
    team: str | None
    active: bool
    last_login_at: datetime | None


@dataclass(frozen=True)
class UserPage:
    users: list[User]
    next_after: str | None  # username to pass as `after` for the next page, None at the end


def _api() -> str:
    return f'"{settings().schema}_admin_api"'


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except (psycopg2.Error, peewee.DatabaseError) as exc:
        raise translate(exc) from exc


def list_users(after: str | None = None, limit: int = PAGE, query: str = "") -> UserPage:
    """People ordered by user name, `limit` at a time after user name `after`."""
    sql = (
        "SELECT u.id, u.username, u.display_name, u.email, u.role, u.team_id, t.name, u.active, "
        "u.last_login_at FROM app_user u LEFT JOIN team t ON t.id = u.team_id "
        "WHERE u.username > %s AND (%s = '' OR u.username ILIKE %s OR u.display_name ILIKE %s) "
        "ORDER BY u.username LIMIT %s"
    )
    pattern = f"%{query}%"
    rows = database.execute_sql(sql, (after or "", query, pattern, pattern, limit + 1)).fetchall()
    users = [User(*row) for row in rows[:limit]]
    return UserPage(users, users[-1].username if len(rows) > limit else None)


def get_user(username: str) -> User:
    from db.errors import NotFound

    rows = database.execute_sql(
        "SELECT u.id, u.username, u.display_name, u.email, u.role, u.team_id, t.name, u.active, "
        "u.last_login_at FROM app_user u LEFT JOIN team t ON t.id = u.team_id "
        "WHERE u.username = %s",
        (username,),
    ).fetchall()
    if not rows:
        raise NotFound(f"no such person: {username}")
    return User(*rows[0])


class _DisplayNames:
    """Display names by user id, kept for NAME_TTL_S seconds, for the database they came from.

    A timeline page names up to two people per activity; looking each up in its query cost a
    sub-select per row (~0.7 ms of a 4 ms page, docs/performance.md). There are few people and
    their names rarely change, so the process keeps them: a page asks the database only for ids
    it has not seen in the last NAME_TTL_S seconds, in one query. A rename made in this process
    (update_user) is seen at once; one made elsewhere within NAME_TTL_S."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._names: dict[int, str] = {}
        self._settings: object = None
        self._since = 0.0

    def forget(self) -> None:
        with self._lock:
            self._names = {}

    def of(self, ids: Iterable[int | None]) -> dict[int, str]:
        now = time.monotonic()
        current = settings()
        with self._lock:
            if current is not self._settings or now - self._since > NAME_TTL_S:
                self._names, self._settings, self._since = {}, current, now
            names = self._names
            missing = {i for i in ids if i is not None and i not in names}
        if missing:
            rows = database.execute_sql(
                "SELECT id, display_name FROM app_user WHERE id = ANY(%s)", (list(missing),)
            ).fetchall()
            with self._lock:
                names.update(rows)
        return names


_display_names = _DisplayNames()


def display_names(ids: Iterable[int | None]) -> dict[int, str]:
    """{id: display name} holding at least `ids` (None skipped) that exist; see _DisplayNames."""
    return _display_names.of(ids)


def check_password(password: str | None) -> str:
    if not password or len(password) < MIN_PASSWORD:
        raise ValidationError("password", f"use at least {MIN_PASSWORD} characters")
    return password


def verifier(username: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier of `password`, computed on this machine."""
    conn = database.connection()
    return encrypt_password(check_password(password), username, conn, "scram-sha-256")


def create_user(
    username: str,
    display_name: str,
    role: str = "rep",
    team_id: int | None = None,
    email: str | None = None,
    password: str | None = None,
) -> int:
    """Create the login role and the app_user row; returns the new person's id."""
    username = (username or "").strip()
    if role not in ROLES:
        raise ValidationError("role", f"must be one of {', '.join(ROLES)}")
    secret = verifier(username, password) if password is not None else None
    with _translated(), database.atomic():
        cursor = database.execute_sql(
            f"SELECT {_api()}.create_user(%s, %s, %s, %s, %s, %s)",
            (username, (display_name or "").strip(), role, team_id, email or None, secret),
        )
        return int(cursor.fetchone()[0])


def _call(function: str, *args: object) -> None:
    marks = ", ".join(["%s"] * len(args))
    with _translated(), database.atomic():
        database.execute_sql(f"SELECT {_api()}.{function}({marks})", args)


def update_user(username: str, display_name: str, email: str | None) -> None:
    _call("update_user", username, (display_name or "").strip(), email or None)
    _display_names.forget()


def disable_user(username: str) -> None:
    """NOLOGIN, no group role, inactive; then, after that commit, their sessions ended.

    A session that logged in while disable_user ran holds no rights once it commits (the group
    role went in the same transaction); end_sessions, run after the commit, closes it.
    """
    _call("disable_user", username)
    _call("end_sessions", username)


def enable_user(username: str) -> None:
    _call("enable_user", username)


def set_password(username: str, password: str) -> None:
    _call("set_password", username, verifier(username, password))


def set_role(username: str, role: str) -> None:
    if role not in ROLES:
        raise ValidationError("role", f"must be one of {', '.join(ROLES)}")
    _call("set_role", username, role)


def set_team(username: str, team_id: int | None) -> None:
    _call("set_team", username, team_id)


def team_id_by_name(name: str) -> int:
    rows = database.execute_sql(
        "SELECT id FROM team WHERE lower(name) = lower(%s) AND deleted_at IS NULL", (name,)
    ).fetchall()
    if not rows:
        raise ValidationError("team", f"no team called {name!r}")
    return int(rows[0][0])
