"""The offline outbox (db/outbox.py): a private, append-only, fsynced file, and a replay that
stores every write exactly once, whatever was acknowledged before the connection died."""

from __future__ import annotations

import os
import stat
import uuid
from datetime import date, datetime, timedelta

import psycopg2
import pytest

from db import outbox as ob
from db.connection import configure, database
from db.errors import DatabaseUnavailable
from db.services import activities as acts
from db.services import contact_edit
from tests.activity_data import seed

SCHEMA = "switchboard"


@pytest.fixture
def box(tmp_path):
    return ob.Outbox.for_login("rita", "crm", directory=tmp_path / "state" / "switchboard")


@pytest.fixture
def data(pg, db_name, installer_dsn):
    s = seed(installer_dsn)
    configure(pg.dsn(db_name, user="rita"), SCHEMA)
    with database.connection_context():
        yield s


def scalar(dsn: str, sql: str, params: tuple = ()) -> object:
    conn = psycopg2.connect(dsn, options=f"-c search_path={SCHEMA}")
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone()[0]
    finally:
        conn.close()


def followup(data, subject: str = "send the offer") -> acts.Activity:
    return acts.log("call", subject=subject, contact_id=data.contact_id,
                    due_at=datetime.now().astimezone() + timedelta(hours=1))  # fmt: skip


# -- the file ---------------------------------------------------------------------------------


