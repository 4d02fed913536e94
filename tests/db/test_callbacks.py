"""The callback queue: two agents taking at once each get different callbacks, each exactly
once; an unfinished claim returns to the queue; claims name their taker."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import psycopg2
import pytest

from db.bootstrap import ensure_login
from db.connection import configure, database
from db.services import callbacks
from tests.activity_data import seed


def _sql(installer_dsn: str, sql: str, params: tuple = ()) -> list[tuple]:
    conn = psycopg2.connect(installer_dsn, options="-c search_path=switchboard")
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


@pytest.fixture
def data(pg, db_name, installer_dsn):
    s = seed(installer_dsn)
    conn = psycopg2.connect(installer_dsn)
    with conn, conn.cursor() as cur:
        ensure_login(cur, "switchboard", "agent_a", role="agent", display_name="Agent A")
        ensure_login(cur, "switchboard", "agent_b", role="agent", display_name="Agent B")
    conn.close()
    _sql(installer_dsn, "UPDATE sharing_default SET access = 'public_read'")
    return s


def _connect(pg, db_name, who):
    conn = psycopg2.connect(pg.dsn(db_name, user=who), options="-c search_path=switchboard")
    conn.autocommit = True
    return conn


def test_two_agents_at_once_each_callback_once(data, pg, db_name, installer_dsn):
    n = 40
    _sql(installer_dsn, "INSERT INTO callback (contact_id, due_at, requested_by) "
         "SELECT %s, now() - g * interval '1 minute', %s FROM generate_series(1, %s) g",
         (data.contact_id, data.rita_id, n))  # fmt: skip
    got: dict[str, list[int]] = {"agent_a": [], "agent_b": []}
    start = threading.Barrier(2)

    def agent(who: str) -> None:
        conn = _connect(pg, db_name, who)
        try:
            start.wait()
            while True:
                with conn.cursor() as cur:
                    cur.execute("BEGIN")
                    cur.execute(callbacks.TAKE_SQL, (callbacks.CLAIM_MINUTES,))
                    row = cur.fetchone()
                    cur.execute("COMMIT")
                if row is None:
                    return
                got[who].append(row[0])
        finally:
            conn.close()

    threads = [threading.Thread(target=agent, args=(w,)) for w in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    everything = got["agent_a"] + got["agent_b"]
    assert len(everything) == n and len(set(everything)) == n  # each handed out exactly once
    assert got["agent_a"] and got["agent_b"]  # both worked the queue
    claimed = dict(_sql(installer_dsn, "SELECT c.id, u.username FROM callback c "
                        "JOIN app_user u ON u.id = c.claimed_by"))  # fmt: skip
    assert all(claimed[i] == "agent_a" for i in got["agent_a"])
    assert all(claimed[i] == "agent_b" for i in got["agent_b"])


def test_take_finish_release_and_expiry(data, pg, db_name, installer_dsn):
    configure(pg.dsn(db_name, user="agent_a"), "switchboard")
    with database.connection_context():
        assert callbacks.take_next() is None
        first = callbacks.book(datetime.now().astimezone() - timedelta(minutes=5),
                               contact_id=data.contact_id, note="call about invoice")
        later = callbacks.book(datetime.now().astimezone() + timedelta(hours=2),
                               contact_id=data.contact_id)
        assert callbacks.due_count() == 1
        taken = callbacks.take_next()
        assert taken is not None and taken.id == first and taken.contact_name == "Anna Lind"
        assert callbacks.take_next() is None  # the later one is not due; the first is taken
        callbacks.release(first)  # wrap-up without a call: back in the queue at once
        assert callbacks.take_next().id == first
    # an unfinished claim older than CLAIM_MINUTES is free again, for anyone
    _sql(installer_dsn, "UPDATE callback SET claimed_at = now() - interval '16 minutes' "
         "WHERE id = %s", (first,))  # fmt: skip
    database.close()
    configure(pg.dsn(db_name, user="agent_b"), "switchboard")
    with database.connection_context():
        again = callbacks.take_next()
        assert again is not None and again.id == first
        callbacks.finish(first)
        assert callbacks.take_next() is None
    assert _sql(installer_dsn, "SELECT done_at IS NOT NULL, claimed_by = (SELECT id FROM "
                "app_user WHERE username = 'agent_b') FROM callback WHERE id = %s",
                (first,)) == [(True, True)]  # fmt: skip
    assert _sql(installer_dsn, "SELECT done_at FROM callback WHERE id = %s", (later,)) == [(None,)]


def test_nobody_claims_for_someone_else(data, pg, db_name, installer_dsn):
    cb = _sql(installer_dsn, "INSERT INTO callback (contact_id, due_at, requested_by) "
              "VALUES (%s, now(), %s) RETURNING id", (data.contact_id, data.rita_id))[0][0]
    other = _sql(installer_dsn, "SELECT id FROM app_user WHERE username = 'agent_b'")[0][0]
    conn = _connect(pg, db_name, "agent_a")
    with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cur.execute("UPDATE callback SET claimed_by = %s WHERE id = %s", (other, cb))
    assert _sql(installer_dsn, "SELECT claimed_by FROM callback WHERE id = %s", (cb,)) == [(None,)]
    # a callback assigned to someone else is not in agent_a's queue
    _sql(installer_dsn, "UPDATE callback SET assignee_id = %s WHERE id = %s", (other, cb))
    with conn.cursor() as cur:
        cur.execute(callbacks.TAKE_SQL, (callbacks.CLAIM_MINUTES,))
        assert cur.fetchone() is None
    conn.close()
