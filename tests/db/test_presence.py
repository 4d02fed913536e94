"""Presence in the database (0013, db/presence.py): who else has a record open, visible only
to those who may read the record, tied to the announcing backend, never forged, gone when the
backend is."""

from __future__ import annotations

import json
import select
import time

import psycopg2
import psycopg2.errors
import pytest

from db.presence import PresenceSession, Present
from tests.security.conftest import SCHEMA, World, set_all_defaults, world  # noqa: F401

ROLES = ["aga", "rita", "mona", "admin"]


def session(w: World, who: str) -> PresenceSession:
    return PresenceSession(w.pg.dsn(w.db, user=w.users[who]), SCHEMA)


def rows(w: World) -> list[tuple]:
    """Every presence row, as the installer: (login, table, id, editing, pid)."""
    return w.installer(
        "SELECT u.username, p.table_name, p.row_id, p.editing, p.pid FROM presence p "
        "JOIN app_user u ON u.id = p.app_user_id ORDER BY 1, 2, 3"
    )


def names(present: list[Present]) -> list[tuple[str, bool]]:
    return [(p.name, p.editing) for p in present]


@pytest.fixture
def private(request) -> World:
    """tests/security's small organisation, every sharing default private."""
    w = request.getfixturevalue("world")
    set_all_defaults(w, "private")
    return w


def test_two_people_on_one_contact_each_see_the_other_not_themselves(private: World):
    w = private
    mona, rita = session(w, "mona"), session(w, "rita")  # mona manages rita's team
    con = w.ids["con_rita"]
    try:
        assert mona.announce("contact", con)
        assert names(rita.others("contact", con)) == [("Mona", False)]
        assert mona.others("contact", con) == []  # not herself
        assert rita.announce("contact", con)
        assert names(mona.others("contact", con)) == [("Rita", False)]
        assert names(rita.others("contact", con)) == [("Mona", False)]
        # rita opens the form: editing; the form closes: back to merely open
        rita.announce("contact", con, editing=True)
        assert names(mona.others("contact", con)) == [("Rita", True)]
        rita.leave("contact", con, editing=True)
        assert names(mona.others("contact", con)) == [("Rita", False)]
        assert [r[:4] for r in rows(w)] == [
            (w.users["mona"], "contact", con, False),
            (w.users["rita"], "contact", con, False),
        ]
        rita.leave("contact", con)
        assert mona.others("contact", con) == []
        assert [r[0] for r in rows(w)] == [w.users["mona"]]
    finally:
        mona.close()
        rita.close()
    assert rows(w) == []  # closing clears at once, without waiting for a sweep


def test_a_person_who_may_not_read_the_record_sees_nobody_and_cannot_announce(private: World):
    w = private
    mona, sam = session(w, "mona"), session(w, "sam")
    con = w.ids["con_rita"]  # North's; sam is in South, sharing private
    try:
        assert mona.announce("contact", con)
        # the same answer as for a record nobody has open, and as for one that does not exist
        assert sam.others("contact", con) == []
        assert sam.others("contact", 10_000_000) == []
        assert names(mona.others("contact", con)) == []
        assert sam.announce("contact", con) is False
        assert sam.announce("contact", 10_000_000) is False
        assert [r[0] for r in rows(w)] == [w.users["mona"]]  # nothing stored for sam
        # raw SQL as sam: the rows are not there for him
        with w.connect("sam").cursor() as cur:
            cur.execute("SELECT count(*) FROM presence")
            assert cur.fetchone()[0] == 0
            cur.execute("SELECT count(*) FROM presence_of('contact', %s)", (con,))
            assert cur.fetchone()[0] == 0
    finally:
        mona.close()
        sam.close()


def test_an_agent_sees_no_presence_on_deals_which_agents_cannot_read(private: World):
    w = private
    set_all_defaults(w, "public_read")  # agents read every account and contact; never a deal
    mona, aga = session(w, "mona"), session(w, "aga")
    try:
        assert mona.announce("opportunity", w.ids["opp_rita"])
        assert aga.others("opportunity", w.ids["opp_rita"]) == []
        assert aga.announce("opportunity", w.ids["opp_rita"]) is False
        # but the contact both may read: each sees the other
        assert mona.announce("contact", w.ids["con_rita"])
        assert aga.announce("contact", w.ids["con_rita"])
        assert names(aga.others("contact", w.ids["con_rita"])) == [("Mona", False)]
    finally:
        mona.close()
        aga.close()