def test_file_is_private_and_its_directory_too(box):
    box.add("log_activity", {"kind": "call", "body": "hello"})
    assert stat.S_IMODE(os.stat(box.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(box.path.parent).st_mode) == 0o700
    assert box.path.name == "outbox-rita@crm.jsonl"


def test_a_login_with_odd_characters_stays_in_the_directory(tmp_path):
    box = ob.Outbox.for_login("../../etc/x", "a/b", directory=tmp_path)
    assert box.path.parent == tmp_path


def test_entries_keep_order_types_and_tombstones(box):
    when = datetime(2026, 12, 2, 9, 30).astimezone()
    a = box.add("log_activity", {"kind": "call", "body": "first", "occurred_at": when})
    b = box.add("reschedule_followup", {"activity_id": 7, "version": 2, "due": date(2027, 1, 4)})
    c = box.add("log_activity", {"kind": "note", "body": "third"})
    box.done(b.uuid)
    entries = box.entries()
    assert [e.uuid for e in entries] == [a.uuid, c.uuid]
    assert entries[0].payload["occurred_at"] == when
    box.discard(a.uuid)
    box.fail(c.uuid, "kind: choose one of …")
    assert [(e.uuid, e.state, e.failed) for e in box.entries()] == [
        (c.uuid, "failed", "kind: choose one of …")
    ]
    assert box.waiting() == []
    text = box.path.read_text()
    assert text.count('"op":"append"') == 3  # never rewritten while something is left


def test_a_torn_last_line_is_ignored_and_the_next_append_starts_clean(box):
    first = box.add("log_activity", {"kind": "call", "body": "kept"})
    with open(box.path, "ab") as f:
        f.write(b'{"op":"append","uuid":"' + str(uuid.uuid4()).encode() + b'","kind":"log_a')
    assert [e.uuid for e in box.entries()] == [first.uuid]
    second = box.add("log_activity", {"kind": "call", "body": "after the crash"})
    assert [e.uuid for e in box.entries()] == [first.uuid, second.uuid]


def test_compacted_only_when_everything_is_finished(box):
    a = box.add("log_activity", {"kind": "call", "body": "a"})
    b = box.add("log_activity", {"kind": "call", "body": "b"})
    box.done(a.uuid)
    assert box.path.stat().st_size > 0
    box.done(b.uuid)
    assert box.path.stat().st_size == 0 and box.count() == 0
    assert stat.S_IMODE(os.stat(box.path).st_mode) == 0o600


# -- replay -----------------------------------------------------------------------------------


def test_replay_twice_stores_every_kind_once(data, box, installer_dsn):
    f1, f2 = followup(data, "one"), followup(data, "two")
    original = contact_edit.load(data.contact_id)
    form = {k: ("" if v is None else v) for k, v in original.items() if k in contact_edit.FIELDS}
    entries = [
        box.add("log_activity", {"kind": "call", "body": "offline call",
                                 "contact_id": data.contact_id, "outcome": "reached"}),
        box.add("complete_followup", {"activity_id": f1.id, "version": f1.version}),
        box.add("reschedule_followup", {"activity_id": f2.id, "version": f2.version,
                                        "due": date.today() + timedelta(days=3)}),
        box.add("edit_contact", {"contact_id": data.contact_id, "original": original,
                                 "form": form | {"city": "Göteborg"}, "phones": [],
                                 "emails": [], "fields": ["city"]}),
    ]  # fmt: skip
    sent = ob.replay(box)
    assert [e.uuid for e in sent.sent] == [e.uuid for e in entries] and sent.left == 0
    # The same entries again (an old copy of the file, a second app): nothing more is stored.
    for entry in entries:
        ob.apply(entry)
    assert scalar(installer_dsn, "SELECT count(*) FROM activity WHERE body = 'offline call'") == 1
    assert scalar(installer_dsn, "SELECT version FROM activity WHERE id = %s", (f1.id,)) == (
        f1.version + 1
    )
    assert scalar(installer_dsn, "SELECT version FROM activity WHERE id = %s", (f2.id,)) == (
        f2.version + 1
    )
    assert scalar(installer_dsn, "SELECT due_at::date FROM activity WHERE id = %s",
                  (f2.id,)) == date.today() + timedelta(days=3)  # fmt: skip
    assert scalar(installer_dsn, "SELECT city FROM contact WHERE id = %s",
                  (data.contact_id,)) == "Göteborg"  # fmt: skip
    assert scalar(installer_dsn, "SELECT version FROM contact WHERE id = %s",
                  (data.contact_id,)) == original["version"] + 1  # fmt: skip
    assert scalar(installer_dsn, "SELECT count(*) FROM applied_write") == 3


def test_a_lost_commit_acknowledgement_stores_once(data, box, installer_dsn):
    """The write committed, then the connection died before the client heard it: the entry
    is still waiting, and replaying it must not store it again (nor call it a conflict)."""
    f = followup(data)
    log = box.add(
        "log_activity", {"kind": "call", "body": "ack lost", "contact_id": data.contact_id}
    )
    done = box.add("complete_followup", {"activity_id": f.id, "version": f.version})
    ob.apply(log)
    ob.apply(done)  # committed; the outbox never heard
    result = ob.replay(box)
    assert len(result.sent) == 2 and not result.failed
    assert scalar(installer_dsn, "SELECT count(*) FROM activity WHERE body = 'ack lost'") == 1
    assert scalar(installer_dsn, "SELECT version FROM activity WHERE id = %s", (f.id,)) == (
        f.version + 1
    )


def test_replay_stops_at_an_unreachable_database_and_keeps_the_rest(box):
    a = box.add("log_activity", {"kind": "call", "body": "a"})
    b = box.add("log_activity", {"kind": "call", "body": "b"})
    seen = []

    def send(entry):
        seen.append(entry.uuid)
        raise DatabaseUnavailable("the connection to the database was lost")

    result = ob.replay(box, send)
    assert seen == [a.uuid] and result.stopped and not result.failed
    assert [e.uuid for e in box.waiting()] == [a.uuid, b.uuid]

    seen.clear()
    result = ob.replay(box, lambda e: seen.append(e.uuid))
    assert seen == [a.uuid, b.uuid] and box.count() == 0


def test_a_refused_write_is_kept_and_shown_and_the_rest_goes_on(data, box, installer_dsn):
    bad = box.add(
        "log_activity", {"kind": "fax", "body": "bad kind", "contact_id": data.contact_id}
    )
    good = box.add("log_activity", {"kind": "call", "body": "good", "contact_id": data.contact_id})
    result = ob.replay(box)
    assert [e.uuid for e in result.sent] == [good.uuid]
    [(entry, reason)] = result.failed
    assert entry.uuid == bad.uuid and reason.startswith("kind:")
    [kept] = box.entries()
    assert kept.uuid == bad.uuid and kept.state == "failed" and kept.failed.startswith("kind:")
    assert ob.replay(box).sent == []  # a failed entry is not sent again
    assert scalar(installer_dsn, "SELECT count(*) FROM activity WHERE body = 'bad kind'") == 0


def test_a_conflicting_contact_edit_comes_back_with_my_values(data, box, installer_dsn):
    original = contact_edit.load(data.contact_id)
    form = {k: ("" if v is None else v) for k, v in original.items() if k in contact_edit.FIELDS}
    entry = box.add("edit_contact", {"contact_id": data.contact_id, "original": original,
                                     "form": form | {"job_title": "CFO"}, "phones": [],
                                     "emails": [], "fields": ["job_title"]})  # fmt: skip
    conn = psycopg2.connect(installer_dsn, options=f"-c search_path={SCHEMA}")
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE contact SET job_title = 'CEO' WHERE id = %s", (data.contact_id,))
    conn.close()
    result = ob.replay(box)
    [(came, conflict)] = result.conflicts
    assert came.uuid == entry.uuid
    assert conflict.fields["job_title"].mine == "CFO"
    assert conflict.fields["job_title"].theirs == "CEO"
    assert box.entries()[0].state == "failed"
    assert scalar(installer_dsn, "SELECT count(*) FROM applied_write") == 0  # rolled back


def test_a_discarded_write_never_reaches_the_database(data, box, installer_dsn):
    entry = box.add(
        "log_activity", {"kind": "call", "body": "never", "contact_id": data.contact_id}
    )
    box.discard(entry.uuid)
    assert ob.replay(box).sent == []
    assert scalar(installer_dsn, "SELECT count(*) FROM activity WHERE body = 'never'") == 0


# -- applied_write under row-level security ---------------------------------------------------


def test_applied_writes_are_private_and_append_only(data, pg, db_name, installer_dsn):
    f = followup(data)
    acts.complete(f.id, f.version, client_uuid=str(uuid.uuid4()))
    rita_id = scalar(installer_dsn, "SELECT id FROM app_user WHERE username = 'rita'")
    sam = psycopg2.connect(pg.dsn(db_name, user="sam"), options=f"-c search_path={SCHEMA}")
    sam.autocommit = True
    rita = psycopg2.connect(pg.dsn(db_name, user="rita"), options=f"-c search_path={SCHEMA}")
    rita.autocommit = True
    try:
        with sam.cursor() as cur:
            cur.execute("SELECT count(*) FROM applied_write")
            assert cur.fetchone()[0] == 0
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("INSERT INTO applied_write (client_uuid, author_id, kind) "
                            "VALUES (gen_random_uuid(), %s, 'edit_contact')",
                            (rita_id,))  # fmt: skip
        with rita.cursor() as cur:
            cur.execute("SELECT count(*) FROM applied_write")
            assert cur.fetchone()[0] == 1
            for sql in ("UPDATE applied_write SET applied_at = now()", "DELETE FROM applied_write"):
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cur.execute(sql)
    finally:
        sam.close()
        rita.close()
    assert scalar(installer_dsn, "SELECT count(*) FROM applied_write") == 1


def test_what_counts_as_an_unreachable_database():
    import peewee
    import psycopg2.errors

    assert ob.unavailable(DatabaseUnavailable("down"))
    assert ob.unavailable(psycopg2.OperationalError("server closed the connection"))
    assert ob.unavailable(psycopg2.InterfaceError("connection already closed"))
    assert ob.unavailable(peewee.OperationalError("connection refused"))
    assert ob.unavailable(psycopg2.errors.AdminShutdown("terminating connection"))
    assert not ob.unavailable(psycopg2.errors.LockNotAvailable("lock timeout"))
    assert not ob.unavailable(psycopg2.errors.CheckViolation("bad value"))
    assert not ob.unavailable(ValueError("a bug"))
