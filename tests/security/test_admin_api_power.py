"""Issue 10 part 2: the admin API cannot hand out power; `db init --admin` says why it refuses.

An admin reset the password of an adopted DBA login (CREATEROLE, pg_execute_server_program) and
got a shell through COPY ... FROM PROGRAM. Every state is checked afterwards as the installer.
"""

from __future__ import annotations

import psycopg2
import pytest

from db.bootstrap import ensure_login
from db.errors import ValidationError
from tests.security.installations import Installation, refused, tag
from tui.cli import main

VERIFIER = "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy"
POWERS = {
    "CREATEROLE": "CREATEROLE",
    "CREATEDB": "CREATEDB",
    "REPLICATION": "REPLICATION",
    "BYPASSRLS": "BYPASSRLS",
    "SUPERUSER": "SUPERUSER",
    "pg_execute_server_program": None,  # a membership, granted below
    "pg_read_server_files": None,
}


@pytest.fixture
def here(pg, db_name) -> Installation:
    return Installation(pg, db_name, "switchboard", "switchboard", "sb_admin")


def _powerful_person(inst: Installation, power: str, role: str = "rep") -> str:
    """A login made by a DBA with `power`, that also has a person row (adopted by hand)."""
    login = f"dba_{tag()}"
    attrs = "" if POWERS[power] is None else POWERS[power]
    inst.pg.execute(f'CREATE ROLE "{login}" LOGIN NOINHERIT {attrs}')
    if POWERS[power] is None:
        inst.pg.execute(f'GRANT {power} TO "{login}"')
    inst.pg.execute(f'GRANT switchboard_{role} TO "{login}"', dbname=inst.db)
    inst.installer("INSERT INTO app_user (username, display_name, role, active) "
                   "VALUES (%s, 'DBA', %s, false)", (login, role))  # fmt: skip
    return login


def _state(inst: Installation, login: str) -> tuple:
    return inst.installer(
        "SELECT a.rolpassword, a.rolcanlogin, u.role, u.active, "
        "ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g "
        "      ON g.oid = m.roleid WHERE m.member = a.oid ORDER BY 1) "
        "FROM pg_authid a JOIN app_user u ON u.username = a.rolname WHERE a.rolname = %s",
        (login,),
    )[0]


@pytest.mark.parametrize("power", sorted(POWERS))
def test_password_role_and_enable_changes_refuse_a_privileged_login(here, power):
    login = _powerful_person(here, power)
    before = _state(here, login)
    for function, args in (("set_password", (VERIFIER,)), ("set_role", ("admin",)),
                           ("enable_user", ()), ("disable_user", ())):  # fmt: skip
        with refused("42501", f"{login} holds "):
            here.api("sb_admin", function, login, *args)
    with refused("42501", power):
        here.api("sb_admin", "set_password", login, VERIFIER)
    assert _state(here, login) == before


def test_a_login_that_is_also_a_member_of_another_role_is_not_managed(here):
    login = here.add("rita", "rep")
    foreign = f"other_org_rep_{tag()}"
    here.pg.execute(f'CREATE ROLE "{foreign}" NOLOGIN')
    here.pg.execute(f'GRANT "{foreign}" TO "{login}"')
    before = _state(here, login)
    with refused("42501", f"also a member of {foreign}"):
        here.api("sb_admin", "set_password", login, VERIFIER)
    with refused("42501", "does not belong to this installation alone"):
        here.api("sb_admin", "set_role", login, "admin")
    assert _state(here, login) == before


def test_init_admin_refuses_a_privileged_login_unless_told(here, capsys):
    login = f"dba_{tag()}"
    here.pg.execute(f'CREATE ROLE "{login}" LOGIN CREATEROLE')
    here.pg.execute(f'GRANT pg_execute_server_program TO "{login}"')
    conn = psycopg2.connect(here.pg.dsn(here.db))
    with pytest.raises(ValidationError, match="holds CREATEROLE, pg_execute_server_program"):
        with conn, conn.cursor() as cur:
            ensure_login(cur, "switchboard", login, role="admin")
    code = main(["db", "init", "--dsn", here.pg.dsn(here.db), "--admin", login])
    err = capsys.readouterr().err
    assert code == 1 and "holds CREATEROLE" in err and "--allow-privileged-admin" in err
    assert here.installer("SELECT count(*) FROM app_user WHERE username = %s", (login,)) == [(0,)]
    assert here.installer("SELECT count(*) FROM pg_auth_members WHERE member = "
                          "quote_ident(%s)::regrole", (login,)) == [(1,)]  # fmt: skip
    code = main(["db", "init", "--dsn", here.pg.dsn(here.db), "--admin", login,
                 "--allow-privileged-admin"])  # fmt: skip
    assert code == 0
    assert here.installer("SELECT role FROM app_user WHERE username = %s", (login,)) == [
        ("admin",)]  # fmt: skip
    conn.close()
