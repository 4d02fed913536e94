"""Attacks with raw psycopg2 as an agent, a rep, a manager and a disabled user.

Every attempt fails, and every test then checks the database as the installer (who bypasses
RLS), not just the error.
"""

from __future__ import annotations

import json
import re
import select

import psycopg2
import psycopg2.errors
import pytest
from psycopg2.extensions import encrypt_password

from tests.security.conftest import World, set_all_defaults

ATTACKERS = ["aga", "rita", "mona"]


DENIED = "42501"  # insufficient_privilege: permissions, RLS WITH CHECK, our own role checks


def refused(conn, sql: str, params: tuple = (), *, match: str, code: str = DENIED) -> None:
    """`sql` is refused with SQLSTATE `code` and a message matching `match`.

    Any other error does not count: a typo (42601), a renamed table (42P01) or a missing
    function (42883) would otherwise pass as "refused" while testing nothing.
    """
    with pytest.raises(psycopg2.Error) as info:
        with conn.cursor() as cur:
            cur.execute(sql, params)
    error = info.value
    message = error.diag.message_primary or ""
    assert error.pgcode == code, f"{sql!r} failed with {error.pgcode}, not {code}: {message}"
    assert re.search(match, message), f"{sql!r} failed with {message!r}, not {match!r}"


def test_refused_counts_only_the_expected_refusal(world: World):
    """The helper itself can fail: a typo, a renamed table or another refusal are not it."""
    conn = world.connect("rita")
    for sql in ("DELET FROM account", "DELETE FROM acount", "DELETE FROM audit_log"):
        with pytest.raises(AssertionError):
            refused(conn, sql, match="permission denied for table account$")
    with pytest.raises(pytest.fail.Exception):  # no error at all
        refused(conn, "SELECT 1", match=".")
    refused(conn, "DELETE FROM account", match="permission denied for table account$")


@pytest.mark.parametrize("who", ATTACKERS)
def test_rows_outside_visibility_cannot_be_read_changed_or_deleted(world: World, who: str):
    set_all_defaults(world, "private")
    sam_acc, sam_con = world.ids["acc_sam"], world.ids["con_sam"]
    before = world.installer("SELECT name, version FROM account WHERE id = %s", (sam_acc,))
    conn = world.connect(who)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM account WHERE id = %s", (sam_acc,))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM contact WHERE last_name = 'Secret-sam'")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM contact_phone WHERE contact_id = %s", (sam_con,))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM activity WHERE subject = 'Call for sam'")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM audit_log WHERE account_id = %s", (sam_acc,))
        assert cur.fetchone()[0] == 0
    try:
        with conn.cursor() as cur:
            cur.execute("UPDATE account SET name = 'pwned' WHERE id = %s", (sam_acc,))
            assert cur.rowcount == 0
    except psycopg2.errors.InsufficientPrivilege:
        pass  # agents may not update accounts at all
    try:
        with conn.cursor() as cur:
            cur.execute("UPDATE contact SET last_name = 'pwned' WHERE id = %s", (sam_con,))
            assert cur.rowcount == 0
    except psycopg2.errors.InsufficientPrivilege:
        pass
    refused(conn, "DELETE FROM account WHERE id = %s", (sam_acc,),
            match="permission denied for table account")  # fmt: skip
    refused(conn, "DELETE FROM contact WHERE id = %s", (sam_con,),
            match="permission denied for table contact")  # fmt: skip
    refused(conn, "TRUNCATE contact_phone", match="permission denied for table contact_phone")
    assert world.installer("SELECT name, version FROM account WHERE id = %s", (sam_acc,)) == before
    assert world.one("SELECT last_name FROM contact WHERE id = %s", (sam_con,)) == "Secret-sam"
    assert world.one("SELECT count(*) FROM contact_phone") == 4


@pytest.mark.parametrize("who", ["rita", "mona"])
def test_insert_with_a_forged_owner_fails(world: World, who: str):
    conn = world.connect(who)
    account_rls = 'new row violates row-level security policy for table "account"'
    refused(conn, "INSERT INTO account (name, owner_id) VALUES ('forged', %s)",
            (world.ids["sam"],), match=account_rls)  # fmt: skip
    refused(conn, "INSERT INTO account (name, team_id) VALUES ('forged', %s)",
            (world.ids["south"],), match=account_rls)  # fmt: skip
    refused(
        conn,
        "INSERT INTO activity (kind, subject, author_id) VALUES ('note', 'forged', %s)",
        (world.ids["sam"],),
        match="the author of an activity is the person who logs it",  # 0009's author trigger
    )
    assert world.one("SELECT count(*) FROM account WHERE name = 'forged'") == 0
    assert world.one("SELECT count(*) FROM activity WHERE subject = 'forged'") == 0
    with conn.cursor() as cur:  # the honest insert works and is owned by the person
        cur.execute("INSERT INTO account (name) VALUES ('honest') RETURNING owner_id")
        assert cur.fetchone()[0] == world.ids[who]


