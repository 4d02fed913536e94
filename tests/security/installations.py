"""Fresh installations on the session's server, for the tests of issue 10 parts 1-3 and 7.

Roles outlive the databases the tests drop, so every name here carries a per-test tag.
"""

from __future__ import annotations

import itertools
import os
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg2
from psycopg2 import errors as pgerr
from psycopg2 import sql

from db import migrate
from db.bootstrap import ensure_login

_n = itertools.count()


def tag() -> str:
    # "i": never the same as the suffixes of tests/security/conftest.py or tests/db/test_users.py
    return f"i{os.getpid()}_{next(_n)}"


@dataclass
class Installation:
    pg: object
    db: str
    schema: str
    prefix: str
    admin: str
    people: dict[str, int] = field(default_factory=dict)

    def connect(self, user: str, **kw):
        conn = psycopg2.connect(self.pg.dsn(self.db, user=user),
                                options=f"-c search_path={self.schema}", **kw)  # fmt: skip
        conn.autocommit = True
        return conn

    def installer(self, query: str, params: tuple = ()) -> list[tuple]:
        conn = psycopg2.connect(self.pg.dsn(self.db), options=f"-c search_path={self.schema}")
        try:
            with conn, conn.cursor() as cur:
                cur.execute(query, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def api(self, user: str, function: str, *args):
        """Call the admin API as `user`; returns the value."""
        conn = self.connect(user)
        try:
            with conn.cursor() as cur:
                marks = ", ".join(["%s"] * len(args))
                cur.execute(
                    sql.SQL("SELECT {}.{}(" + marks + ")").format(
                        sql.Identifier(f"{self.schema}_admin_api"), sql.Identifier(function)
                    ),
                    args,
                )
                return cur.fetchone()[0]
        finally:
            conn.close()

    def add(self, short: str, role: str) -> str:
        """A person created by this installation's admin through the admin API."""
        login = f"{short}_{tag()}"
        self.people[login] = self.api(self.admin, "create_user", login, short.title(), role,
                                      None, None, None)  # fmt: skip
        return login


def install(pg, db: str | None = None, schema: str = "switchboard", prefix: str | None = None,
            new_db: bool = True) -> Installation:  # fmt: skip
    """`db init`: a migrated schema with its own roles and one admin login."""
    t = tag()
    db = db or f"inst_{t}"
    if new_db:
        pg.drop(db)
        pg.execute(f'CREATE DATABASE "{db}"')
    prefix = prefix or f"org_{t}"
    migrate.migrate(pg.dsn(db), schema, role_prefix=prefix)
    admin = f"boss_{t}"
    conn = psycopg2.connect(pg.dsn(db))
    try:
        with conn, conn.cursor() as cur:
            ensure_login(cur, schema, admin, role="admin", display_name="Boss")
    finally:
        conn.close()
    return Installation(pg, db, schema, prefix, admin)


@contextmanager
def refused(sqlstate: str, message: str = ""):
    """The block must fail with exactly this SQLSTATE (and message part)."""
    try:
        yield
    except psycopg2.Error as exc:
        assert exc.pgcode == sqlstate, (exc.pgcode, str(exc))
        assert message in str(exc), str(exc)
    else:
        raise AssertionError(f"not refused (wanted {sqlstate} {message!r})")


def cannot_connect(inst: Installation, user: str) -> str:
    """The login is refused CONNECT on the installation's database; returns the message."""
    try:
        inst.connect(user).close()
    except psycopg2.OperationalError as exc:
        text = str(exc)
        assert "permission denied for database" in text, text
        return text
    raise AssertionError(f"{user} could connect to {inst.db}")


__all__ = ["Installation", "cannot_connect", "install", "pgerr", "refused", "tag"]
