"""Issue 10 part 1: installations on one server are strangers.

Two organisations as two databases and as two schemas of one database, each initialised,
each with its people; each sees only its own data, and an admin of one can do nothing in the
other. Every attack checks the database afterwards as the installer and the exact refusal.
"""

from __future__ import annotations

import psycopg2
import pytest

from db import demo, migrate
from db.errors import SchemaError
from tests.security.installations import Installation, cannot_connect, install, refused, tag
from tui.cli import main


def _add_account(inst, login: str, name: str) -> None:
    conn = inst.connect(login)
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO account (name, owner_id) "
                        "VALUES (%s, current_app_user_id())", (name,))  # fmt: skip
    finally:
        conn.close()


def _accounts(inst, login: str) -> list[str]:
    conn = inst.connect(login)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT name FROM account ORDER BY name")
            return [r[0] for r in cur.fetchall()]
    finally:
        conn.close()


def test_two_databases_with_the_same_schema_are_strangers(pg, template_db):
    a, b = install(pg), install(pg)
    assert a.schema == b.schema == "switchboard" and a.prefix != b.prefix
    rep_a, rep_b = a.add("rita", "rep"), b.add("bert", "rep")
    _add_account(a, rep_a, "Acme of A")
    _add_account(b, rep_b, "Beta of B")
    assert _accounts(a, rep_a) == ["Acme of A"]
    assert _accounts(b, rep_b) == ["Beta of B"]
    # CONNECT is for the installation's people only.
    for login in (rep_a, a.admin):
        cannot_connect(b, login)
    # Even with CONNECT opened again (a DBA's slip), A's people hold nothing in B.
    pg.execute(f'GRANT CONNECT ON DATABASE "{b.db}" TO PUBLIC')
    conn = b.connect(rep_a)
    with refused("42501", "permission denied for schema switchboard"), conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM switchboard.account")
    conn.close()
    roles_before = b.installer("SELECT count(*) FROM pg_roles")
    with refused("42501", "permission denied for schema switchboard_admin_api"):
        b.api(a.admin, "create_user", f"mole_{tag()}", "Mole", "admin", None, None, None)
    with refused("42501", "permission denied for schema switchboard_admin_api"):
        b.api(a.admin, "set_password", rep_b, "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy")
    assert b.installer("SELECT count(*) FROM pg_roles") == roles_before
    assert b.installer("SELECT username FROM app_user ORDER BY 1") == sorted([(b.admin,), (rep_b,)])
    assert b.installer("SELECT name FROM account") == [("Beta of B",)]


def test_two_schemas_in_one_database_are_strangers(pg, template_db):
    t = tag()
    acme = install(pg, db=f"two_{t}", schema=f"acme_{t}", prefix=f"acme_{t}")
    globex = install(pg, db=f"two_{t}", schema=f"globex_{t}", prefix=f"globex_{t}", new_db=False)
    rep_a, rep_g = acme.add("rita", "rep"), globex.add("gus", "rep")
    _add_account(acme, rep_a, "Acme Ltd")
    _add_account(globex, rep_g, "Globex Inc")
    assert _accounts(acme, rep_a) == ["Acme Ltd"]
    assert _accounts(globex, rep_g) == ["Globex Inc"]
    conn = acme.connect(rep_a)
    with refused("42501", f"permission denied for schema globex_{t}"), conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM globex_{t}.account")
    conn.close()
    with refused("42501", f"permission denied for schema globex_{t}_admin_api"):
        globex.api(acme.admin, "create_user", f"mole_{t}", "Mole", "admin", None, None, None)
    with refused("42501", f"permission denied for schema globex_{t}_admin_api"):
        globex.api(acme.admin, "disable_user", rep_g)
    assert globex.installer("SELECT username, active FROM app_user ORDER BY 1") == sorted(
        [(globex.admin, True), (rep_g, True)]
    )
    assert globex.installer("SELECT name FROM account") == [("Globex Inc",)]
    assert acme.installer("SELECT 1 FROM pg_roles WHERE rolname = %s", (f"mole_{t}",)) == []


@pytest.fixture
def other_db(pg, template_db):
    """A second clone of the template: it shares every role with the test's database, as two
    installations of one schema name did before 0008."""
    name = pg.clone(template_db)
    yield name
    pg.drop(name)