def test_a_killed_backend_disappears_at_the_next_sweep(private: World):
    w = private
    mona, rita = session(w, "mona"), session(w, "rita")
    con = w.ids["con_rita"]
    try:
        rita.announce("contact", con)
        mona.announce("contact", con)
        pid = rita.backend_pid
        assert names(mona.others("contact", con)) == [("Rita", False)]
        w.installer("SELECT pg_terminate_backend(%s)", (pid,))
        wait_until(lambda: not w.installer("SELECT 1 FROM pg_stat_activity WHERE pid = %s",
                                           (pid,)))  # fmt: skip
        # presence_of already leaves it out; the row goes with the sweep (which tells everyone)
        assert mona.others("contact", con) == []
        assert len(rows(w)) == 2
        assert mona.sweep() == 1
        assert [r[0] for r in rows(w)] == [w.users["mona"]]
        # rita's app notices on its next call: it reconnects and announces again
        assert names(rita.others("contact", con)) == [("Mona", False)]
        assert rita.backend_pid != pid
        assert sorted(r[0] for r in rows(w)) == sorted([w.users["mona"], w.users["rita"]])
        assert names(mona.others("contact", con)) == [("Rita", False)]
    finally:
        mona.close()
        rita.close()


def test_reconnect_announces_again_on_a_new_backend(private: World):
    w = private
    rita = session(w, "rita")
    con, acc = w.ids["con_rita"], w.ids["acc_rita"]
    try:
        rita.announce("contact", con, editing=True)
        rita.announce("account", acc)
        old = rita.backend_pid
        rita.reconnect()
        assert rita.backend_pid != old
        assert rita.held() == {("contact", con): True, ("account", acc): False}
        assert sorted((r[1], r[3], r[4]) for r in rows(w)) == sorted(
            [
                ("account", False, old),
                ("contact", True, old),
                ("account", False, rita.backend_pid),
                ("contact", True, rita.backend_pid),
            ]
        )
        assert rita.sweep() == 2  # the old backend is gone
        assert {r[4] for r in rows(w)} == {rita.backend_pid}
    finally:
        rita.close()
    assert rows(w) == []


def test_over_tcp_the_presence_connection_asks_for_short_keepalives(private: World):
    """The presence connection asks the server for short TCP keepalives, so the backend of an
    app whose network vanished ends after ~4 s instead of the OS default (about two hours) and
    the sweep then removes its rows. (Checked: the settings. Not simulated: a lost network.)"""
    w = private
    if w.pg.server is None:
        pytest.skip("password logins need the embedded test server")
    w.installer(f"ALTER ROLE \"{w.users['rita']}\" PASSWORD 'presence-pw'")
    rita = PresenceSession(w.pg.tcp_dsn(w.db, w.users["rita"], "presence-pw"), SCHEMA)
    try:
        rita.announce("contact", w.ids["con_rita"])
        settings = rita._run(lambda cur: (cur.execute(
            "SELECT current_setting('tcp_keepalives_idle'), current_setting("
            "'tcp_keepalives_interval'), current_setting('tcp_keepalives_count'), "
            "current_setting('tcp_user_timeout'), inet_client_addr() IS NOT NULL"),
            cur.fetchone())[1])  # fmt: skip
        assert settings == ("2", "1", "2", "4000", True)
    finally:
        rita.close()


def test_a_row_of_another_login_on_a_reused_pid_is_swept(private: World):
    """The sweep matches pid AND login: a pid reused by someone else's backend does not keep a
    dead person's presence alive."""
    w = private
    mona = session(w, "mona")
    try:
        mona.announce("contact", w.ids["con_rita"])
        with w.connect("rita").cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            rita_pid = cur.fetchone()[0]
            # as the installer (owner_all does not apply; superuser bypasses RLS)
            w.installer("UPDATE presence SET pid = %s", (rita_pid,))
            cur.execute("SELECT presence_sweep()")
            assert cur.fetchone()[0] == 1
        assert rows(w) == []
    finally:
        mona.close()


def test_the_person_and_backend_cannot_be_forged(private: World):
    w = private
    rita = w.connect("rita")
    with rita.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
        attacks = [
            ("INSERT INTO presence (app_user_id, table_name, row_id) VALUES (%s, 'contact', %s)",
             (w.ids["mona"], w.ids["con_rita"])),
            ("INSERT INTO presence (pid, table_name, row_id) VALUES (%s, 'contact', %s)",
             (pid + 1, w.ids["con_rita"])),
            ("INSERT INTO presence (table_name, row_id, since) VALUES ('contact', %s, now() "
             "+ interval '1 year')", (w.ids["con_rita"],)),
        ]  # fmt: skip
        for sql, params in attacks:
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(sql, params)
        # a record rita may not read: the policy refuses the row
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("INSERT INTO presence (table_name, row_id) VALUES ('contact', %s)",
                        (w.ids["con_sam"],))  # fmt: skip
        # the columns she may give: the database fills in who and which backend
        cur.execute("INSERT INTO presence (table_name, row_id) VALUES ('contact', %s)",
                    (w.ids["con_rita"],))  # fmt: skip
    assert [(r[0], r[4]) for r in rows(w)] == [(w.users["rita"], pid)]


