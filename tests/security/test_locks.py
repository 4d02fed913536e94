"""Issue 10 part 7: one person cannot stall everyone.

No login can take a table lock stronger than its writes need (ROW EXCLUSIVE); a person's open
transaction holds only rows they may change, readers never wait for it, and the app's save
says who holds the record instead of waiting. The deletes people need still work, through
migration 0009's functions.
"""

from __future__ import annotations

import time

import psycopg2
import psycopg2.errors
import pytest

from db import migrate
from db.connection import LOCK_TIMEOUT_MS, configure, database
from db.errors import PermissionDenied, RecordLocked, SchemaError
from db.models import Contact
from db.services import contact_edit, sharing, trash
from db.services.editing import read_fields, update_fields
from db.services.rights import load_rights
from tests.security.conftest import World, set_all_defaults

LOGINS = ["aga", "rita", "mona", "admin"]
STRONG = ["SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE",
          "ACCESS EXCLUSIVE"]  # fmt: skip


def tables(w: World) -> list[str]:
    rows = w.installer("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
                       "c.relnamespace WHERE n.nspname = 'switchboard' AND c.relkind = 'r' "
                       "ORDER BY 1")  # fmt: skip
    return [r[0] for r in rows]


@pytest.mark.parametrize("who", LOGINS)
def test_no_login_locks_a_table_beyond_what_its_writes_take(world: World, who: str):
    conn = world.connect(who, autocommit=False)
    names = tables(world)
    assert {"contact_phone", "contact_email", "contact", "account"} <= set(names)
    for table in names:
        for mode in STRONG:
            with pytest.raises(psycopg2.errors.InsufficientPrivilege) as info:
                with conn.cursor() as cur:
                    cur.execute(f"LOCK TABLE {table} IN {mode} MODE NOWAIT")
            conn.rollback()
            assert info.value.diag.message_primary == f"permission denied for table {table}"
    # and the catalog agrees: no table-level privilege that would allow it, for any login
    login = world.users[who]
    held = world.installer(
        "SELECT c.relname, p FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, "
        "unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE']) p WHERE n.nspname = 'switchboard' "
        "AND c.relkind = 'r' AND has_table_privilege(%s, c.oid, p)",
        (login,),
    )
    assert held == []
    assert world.one("SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' "
                     "AND relation = 'switchboard.contact_phone'::regclass") == 0  # fmt: skip


def test_readers_do_not_wait_for_a_rep_who_keeps_a_transaction_open(world: World):
    rita = world.connect("rita", autocommit=False)
    with rita.cursor() as cur:  # everything she may lock, held in an open transaction
        for table in ("contact_phone", "contact_email"):  # the attack of the issue
            cur.execute("SAVEPOINT attempt")
            try:
                cur.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            except psycopg2.errors.InsufficientPrivilege:
                cur.execute("ROLLBACK TO SAVEPOINT attempt")
        cur.execute("SELECT id FROM contact_phone FOR UPDATE")
        cur.execute("SELECT id FROM contact FOR UPDATE")
        cur.execute("UPDATE contact SET notes = 'held' WHERE id = %s", (world.ids["con_rita"],))
    mona = world.connect("mona")
    with mona.cursor() as cur:
        cur.execute("SET statement_timeout = '1s'")
        cur.execute("SELECT count(*) FROM contact_phone")
        assert cur.fetchone()[0] > 0
        cur.execute("SELECT count(*) FROM contact_email")
        cur.execute("SELECT count(*) FROM contact WHERE notes IS DISTINCT FROM 'held'")
        assert cur.fetchone()[0] > 0
    rita.rollback()
    assert world.one("SELECT count(*) FROM contact WHERE notes = 'held'") == 0


def app_as(world: World, who: str) -> None:
    """Point the app's database (db.connection) at `who`'s login."""
    configure(world.pg.dsn(world.db, user=world.users[who]), "switchboard")


def test_a_save_on_a_record_someone_holds_names_them_instead_of_waiting(world: World):
    cid = world.ids["con_rita"]
    rita = world.connect("rita", autocommit=False)
    with rita.cursor() as cur:
        cur.execute("UPDATE contact SET notes = 'rita typing' WHERE id = %s", (cid,))
    app_as(world, "mona")
    try:
        with database.connection_context():
            original = read_fields(Contact, cid, ["notes"])
            started = time.monotonic()
            with pytest.raises(RecordLocked) as info:
                update_fields(Contact, cid, original, {"notes": "mona's note"})
            waited = time.monotonic() - started
        assert info.value.holder == "Rita"
        assert str(info.value) == (
            f"Rita is changing contact {cid} right now: save again when they are done"
        )
        assert waited < LOCK_TIMEOUT_MS / 1000 + 3
    finally:
        database.close_all()
    rita.commit()
    assert world.one("SELECT notes FROM contact WHERE id = %s", (cid,)) == "rita typing"


def test_the_same_person_in_another_window_is_told_so(world: World):
    cid = world.ids["con_rita"]
    other_window = world.connect("rita", autocommit=False)
    with other_window.cursor() as cur:
        cur.execute("SELECT 1 FROM contact WHERE id = %s FOR UPDATE", (cid,))
    app_as(world, "rita")
    try:
        with database.connection_context():
            original = read_fields(Contact, cid, ["notes"])
            with pytest.raises(RecordLocked) as info:
                update_fields(Contact, cid, original, {"notes": "second window"})
        assert info.value.yourself
        assert "another window" in str(info.value)
    finally:
        database.close_all()
    other_window.rollback()
    assert world.one("SELECT notes FROM contact WHERE id = %s", (cid,)) is None


