"""Issue 10 part 7 (the server side): every person's login carries statement, lock and
idle-in-transaction timeouts (group-role settings are not inherited), existing logins get them
by migration, and the migrator waits a bounded time for its lock and names who holds it."""

from __future__ import annotations

import time

import psycopg2
import pytest

from db import migrate
from db.errors import SchemaError
from tests.security.installations import Installation, tag

DEFAULTS = {"statement_timeout": "1min", "lock_timeout": "10s",
            "idle_in_transaction_session_timeout": "1min"}  # fmt: skip


@pytest.fixture
def here(pg, db_name) -> Installation:
    return Installation(pg, db_name, "switchboard", "switchboard", "sb_admin")


def _settings(inst: Installation, login: str) -> dict[str, str]:
    conn = inst.connect(login)
    try:
        with conn.cursor() as cur:
            out = {}
            for name in DEFAULTS:
                cur.execute(f"SHOW {name}")
                out[name] = cur.fetchone()[0]
            return out
    finally:
        conn.close()


def test_a_new_login_has_server_side_timeouts(here):
    rep = here.add("rita", "rep")
    assert _settings(here, rep) == DEFAULTS
    assert _settings(here, "sb_admin") == DEFAULTS
    # What a person can still do to themselves (docs/security.md): lift them in their session.
    conn = here.connect(rep)
    with conn.cursor() as cur:
        cur.execute("SET statement_timeout = 0")
        cur.execute("SHOW statement_timeout")
        assert cur.fetchone()[0] == "0"
    conn.close()


def test_existing_logins_get_the_timeouts_and_disabled_ones_lose_their_group(pg):
    """An installation made by the 0007 client (roles named after the schema), then migrated."""
    t = tag()
    db = schema = prefix = f"old_{t}"
    pg.drop(db)
    pg.execute(f'CREATE DATABASE "{db}"')
    conn = psycopg2.connect(pg.dsn(db))
    with conn, conn.cursor() as cur:
        for m in migrate.available():
            if m.version <= 7:
                cur.execute("RESET ROLE; RESET search_path")
                cur.execute(migrate.render(m.sql, schema))
                cur.execute(f"INSERT INTO {schema}.schema_migrations (version, name) "
                            "VALUES (%s, %s)", (m.version, m.name))  # fmt: skip
        cur.execute("RESET ROLE; RESET search_path")
        for who in ("kept", "gone"):
            cur.execute(f"SELECT {schema}_admin_api.create_user(%s, 'X', 'rep', NULL, NULL, "
                        "NULL)", (f"{who}_{t}",))  # fmt: skip
        cur.execute(f"SELECT {schema}_admin_api.disable_user(%s)", (f"gone_{t}",))
    conn.close()
    inst = Installation(pg, db, schema, prefix, "")
    assert inst.installer("SELECT rolconfig FROM pg_roles WHERE rolname = %s",
                          (f"kept_{t}",)) == [(None,)]  # fmt: skip
    assert [m.version for m in migrate.migrate(pg.dsn(db), schema)] == [
        m.version for m in migrate.available() if m.version > 7]  # fmt: skip
    assert _settings(inst, f"kept_{t}") == DEFAULTS
    assert inst.installer(
        "SELECT count(*) FROM pg_auth_members WHERE member = %s::regrole", (f"gone_{t}",)
    ) == [(0,)]
    assert inst.installer(f"SELECT {schema}.role_prefix()") == [(prefix,)]
    pg.drop(db)


def test_the_migrator_waits_a_bounded_time_and_names_the_lock_holder(here, installer_dsn):
    rep = here.add("rita", "rep")
    holder = here.connect(rep, application_name="rita-psql")
    with holder.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(hashtext('switchboard:switchboard')), "
                    "pg_backend_pid()")  # fmt: skip
        pid = cur.fetchone()[1]
    before = here.installer("SELECT count(*) FROM schema_migrations")
    started = time.monotonic()
    with pytest.raises(SchemaError) as caught:
        migrate.migrate(installer_dsn, "switchboard", lock_wait_s=0.3)
    assert time.monotonic() - started < 10
    text = str(caught.value)
    assert f"pid {pid}, user {rep}, application rita-psql" in text, text
    assert "holds the migration lock of schema switchboard" in text
    assert here.installer("SELECT count(*) FROM schema_migrations") == before
    holder.close()
    assert migrate.migrate(installer_dsn, "switchboard", lock_wait_s=5) == []
