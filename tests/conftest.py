"""Test fixtures: one throwaway PostgreSQL per test session, started by the project's launcher.

Set SWITCHBOARD_TEST_DSN to a superuser DSN to use an existing server instead (the suite then
creates and drops its own databases and roles there). Each test that touches data gets its
own database cloned from a migrated template, so tests never see each other's rows.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg2
import pytest
from psycopg2.extensions import make_dsn, parse_dsn

from db import migrate
from db.bootstrap import ensure_login
from db.embedded import EmbeddedServer, free_port

SCHEMA = "switchboard"
TEMPLATE = "sb_template"
DEMO_TEMPLATE = "sb_demo_template"
DEMO_SCALE = 0.005  # 500 accounts, 5,000 contacts, 6 users: loads in a few seconds
DEMO_TODAY = date(2025, 3, 14)  # the demo's "today": fixed so screens and snapshots are stable
_counter = itertools.count()


@dataclass
class TestServer:
    """A superuser DSN maker for the session's server."""

    base_dsn: str
    server: EmbeddedServer | None

    def dsn(self, dbname: str = "postgres", **overrides: str) -> str:
        params = parse_dsn(self.base_dsn)
        params["dbname"] = dbname
        params.update(overrides)
        return make_dsn(**params)

    def tcp_dsn(self, dbname: str, user: str, password: str) -> str:
        """A DSN that logs in over TCP with a password (scram-sha-256 in pg_hba)."""
        assert self.server is not None, "password logins need the embedded test server"
        return make_dsn(
            host="127.0.0.1", port=self.server.port, dbname=dbname, user=user, password=password
        )

    def execute(self, sql: str, dbname: str = "postgres") -> None:
        conn = psycopg2.connect(self.dsn(dbname))
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    def clone(self, template: str, name: str | None = None) -> str:
        name = name or f"t_{os.getpid()}_{next(_counter)}"
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def drop(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def _private_state_dir(tmp_path_factory, monkeypatch) -> None:
    """The app's state directory (the offline outbox, db/outbox.py) in a temporary place:
    tests never write into the real ~/.local/state, nor read what another test left there."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture(scope="session")
def pg() -> Iterator[TestServer]:
    """The session's PostgreSQL server (throwaway, or SWITCHBOARD_TEST_DSN)."""
    external = os.environ.get("SWITCHBOARD_TEST_DSN")
    if external:
        yield TestServer(external, None)
        return
    home = Path(tempfile.mkdtemp(prefix="sbt-"))
    server = EmbeddedServer(home, port=free_port(), tcp=True, fast_unsafe=True)
    server.start()
    try:
        yield TestServer(server.dsn(), server)
    finally:
        server.stop(mode="immediate")
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def template_db(pg: TestServer) -> str:
    """A migrated database with one admin login (`sb_admin`), used as a clone template."""
    pg.drop(TEMPLATE)
    pg.execute(f'CREATE DATABASE "{TEMPLATE}"')
    migrate.migrate(pg.dsn(TEMPLATE), SCHEMA)
    conn = psycopg2.connect(pg.dsn(TEMPLATE))
    try:
        with conn, conn.cursor() as cur:
            ensure_login(cur, SCHEMA, "sb_admin", role="admin", display_name="Ada Admin")
    finally:
        conn.close()
    return TEMPLATE


@pytest.fixture
def db_name(pg: TestServer, template_db: str) -> Iterator[str]:
    """A fresh migrated database for one test; dropped afterwards."""
    name = pg.clone(template_db)
    try:
        yield name
    finally:
        pg.drop(name)


@pytest.fixture
def installer_dsn(pg: TestServer, db_name: str) -> str:
    """Superuser DSN of the test's fresh database (what `db init` would use)."""
    return pg.dsn(db_name)


@pytest.fixture
def admin_dsn(pg: TestServer, db_name: str) -> str:
    """DSN of the admin login `sb_admin` on the test's fresh database (RLS applies)."""
    return pg.dsn(db_name, user="sb_admin")


@pytest.fixture(scope="session")
def demo_template(pg: TestServer, template_db: str) -> str:
    """The migrated template plus demo data (db/demo.py, DEMO_SCALE, default seed, DEMO_TODAY).

    Logins: `sb_admin` (admin) and the demo's users (`SELECT username, role FROM app_user`).
    """
    from db import demo

    pg.drop(DEMO_TEMPLATE)
    pg.clone(template_db, DEMO_TEMPLATE)
    demo.load(pg.dsn(DEMO_TEMPLATE), SCHEMA, scale=DEMO_SCALE, progress=lambda _: None,
              today=DEMO_TODAY)  # fmt: skip
    return DEMO_TEMPLATE


@pytest.fixture
def demo_db_name(pg: TestServer, demo_template: str) -> Iterator[str]:
    """A fresh copy of the demo database for one test; dropped afterwards."""
    name = pg.clone(demo_template)
    try:
        yield name
    finally:
        pg.drop(name)
