"""Issue 10 part 3: disabled means disabled, even for a session that logged in while
disable_user ran (before, it survived the commit: the disabled admin re-enabled themselves and
reset another person's password). Two connections; the state is checked as the installer."""

from __future__ import annotations

import time

import psycopg2
import pytest

from db.connection import configure, database
from db.services import users
from tests.security.installations import Installation, refused

VERIFIER = "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy"


@pytest.fixture
def here(pg, db_name) -> Installation:
    return Installation(pg, db_name, "switchboard", "switchboard", "sb_admin")


def _sessions(inst: Installation, login: str) -> int:
    return inst.installer("SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (login,))[0][
        0
    ]


def _wait_until_gone(inst: Installation, login: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while _sessions(inst, login) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _sessions(inst, login) == 0


def _state(inst: Installation, login: str) -> tuple:
    return inst.installer(
        "SELECT a.rolcanlogin, u.active, a.rolpassword, "
        "ARRAY(SELECT m.roleid::regrole::text FROM pg_auth_members m WHERE m.member = a.oid) "
        "FROM pg_authid a JOIN app_user u ON u.username = a.rolname WHERE a.rolname = %s",
        (login,),
    )[0]


def test_a_session_opened_while_disable_user_ran_holds_no_rights_and_is_ended(here):
    victim = here.add("ada.two", "admin")  # a second admin; a name that needs quoting
    other = here.add("rita", "rep")
    other_before = _state(here, other)
    admin = here.connect("sb_admin")
    admin.autocommit = False
    with admin.cursor() as cur:
        cur.execute("SELECT switchboard_admin_api.disable_user(%s)", (victim,))
    late = here.connect(victim)  # logs in before the disable commits
    admin.commit()
    admin.close()
    with late.cursor() as cur:
        with refused("42501", "permission denied for schema switchboard_admin_api"):
            cur.execute("SELECT switchboard_admin_api.enable_user(%s)", (victim,))
        with refused("42501", "permission denied for schema switchboard_admin_api"):
            cur.execute("SELECT switchboard_admin_api.set_password(%s, %s)", (other, VERIFIER))
        with refused("42501", "permission denied for schema switchboard"):
            cur.execute("SELECT count(*) FROM switchboard.account")
    assert here.api("sb_admin", "end_sessions", victim) == 1
    _wait_until_gone(here, victim)
    with pytest.raises((psycopg2.OperationalError, psycopg2.InterfaceError)):
        late.cursor().execute("SELECT 1")
    assert _state(here, victim)[:2] == (False, False) and _state(here, victim)[3] == []
    assert _state(here, other) == other_before
    with refused("42501", "is active: disable them first"):
        here.api("sb_admin", "end_sessions", other)
    here.api("sb_admin", "enable_user", victim)  # and back: the group role returns
    assert _state(here, victim)[:2] == (True, True)
    assert _state(here, victim)[3] == ["switchboard_admin"]


def test_the_service_ends_a_late_session_after_the_commit(here, admin_dsn, monkeypatch):
    victim = here.add("rita", "rep")
    late: list = []
    real_call = users._call

    def racing(function: str, *args: object) -> None:
        if function != "disable_user":
            real_call(function, *args)
            return
        with database.atomic():  # the victim logs in while disable_user runs
            database.execute_sql("SELECT switchboard_admin_api.disable_user(%s)", args)
            late.append(here.connect(victim))

    monkeypatch.setattr(users, "_call", racing)
    configure(admin_dsn, "switchboard")
    with database.connection_context():
        users.disable_user(victim)
    _wait_until_gone(here, victim)
    with pytest.raises((psycopg2.OperationalError, psycopg2.InterfaceError)):
        late[0].cursor().execute("SELECT 1")
    assert _state(here, victim)[:2] == (False, False)