@pytest.mark.parametrize("who", ROLES)
def test_raw_sql_on_other_peoples_presence_is_refused(private: World, who: str):
    w = private
    set_all_defaults(w, "public_read_write")
    mona = session(w, "mona" if who != "mona" else "rita")
    try:
        assert mona.announce("contact", w.ids["con_rita"])
        before = rows(w)
        conn = w.connect(who, autocommit=False)
        refused = [
            "DELETE FROM presence",
            "TRUNCATE presence",
            "UPDATE presence SET editing = true",
            "UPDATE presence SET app_user_id = (SELECT current_app_user_id())",
            "UPDATE presence SET pid = pg_backend_pid()",
            "LOCK TABLE presence IN EXCLUSIVE MODE",
            "ALTER TABLE presence DISABLE ROW LEVEL SECURITY",
            "DROP POLICY read ON presence",
        ]
        for sql in refused:
            with conn.cursor() as cur:
                try:
                    cur.execute(sql)
                except psycopg2.Error as exc:
                    assert isinstance(
                        exc,
                        (psycopg2.errors.InsufficientPrivilege, psycopg2.errors.WrongObjectType),
                    ), sql
                else:
                    # UPDATE of editing is granted, for one's own rows only
                    assert sql == "UPDATE presence SET editing = true", sql
                    assert cur.rowcount == 0
                finally:
                    conn.rollback()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT presence_clear('contact', %s)", (w.ids["con_rita"],))
            cur.execute("SELECT presence_clear_all()")
            cur.execute("SELECT presence_sweep()")  # mona's backend is alive: nothing to sweep
            assert cur.fetchone()[0] == 0
        assert rows(w) == before
    finally:
        mona.close()


def test_the_functions_are_for_the_installations_people_only(private: World):
    found = private.installer(
        "SELECT p.proname, p.prosecdef, p.proleakproof, p.proconfig, (SELECT array_agg(DISTINCT "
        "a.grantee::regrole::text ORDER BY a.grantee::regrole::text) FROM aclexplode(p.proacl) a "
        "WHERE a.privilege_type = 'EXECUTE') FROM pg_proc p WHERE p.pronamespace = "
        "%s::regnamespace AND p.proname LIKE 'presence%%' ORDER BY 1", (SCHEMA,))  # fmt: skip
    assert [f[0] for f in found] == ["presence_clear", "presence_clear_all", "presence_notice",
                                     "presence_of", "presence_set", "presence_sweep"]  # fmt: skip
    definers = {f[0] for f in found if f[1]}
    assert definers == {"presence_clear", "presence_clear_all", "presence_sweep"}
    for name, _definer, leakproof, config, grantees in found:
        assert not leakproof
        assert "search_path=pg_catalog, pg_temp" in config
        if name != "presence_notice":
            assert grantees == [f"{SCHEMA}_owner", f"{SCHEMA}_user"], name
        else:
            assert grantees == [f"{SCHEMA}_owner"]


def test_notices_say_which_record_and_never_who(private: World):
    w = private
    listener = w.connect("sam")  # anyone may listen: sam cannot even read the record
    with listener.cursor() as cur:
        cur.execute(f"LISTEN {SCHEMA}")
    rita = session(w, "rita")
    con = w.ids["con_rita"]
    try:
        rita.announce("contact", con)
        rita.announce("contact", con)  # a second hold changes nothing: no notice
        rita.announce("contact", con, editing=True)
        rita.leave("contact", con, editing=True)
        rita.leave("contact", con)
        rita.leave("contact", con)
        got = drain(listener, 4)
    finally:
        rita.close()
    assert [json.loads(p) for p in got] == [
        {"t": "presence", "op": op, "id": con, "a": None} for op in ("I", "U", "U", "D")
    ]
    text = " ".join(got)
    for secret in ("Rita", w.users["rita"], str(w.ids["rita"]), str(rita.backend_pid or "-")):
        assert secret not in text.replace(f'"id": {con}', "")


def drain(conn, n: int, timeout: float = 5.0) -> list[str]:
    out: list[str] = []
    end = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < end:
        if select.select([conn], [], [], 0.1)[0]:
            conn.poll()
            while conn.notifies:
                note = conn.notifies.pop(0)
                if '"presence"' in note.payload:
                    out.append(note.payload)
    # nothing more arrives
    if select.select([conn], [], [], 0.2)[0]:
        conn.poll()
        out += [x.payload for x in conn.notifies if '"presence"' in x.payload]
    return out


def wait_until(condition, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(0.02)
