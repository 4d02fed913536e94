"""db/services/users.py, sharing.py, history.py and rights.py against a real server."""

from __future__ import annotations

import itertools
import os

import psycopg2
import pytest

from db.connection import configure, database
from db.errors import ValidationError
from db.services import history, rights, sharing, users

_n = itertools.count()


def uniq(name: str) -> str:
    return f"{name}_{os.getpid()}_{next(_n)}"


@pytest.fixture
def as_admin(admin_dsn):
    configure(admin_dsn, "switchboard")
    with database.connection_context():
        yield


def test_create_user_with_a_client_hashed_password_who_can_then_log_in(as_admin, pg, db_name):
    name = uniq("alice")
    team = sharing.save_team("Nordics")
    users.create_user(name, "Alice Ek", "rep", team, "alice@example.com", "correct horse")
    u = users.get_user(name)
    assert (u.display_name, u.role, u.team, u.active) == ("Alice Ek", "rep", "Nordics", True)
    conn = psycopg2.connect(pg.tcp_dsn(db_name, name, "correct horse"))
    with conn.cursor() as cur:
        cur.execute("SELECT pg_has_role('switchboard_rep', 'MEMBER')")
        assert cur.fetchone()[0] is True
    conn.close()
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(pg.tcp_dsn(db_name, name, "wrong horse"))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"username": "Bad Name"}, "username"),
        ({"display_name": ""}, "display_name"),
        ({"role": "overlord"}, "role"),
        ({"password": "short"}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"team_id": 999999}, "team"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(as_admin, kwargs, field):
    args = {"username": uniq("bob"), "display_name": "Bob", "role": "rep", "password": None}
    args.update(kwargs)
    before = users.list_users().users
    with pytest.raises(ValidationError) as err:
        users.create_user(**args)
    assert err.value.field == field
    assert users.list_users().users == before


def test_a_taken_name_is_refused(as_admin):
    with pytest.raises(ValidationError, match="taken") as err:
        users.create_user("sb_admin", "Again", "rep")
    assert err.value.field == "username"


def test_list_users_pages_by_keyset(as_admin):
    for i in range(5):
        users.create_user(uniq(f"p{i}"), f"Person {i}", "agent")
    first = users.list_users(limit=4)
    assert len(first.users) == 4 and first.next_after
    second = users.list_users(after=first.next_after, limit=4)
    assert len(second.users) == 2 and second.next_after is None
    names = [u.username for u in first.users + second.users]
    assert names == sorted(names) and len(set(names)) == 6


def test_role_team_disable_enable_and_the_last_admin_rule(as_admin):
    name = uniq("carl")
    users.create_user(name, "Carl", "rep")
    team = sharing.save_team("Support")
    users.set_role(name, "manager")
    users.set_team(name, team)
    users.disable_user(name)
    u = users.get_user(name)
    assert (u.role, u.team, u.active) == ("manager", "Support", False)
    users.enable_user(name)
    assert users.get_user(name).active
    with pytest.raises(ValidationError, match="last active admin"):
        users.set_role("sb_admin", "rep")
    with pytest.raises(ValidationError, match="yourself"):
        users.disable_user("sb_admin")


def test_every_admin_change_is_in_the_history_with_the_admin_as_actor(as_admin):
    """All seven: create, edit, password, role, team, disable, enable."""
    name = uniq("dina")
    team = sharing.save_team(uniq("Dina's team"))
    uid = users.create_user(name, "Dina", "rep")
    users.update_user(name, "Dina Berg", None)
    users.set_password(name, "a long password")
    users.set_role(name, "manager")
    users.set_team(name, team)
    users.disable_user(name)
    users.enable_user(name)
    page = history.record_history("app_user", uid)
    assert [e.op for e in page.entries] == ["U"] * 6 + ["I"]
    assert {e.actor for e in page.entries} == {"sb_admin"}
    changes = [[(c.field, c.old, c.new) for c in e.changes] for e in page.entries]
    assert changes[0] == [("active", False, True)]  # enabled (newest first)
    assert changes[1] == [("active", True, False)]  # disabled
    assert changes[2] == [("team_id", None, team)]
    assert changes[3] == [("role", "rep", "manager")]
    assert [c[0] for c in changes[4]] == ["password"]
    assert changes[5] == [("display_name", "Dina", "Dina Berg")]
    assert ("username", None, name) in changes[6]
    assert "SCRAM" not in str(page)