def test_a_rep_cannot_reassign_and_a_manager_only_within_their_teams(world: World):
    rita = world.connect("rita")
    refused(
        rita,
        "UPDATE account SET owner_id = %s WHERE id = %s",
        (world.ids["nate"], world.ids["acc_rita"]),
        match="permission denied for table account",  # reps have no UPDATE on owner_id
    )
    mona = world.connect("mona")
    refused(
        mona,
        "UPDATE account SET owner_id = %s WHERE id = %s",
        (world.ids["sam"], world.ids["acc_rita"]),
        match="a manager may reassign only to people in their teams",
    )
    assert (
        world.one("SELECT owner_id FROM account WHERE id = %s", (world.ids["acc_rita"],))
        == world.ids["rita"]
    )
    with mona.cursor() as cur:
        cur.execute(
            "UPDATE account SET owner_id = %s WHERE id = %s",
            (world.ids["nate"], world.ids["acc_rita"]),
        )
    assert (
        world.one("SELECT owner_id FROM account WHERE id = %s", (world.ids["acc_rita"],))
        == world.ids["nate"]
    )


def test_agents_cannot_touch_opportunities(world: World):
    conn = world.connect("aga")
    denied = "permission denied for table opportunity"
    refused(conn, "SELECT * FROM opportunity", match=denied)
    refused(conn, "UPDATE opportunity SET amount = 0", match=denied)
    refused(
        conn,
        "INSERT INTO opportunity (account_id, name, stage_id, probability) "
        "SELECT %s, 'x', id, 1 FROM stage LIMIT 1",
        (world.ids["acc_rita"],),
        match=denied,
    )
    assert world.one("SELECT count(*) FROM opportunity") == 4
    assert world.one("SELECT sum(amount) FROM opportunity") == 4000


@pytest.mark.parametrize("who", ATTACKERS)
def test_nobody_grants_themselves_a_group_role_or_creates_a_role(world: World, who: str):
    conn = world.connect(who)
    login = world.users[who]
    expected = {
        "aga": "switchboard_agent",
        "rita": "switchboard_rep",
        "mona": "switchboard_manager",
    }
    for group in (
        "switchboard_admin",
        "switchboard_owner",
        "switchboard_useradmin",
        "switchboard_manager",
        "pg_signal_backend",
    ):
        refused(conn, f"GRANT {group} TO {login}",
                match=f'must have admin option on role "{group}"')  # fmt: skip
        if group != expected[who]:  # SET ROLE to one's own group only narrows
            refused(conn, f"SET ROLE {group}", match=f'permission denied to set role "{group}"')
    refused(conn, "CREATE ROLE evil LOGIN", match="permission denied to create role")
    refused(conn, f"ALTER ROLE {login} BYPASSRLS",
            match="must be superuser to change bypassrls attribute")  # fmt: skip
    refused(conn, f"ALTER ROLE {login} CREATEROLE", match="^permission denied$")
    rows = world.installer(
        "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
        "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s",
        (login,),
    )
    assert {r[0] for r in rows} == {expected[who]}
    assert world.one("SELECT count(*) FROM pg_roles WHERE rolname = 'evil'") == 0
    assert world.installer(
        "SELECT rolbypassrls, rolcreaterole, rolsuper FROM pg_roles WHERE rolname = %s", (login,)
    ) == [(False, False, False)]