def test_a_person_of_another_installation_sharing_its_roles_sees_and_does_nothing(
    pg, db_name, other_db
):
    here = Installation(pg, db_name, "switchboard", "switchboard", "sb_admin")
    there = Installation(pg, other_db, "switchboard", "switchboard", "sb_admin")
    rep, admin = here.add("rita", "rep"), here.add("ada", "admin")
    there.installer("INSERT INTO account (name) VALUES ('Theirs'), ('Also theirs')")
    there.installer("UPDATE sharing_default SET access = 'public_read_write'")
    conn = there.connect(rep)  # a member of the shared group roles, no person row there
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM account")
        assert cur.fetchone()[0] == 0
        cur.execute("UPDATE account SET name = 'mine now'")
        assert cur.rowcount == 0
        with refused("42501", 'new row violates row-level security policy for table "account"'):
            cur.execute("INSERT INTO account (name) VALUES ('planted')")
    conn.close()
    roles_before = there.installer("SELECT count(*) FROM pg_roles")
    with refused("42501", "an active admin of this installation"):
        there.api(admin, "create_user", f"mole_{tag()}", "Mole", "admin", None, None, None)
    with refused("42501", "an active admin of this installation"):
        there.api(admin, "set_password", "sb_admin",
                  "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy")  # fmt: skip
    assert there.installer("SELECT count(*) FROM pg_roles") == roles_before
    assert there.installer("SELECT name FROM account ORDER BY 1") == [("Also theirs",),
                                                                      ("Theirs",)]  # fmt: skip
    assert there.installer("SELECT username FROM app_user") == [("sb_admin",)]
    assert there.installer("SELECT count(*) FROM audit_log WHERE table_name = 'app_user' "
                           "AND actor = %s", (admin,)) == [(0,)]  # fmt: skip


def test_db_init_never_adopts_a_role_it_did_not_create(pg, template_db, capsys):
    a = install(pg)
    t = tag()
    squatter = f"acme_{t}_owner"  # an admin of A makes a login named like B's future owner
    a.api(a.admin, "create_user", squatter, "Squatter", "rep", None, None, None)
    with pytest.raises(SchemaError, match=f"the role {squatter} already exists"):
        migrate.migrate(pg.dsn(a.db), f"acme_{t}")
    code = main(["db", "init", "--dsn", pg.dsn(a.db), "--schema", f"acme_{t}"])
    assert code == 1 and f"the role {squatter} already exists" in capsys.readouterr().err
    assert a.installer("SELECT to_regnamespace(%s)", (f"acme_{t}",)) == [(None,)]
    member_of = a.installer(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "WHERE m.member = quote_ident(%s)::regrole", (squatter,))  # fmt: skip
    assert member_of == [(f"{a.prefix}_rep",)]
    assert a.installer("SELECT rolname FROM pg_roles WHERE rolname LIKE %s",
                       (f"acme\\_{t}\\_%",)) == [(squatter,)]  # fmt: skip


def test_a_second_demo_never_adopts_the_first_ones_logins(pg, template_db):
    dbs = [f"demo_{tag()}" for _ in range(2)]
    logins = []
    for db in dbs:
        pg.drop(db)
        pg.execute(f'CREATE DATABASE "{db}"')
        prefix = f"d_{tag()}"
        demo.load(pg.dsn(db), "switchboard", scale=0.002, progress=lambda _: None,
                  role_prefix=prefix)  # fmt: skip
        conn = psycopg2.connect(pg.dsn(db))
        with conn.cursor() as cur:
            cur.execute("SELECT username FROM switchboard.app_user")
            names = {r[0] for r in cur.fetchall()}
            cur.execute(
                "SELECT DISTINCT g.rolname FROM switchboard.app_user u "
                "JOIN pg_auth_members m ON m.member = quote_ident(u.username)::regrole "
                "JOIN pg_roles g ON g.oid = m.roleid"
            )
            assert {r[0] for r in cur.fetchall()} <= {
                f"{prefix}_{r}" for r in ("agent", "rep", "manager", "admin")
            }
        conn.close()
        logins.append(names)
    try:
        assert logins[0] and logins[1] and not logins[0] & logins[1]
    finally:
        for db in dbs:
            pg.drop(db)


def test_a_new_installation_grants_only_to_its_own_roles(pg, template_db):
    """Every policy and privilege of a prefixed installation names its own roles (a migration
    that builds a role name from the schema would grant to another installation's)."""
    a = install(pg)
    own = f"{a.prefix}\\_%"
    assert a.installer(
        "SELECT DISTINCT r.rolname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN unnest(p.polroles) pr "
        "JOIN pg_roles r ON r.oid = pr WHERE n.nspname = 'switchboard' "
        "AND r.rolname NOT LIKE %s", (own,)) == []  # fmt: skip
    for catalog, acl, ns in (("pg_class", "relacl", "relnamespace"),
                             ("pg_proc", "proacl", "pronamespace")):  # fmt: skip
        assert a.installer(
            f"SELECT DISTINCT x.grantee::regrole::text FROM {catalog} o "
            f"JOIN pg_namespace n ON n.oid = o.{ns} CROSS JOIN aclexplode(o.{acl}) x "
            "WHERE n.nspname IN ('switchboard', 'switchboard_admin_api') AND x.grantee <> 0 "
            "AND x.grantee::regrole::text NOT LIKE %s", (own,)) == []  # fmt: skip
    stranger = f"stranger_{tag()}"
    pg.execute(f'CREATE ROLE "{stranger}" LOGIN')
    cannot_connect(a, stranger)