def test_history_pages_newest_first(as_admin):
    acc = database.execute_sql("INSERT INTO account (name) VALUES ('v0') RETURNING id").fetchone()[
        0
    ]
    for i in range(1, 8):
        database.execute_sql("UPDATE account SET name = %s WHERE id = %s", (f"v{i}", acc))
    first = history.record_history("account", acc, limit=5)
    rest = history.record_history("account", acc, before=first.next_before, limit=5)
    news = [e.changes[0].new for e in first.entries + rest.entries if e.op == "U"]
    assert news == [f"v{i}" for i in range(7, 0, -1)]
    assert rest.next_before is None
    audit = history.audit(actor="sb_admin", table="account")
    assert len(audit.entries) == 8


def test_sharing_defaults_and_shares(as_admin):
    sharing.set_sharing_default("account", "private")
    assert sharing.sharing_defaults()["account"] == "private"
    with pytest.raises(ValidationError) as err:
        sharing.set_sharing_default("account", "everyone")
    assert err.value.field == "access"
    acc = database.execute_sql(
        "INSERT INTO account (name) VALUES ('Shared') RETURNING id"
    ).fetchone()[0]
    team = sharing.save_team("East")
    share = sharing.add_share(acc, team_id=team, access="write")
    assert [s.who for s in sharing.list_shares(acc)] == ["team East"]
    sharing.remove_share(share)
    assert sharing.list_shares(acc) == []


def test_team_hierarchy_refuses_cycles(as_admin):
    top = sharing.save_team("Top")
    mid = sharing.save_team("Mid", parent_id=top)
    low = sharing.save_team("Low", parent_id=mid)
    assert [(t.name, t.depth) for t in sharing.list_teams()] == [("Top", 0), ("Mid", 1), ("Low", 2)]
    with pytest.raises(ValidationError) as err:
        sharing.save_team("Top", parent_id=low, team_id=top)
    assert err.value.field == "parent"


def test_rights_follow_the_group_role(admin_dsn, pg, db_name):
    configure(admin_dsn, "switchboard")
    with database.connection_context():
        admin_rights = rights.load_rights()
        name = uniq("rory")
        users.create_user(name, "Rory", "rep")
        agent = uniq("agnes")
        users.create_user(agent, "Agnes", "agent")
    assert admin_rights.can("admin", "") and admin_rights.can("purge", "account")
    configure(pg.dsn(db_name, user=name), "switchboard")
    with database.connection_context():
        rep = rights.load_rights()
    assert rep.can("edit", "account") and rep.can("create", "opportunity")
    assert not rep.can("admin", "") and not rep.can("purge", "account")
    assert not rep.can("reassign", "account") and not rep.can("read", "nonexistent")
    configure(pg.dsn(db_name, user=agent), "switchboard")
    with database.connection_context():
        ag = rights.load_rights()
    assert ag.can("create", "activity") and ag.can("edit", "contact")
    assert not ag.can("read", "opportunity") and not ag.can("edit", "account")
    assert "agent" in ag.reason("edit", "account")


def test_cli_user_add_list_passwd_and_disable(admin_dsn, pg, db_name, monkeypatch, capsys):
    import io

    from tui.cli import main

    name = uniq("cli")
    monkeypatch.setattr("sys.stdin", io.StringIO("first password\n"))
    base = ["--dsn", admin_dsn]
    assert main(["user", "add", name, "--name", "Cli Person", "--role", "agent",
                 "--password-stdin", *base]) == 0  # fmt: skip
    psycopg2.connect(pg.tcp_dsn(db_name, name, "first password")).close()
    assert main(["user", "list", "--query", "cli", *base]) == 0
    out = capsys.readouterr().out
    assert name in out and "Cli Person" in out and "agent" in out
    monkeypatch.setattr("sys.stdin", io.StringIO("second password\n"))
    assert main(["user", "passwd", name, "--password-stdin", *base]) == 0
    psycopg2.connect(pg.tcp_dsn(db_name, name, "second password")).close()
    assert main(["user", "set-role", name, "rep", *base]) == 0
    assert main(["user", "disable", name, *base]) == 0
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(pg.tcp_dsn(db_name, name, "second password"))
    assert main(["user", "set-role", name, "boss", *base]) == 2
    assert main(["user", "set-team", name, "Nowhere", *base]) == 1
    err = capsys.readouterr().err
    assert "team: no team called 'Nowhere'" in err