@pytest.mark.parametrize("who", ATTACKERS)
def test_admin_functions_are_for_admins_only(world: World, who: str):
    conn = world.connect(who)
    login = world.users[who]
    calls = [
        ("SELECT switchboard_admin_api.create_user('evil', 'Evil', 'admin', NULL, NULL, NULL)", ()),
        ("SELECT switchboard_admin_api.set_role(%s, 'admin')", (login,)),
        ("SELECT switchboard_admin_api.enable_user(%s)", (world.users["dora"],)),
        ("SELECT switchboard_admin_api.disable_user(%s)", ("sb_admin",)),
        (
            "SELECT switchboard_admin_api.set_password(%s, 'SCRAM-SHA-256$4096:YQ==$YQ==:YQ==')",
            ("sb_admin",),
        ),
    ]
    for sql, params in calls:
        refused(conn, sql, params, match="permission denied for schema switchboard_admin_api")
    assert world.one("SELECT role FROM app_user WHERE username = %s", (login,)) != "admin"
    assert (
        world.one("SELECT active FROM app_user WHERE username = %s", (world.users["dora"],))
        is False
    )
    assert (
        world.one("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (world.users["dora"],))
        is False
    )
    assert world.one("SELECT count(*) FROM pg_roles WHERE rolname = 'evil'") == 0
    # and nobody writes app_user directly
    refused(conn, "UPDATE app_user SET role = 'admin' WHERE username = %s", (login,),
            match="permission denied for table app_user")  # fmt: skip
    refused(
        conn, "INSERT INTO app_user (username, display_name, role) VALUES ('evil', 'E', 'admin')",
        match="permission denied for table app_user",
    )
    assert world.one("SELECT count(*) FROM app_user WHERE role = 'admin'") == 1


@pytest.mark.parametrize("who", ATTACKERS + ["admin"])
def test_audit_rows_cannot_be_changed_or_deleted(world: World, who: str):
    set_all_defaults(world, "public_read_write")
    before = world.installer("SELECT id, actor, old_values, new_values FROM audit_log ORDER BY id")
    conn = world.connect(who)
    denied = "permission denied for table audit_log"
    refused(conn, "UPDATE audit_log SET actor = 'nobody'", match=denied)
    refused(conn, "DELETE FROM audit_log", match=denied)
    refused(conn, "TRUNCATE audit_log", match=denied)
    refused(conn, "INSERT INTO audit_log (table_name, row_id, op) VALUES ('account', 1, 'D')",
            match=denied)  # fmt: skip
    assert (
        world.installer("SELECT id, actor, old_values, new_values FROM audit_log ORDER BY id")
        == before
    )


@pytest.mark.parametrize("who", ATTACKERS + ["admin"])
def test_nobody_writes_activity_tree_or_runs_its_maintenance(world: World, who: str):
    """activity_tree is derived data: only its triggers write it, as the owner."""
    world.installer("UPDATE account SET parent_id = %s WHERE id = %s",
                    (world.ids["acc_rita"], world.ids["acc_nate"]))  # fmt: skip
    before = world.installer("SELECT * FROM activity_tree ORDER BY activity_id")
    assert before
    conn = world.connect(who)
    denied = "permission denied for table activity_tree"
    refused(conn, "DELETE FROM activity_tree", match=denied)
    refused(conn, "UPDATE activity_tree SET occurred_at = now()", match=denied)
    refused(conn, "TRUNCATE activity_tree", match=denied)
    refused(conn, f"INSERT INTO activity_tree VALUES ({world.ids['acc_sam']}, now(), "
                  f"{world.ids['act_nate']})", match=denied)  # fmt: skip
    refused(conn, "SELECT activity_tree_rebuild()",
            match="permission denied for function activity_tree_rebuild")  # fmt: skip
    assert world.installer("SELECT * FROM activity_tree ORDER BY activity_id") == before


def test_audit_reading_admins_all_others_only_visible_rows(world: World):
    set_all_defaults(world, "private")
    total = world.one("SELECT count(*) FROM audit_log")
    with world.connect("admin").cursor() as cur:
        cur.execute("SELECT count(*) FROM audit_log")
        assert cur.fetchone()[0] == total
    with world.connect("rita").cursor() as cur:
        cur.execute("SELECT DISTINCT account_id FROM audit_log WHERE account_id IS NOT NULL")
        assert {r[0] for r in cur.fetchall()} == {world.ids["acc_rita"]}
        cur.execute("SELECT count(*) FROM audit_log WHERE table_name IN ('app_user', 'team')")
        assert cur.fetchone()[0] == 0
    with world.connect("aga").cursor() as cur:  # agents: no deal history, even of visible rows
        cur.execute("SELECT count(*) FROM audit_log WHERE table_name = 'opportunity'")
        assert cur.fetchone()[0] == 0


@pytest.mark.parametrize("who", ATTACKERS)
def test_nobody_reads_another_persons_password_verifier(world: World, who: str):
    admin = world.connect("admin")
    verifier = encrypt_password("s3cret-pass", "sb_admin", admin, "scram-sha-256")
    with admin.cursor() as cur:
        cur.execute("SELECT switchboard_admin_api.set_password('sb_admin', %s)", (verifier,))
    conn = world.connect(who)
    refused(conn, "SELECT rolpassword FROM pg_authid",
            match="permission denied for table pg_authid")  # fmt: skip
    refused(conn, "SELECT passwd FROM pg_shadow", match="permission denied for view pg_shadow")
    with conn.cursor() as cur:
        cur.execute("SELECT rolpassword FROM pg_roles WHERE rolname = 'sb_admin'")
        assert cur.fetchone()[0] == "********"
        cur.execute("SELECT count(*) FROM pg_user WHERE passwd <> '********'")
        assert cur.fetchone()[0] == 0
    assert world.one("SELECT rolpassword FROM pg_authid WHERE rolname = 'sb_admin'") == verifier
    # the audit row of the reset names the event, never the verifier
    assert "SCRAM" not in json.dumps(
        world.installer("SELECT old_values, new_values FROM audit_log"), default=str
    )


def test_the_admin_api_refuses_plaintext_passwords(world: World):
    admin = world.connect("admin")
    plain = "must be a SCRAM-SHA-256 verifier made on the client, never a plain password"
    refused(admin, "SELECT switchboard_admin_api.set_password(%s, 'hunter2')",
            (world.users["rita"],), match=plain, code="22023")  # fmt: skip
    refused(
        admin,
        "SELECT switchboard_admin_api.create_user('plain', 'P', 'rep', NULL, NULL, 'hunter2')",
        match=plain,
        code="22023",  # invalid_parameter_value
    )
    assert (
        world.one("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (world.users["rita"],))
        is None
    )
    assert world.one("SELECT count(*) FROM pg_roles WHERE rolname = 'plain'") == 0


def test_the_admin_api_never_touches_roles_outside_switchboard(world: World):
    admin = world.connect("admin")
    for name in ("postgres", "switchboard_owner", "switchboard_admin"):
        nobody = {"match": f"no such person: {name}$", "code": "P0002"}  # no_data_found
        refused(admin, "SELECT switchboard_admin_api.set_role(%s, 'rep')", (name,), **nobody)
        refused(admin, "SELECT switchboard_admin_api.disable_user(%s)", (name,), **nobody)
        taken = (  # postgres exists; the switchboard_ prefix is reserved before anything else
            {"match": "the name postgres is taken", "code": "23505"} if name == "postgres"
            else {"match": "names starting with pg_ or switchboard_ are reserved", "code": "22023"}
        )  # fmt: skip
        refused(
            admin,
            "SELECT switchboard_admin_api.create_user(%s, 'X', 'rep', NULL, NULL, NULL)",
            (name,),
            **taken,
        )
    assert world.one("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'postgres'") is True
    assert world.one("SELECT count(*) FROM app_user") == 7


def test_a_disabled_user_cannot_log_in(world: World, pg):
    with pytest.raises(psycopg2.OperationalError, match="not permitted to log in"):
        world.connect("dora")
    assert (
        world.one("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (world.users["dora"],))
        is False
    )


def test_disabling_ends_the_persons_open_sessions(world: World):
    conn = world.connect("rita")
    with world.connect("admin").cursor() as cur:
        cur.execute("SELECT switchboard_admin_api.disable_user(%s)", (world.users["rita"],))
    with pytest.raises(psycopg2.OperationalError):
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
    assert (
        world.one(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (world.users["rita"],)
        )
        == 0
    )


@pytest.mark.parametrize("who", ["aga", "rita"])
def test_change_notices_carry_no_row_contents(world: World, who: str):
    set_all_defaults(world, "private")
    listener = world.connect(who)
    with listener.cursor() as cur:
        cur.execute("LISTEN switchboard")
    conn = psycopg2.connect(world.installer_dsn, options="-c search_path=switchboard")
    with conn, conn.cursor() as cur:
        cur.execute(
            "UPDATE contact SET last_name = 'Topsecret', notes = 'salary 100k' WHERE id = %s",
            (world.ids["con_sam"],),
        )
    conn.close()
    select.select([listener], [], [], 5)
    listener.poll()
    assert listener.notifies, "no notice arrived"
    for note in listener.notifies:
        payload = json.loads(note.payload)
        assert set(payload) == {"t", "op", "id", "a"}
        assert "Topsecret" not in note.payload and "salary" not in note.payload
    assert (
        world.one("SELECT last_name FROM contact WHERE id = %s", (world.ids["con_sam"],))
        == "Topsecret"
    )
