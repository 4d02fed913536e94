"""db/live.py without a terminal: parsing, coalescing, caps, the listening connection, the
poll's change mark, the reconnect policy (issue 11 parts 1, 3)."""

from __future__ import annotations

import json
import time

import psycopg2
import pytest

from db import live
from db.connection import configure, database
from db.errors import DatabaseUnavailable
from db.live import EVERYTHING, Backoff, Changes, Collector, LinkState, Listener, parse
from tests.security.conftest import SCHEMA


def payload(t="contact", op="U", id=7, a=3) -> str:  # noqa: A002 (the payload's own key)
    return json.dumps({"t": t, "op": op, "id": id, "a": a})


@pytest.mark.parametrize("bad", [
    "", "not json", "[1, 2]", "null", '"contact"', "{}", "x" * 300,
    payload(t="Contact"), payload(t="contact; drop"), payload(t=7), payload(op="X"),
    payload(id="7"), payload(id=-1), payload(id=2**64), payload(id=True), payload(id=1.5),
    payload(a="3"), payload(a=0), payload(t="no_such_table"), "[" * 10000,
])  # fmt: skip
def test_malformed_payloads_are_dropped(bad):
    assert parse(bad, frozenset({"contact", "account"})) is None


def test_a_good_payload_and_a_null_account():
    assert parse(payload(), None) == ("contact", 7, 3)
    assert parse(payload(a=None), frozenset({"contact"})) == ("contact", 7, None)


def test_touches_by_table_ids_and_accounts():
    c = Collector()
    c.add("contact", 7, 3)
    c.add("activity", 9, 4)
    ch = c.take()
    assert ch is not None and c.take() is None  # taking empties the batch
    assert ch.touches("contact", [7]) and not ch.touches("contact", [8])
    assert ch.touches("contact") and not ch.touches("opportunity")
    assert ch.touches("activity", accounts=[4]) and not ch.touches("activity", accounts=[3])
    assert not ch.touches("opportunity", accounts=[3, 4])  # a contact's notice is not a deal's
    assert ch.touches(("opportunity", "contact"), [7])
    assert ch.accounts == {3, 4}
    merged = ch.merged(Changes({"opportunity": frozenset({1})}, frozenset({5})))
    assert merged.touches("opportunity", [1]) and merged.touches("contact", [7])
    assert merged.touches("opportunity", accounts=[5])  # no per-table accounts given: any
    assert ch.merged(EVERYTHING).everything and EVERYTHING.touches("anything", [1])


def test_past_the_cap_it_stops_tracking_and_says_everything():
    c = Collector(max_ids=10)
    for i in range(1000):
        c.add("contact", i, i)
    ch = c.take()
    assert ch is not None and ch.everything and not ch.ids and c.count == 0


def test_backoff_and_the_header_words():
    b = Backoff()
    assert [b.next_delay() for _ in range(7)] == [0.5, 1, 2, 4, 8, 10, 10]
    b.reset()
    assert b.next_delay() == 0.5
    assert live.LIVE.describe() == "● live"
    lost = live.LIVE.lost(100.0)
    assert lost.waiting(103.0, 100.0).describe(now=100.0) == "↻ reconnecting… 3 s"
    offline = lost.waiting(200.0, 100.0 + live.OFFLINE_AFTER)
    assert offline.describe(now=150.0) == f"✕ offline since {lost.since:%H:%M}"
    assert LinkState().describe() == "○ connecting" and offline.live is False


@pytest.fixture
def listener(pg, db_name, world):
    lst = Listener(pg.dsn(db_name, user=world.users["rita"]), SCHEMA)
    lst.connect()
    yield lst
    lst.close()


def wait_for(lst: Listener, count: int, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while lst.received < count:
        assert time.monotonic() < end, f"only {lst.received} of {count} notices arrived"
        lst.drain()
        time.sleep(0.005)


def test_a_committed_change_arrives_with_its_account(listener, world):
    writer = world.connect("admin")
    writer.cursor().execute("UPDATE account SET city = 'Lund' WHERE id = %s",
                            (world.ids["acc_sam"],))  # fmt: skip
    wait_for(listener, 1)
    ch = listener.take()
    assert ch is not None and ch.touches("account", [world.ids["acc_sam"]])
    assert ch.accounts == {world.ids["acc_sam"]} and listener.dropped == 0


def notify_many(conn, valid_sql: str, every: int = 2) -> None:
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT pg_notify(%s, CASE WHEN i %% {every} = 0 THEN {valid_sql} "
            "ELSE 'garbage ' || i END) FROM generate_series(1, 1000) i", (SCHEMA,),
        )  # fmt: skip


def test_a_flood_about_one_row_is_one_id_and_the_garbage_is_counted(listener, world):
    """1,000 forged notices in one go, half garbage, the rest about one contact: one batch
    naming that one contact, 500 drops counted, nothing raised."""
    forger = world.connect("sam")  # autocommit: one transaction per NOTIFY, none merged
    with forger.cursor() as cur:
        for i in range(1000):
            cur.execute("SELECT pg_notify(%s, %s)",
                        (SCHEMA, payload(id=7, a=1) if i % 2 else f"garbage {i}"))
    wait_for(listener, 1000)
    assert listener.dropped == 500
    ch = listener.take()
    assert ch is not None and not ch.everything and dict(ch.ids) == {"contact": {7}}
    assert listener.take() is None


def test_a_flood_past_the_cap_is_everything(listener, world):
    notify_many(world.connect("sam"),
                "json_build_object('t', 'contact', 'op', 'U', 'id', i, 'a', 1)::text", every=1)
    wait_for(listener, 1000)
    ch = listener.take()
    assert ch is not None and ch.everything and not ch.ids  # one refresh, no id list


def test_drain_says_when_the_connection_is_gone(listener, pg, db_name):
    conn = psycopg2.connect(pg.dsn(db_name))
    conn.autocommit = True
    conn.cursor().execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'switchboard listen' AND datname = current_database()"
    )
    conn.close()
    with pytest.raises(DatabaseUnavailable):
        end = time.monotonic() + 5
        while time.monotonic() < end:
            listener.drain()
            time.sleep(0.01)


def test_change_mark_moves_with_every_change_and_any_person_may_read_it(pg, db_name, world):
    configure(pg.dsn(db_name, user=world.users["aga"]), SCHEMA)
    with database.connection_context():
        before = live.change_mark()
    world.connect("admin").cursor().execute("UPDATE team SET name = 'Norr' WHERE name = 'North'")
    with database.connection_context():
        after = live.change_mark()
    assert after > before > 0
    watch = live.MarkWatch(before)
    assert watch.seen(after, noticed=False)  # moved with no notice: refresh everything
    assert not watch.seen(after, noticed=False)


def test_connection_errors_are_told_from_refusals():
    from psycopg2 import errors

    assert live.is_connection_error(DatabaseUnavailable("x"))
    assert live.is_connection_error(psycopg2.OperationalError("server closed the connection"))
    assert live.is_connection_error(psycopg2.InterfaceError("connection already closed"))
    assert not live.is_connection_error(errors.InsufficientPrivilege("no"))
    assert not live.is_connection_error(ValueError("bug"))