@pytest.mark.parametrize("who", ["aga", "rita", "mona"])
def test_replacing_phones_still_works_without_delete_privileges(world: World, who: str):
    cid = world.ids["con_rita"]
    app_as(world, who)
    try:
        with database.connection_context():
            values = contact_edit.load(cid)
            form = {k: ("" if v is None else v) for k, v in values.items()
                    if k in contact_edit.FIELDS}  # fmt: skip
            contact_edit.update(cid, values, form, [("mobile", "+46 70 555 00 11")],
                                [("work", "anna@example.com")])  # fmt: skip
    finally:
        database.close_all()
    assert world.installer("SELECT e164 FROM contact_phone WHERE contact_id = %s", (cid,)) == [
        ("+46705550011",)
    ]
    assert world.installer("SELECT email FROM contact_email WHERE contact_id = %s", (cid,)) == [
        ("anna@example.com",)
    ]


def test_the_delete_functions_remove_only_what_the_caller_may_change(world: World):
    set_all_defaults(world, "private")
    rita = world.connect("rita")
    with rita.cursor() as cur:
        cur.execute("SELECT delete_contact_details(%s, 'contact_phone')", (world.ids["con_sam"],))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT delete_contact_details(%s, 'contact_phone')", (world.ids["con_rita"],))
        assert cur.fetchone()[0] == 1
    for sql in ("SELECT delete_rows('contact', 'id', ARRAY[%s]::bigint[])",
                "DELETE FROM contact_phone WHERE contact_id = %s"):  # fmt: skip
        with pytest.raises(psycopg2.errors.InsufficientPrivilege) as info:
            with rita.cursor() as cur:
                cur.execute(sql, (world.ids["con_sam"],))
        assert info.value.diag.message_primary.startswith("permission denied for")
    with pytest.raises(psycopg2.errors.InvalidParameterValue):
        with rita.cursor() as cur:
            cur.execute("SELECT delete_contact_details(%s, 'contact')", (world.ids["con_rita"],))
    left = world.installer("SELECT contact_id FROM contact_phone")
    assert sorted(left) == sorted((world.ids[c],) for c in ("con_nate", "con_sam", "con_mona"))
    assert world.one("SELECT count(*) FROM contact WHERE id = %s", (world.ids["con_sam"],)) == 1


def test_install_refuses_a_deleter_role_it_did_not_create(pg, installer_dsn):
    """The role that owns the delete functions is the installation's own, like its groups:
    never adopted from someone else, and a second installation gets one of its own."""
    pg.execute("CREATE ROLE orgx_deleter LOGIN")
    try:
        with pytest.raises(SchemaError) as info:
            migrate.migrate(installer_dsn, "orgx")
        assert "the role orgx_deleter already exists on this server" in str(info.value)
        conn = psycopg2.connect(installer_dsn)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT to_regnamespace('orgx')")
                assert cur.fetchone()[0] is None  # nothing of it was installed
        finally:
            conn.close()
    finally:
        pg.execute("DROP ROLE orgx_deleter")
    assert migrate.migrate(installer_dsn, "orgx")
    # a second database under the same schema name: refused with the same roles, installed
    # with a prefix of its own, whose functions belong to its own deleter
    second = pg.clone("template0")
    try:
        with pytest.raises(SchemaError, match="the role orgx_admin already exists"):
            migrate.migrate(pg.dsn(second), "orgx")
        assert migrate.migrate(pg.dsn(second), "orgx", role_prefix="orgy")
        conn = psycopg2.connect(pg.dsn(second))
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_get_userbyid(proowner) FROM pg_proc "
                            "WHERE proname = 'delete_contact_details'")
                assert cur.fetchall() == [("orgy_deleter",)]
        finally:
            conn.close()
    finally:
        pg.drop(second)


def test_admins_purge_and_remove_shares_through_the_functions(world: World):
    """The admin services that deleted rows (trash purge, removing a share) still do."""
    share = world.one("INSERT INTO account_share (account_id, user_id, access) "
                      "VALUES (%s, %s, 'read') RETURNING id",
                      (world.ids["acc_sam"], world.ids["rita"]))  # fmt: skip
    world.installer("UPDATE contact SET deleted_at = now() WHERE id = %s",
                    (world.ids["con_orphan_sam"],))  # fmt: skip
    app_as(world, "rita")
    try:
        with database.connection_context(), pytest.raises(PermissionDenied):
            sharing.remove_share(share)
    finally:
        database.close_all()
    app_as(world, "admin")
    try:
        with database.connection_context():
            assert load_rights().can("purge", "account")
            sharing.remove_share(share)
            trash.purge("contact", world.ids["con_orphan_sam"])
    finally:
        database.close_all()
    assert world.one("SELECT count(*) FROM account_share WHERE id = %s", (share,)) == 0
    assert world.one("SELECT count(*) FROM contact WHERE id = %s",
                     (world.ids["con_orphan_sam"],)) == 0  # fmt: skip
