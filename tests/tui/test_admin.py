"""Admin screen: an admin creates a person who then signs in; reps never see it."""

from __future__ import annotations

import itertools
import os

import psycopg2
from textual.widgets import DataTable, Input, Select

from db.connection import configure
from tui.app import SwitchboardApp
from tui.screens.admin import AdminScreen
from tui.screens.admin_form import AdminForm
from tui.screens.confirm import ConfirmModal
from tui.screens.login import LoginRequest, LoginScreen
from tui.widgets.status_bar import StatusBar

_n = itertools.count()


def uniq(name: str) -> str:
    return f"{name}_{os.getpid()}_{next(_n)}"


async def settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def cells(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_admin_creates_a_user_who_then_logs_in_and_sees_only_what_they_may(
    admin_dsn, installer_dsn, pg, db_name
):
    name = uniq("newrep")
    configure(admin_dsn, "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("0")
        await settle(app, pilot)
        assert isinstance(app.screen, AdminScreen)
        await pilot.press("n")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, AdminForm)
        form.query_one("#field-username", Input).value = name
        form.query_one("#field-display_name", Input).value = "New Rep"
        form.query_one("#field-role", Select).value = "rep"
        form.query_one("#field-password", Input).value = "rep password 1"
        form.query_one("#field-again", Input).value = "rep password 1"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(app, pilot)
        assert isinstance(app.screen, AdminScreen)
        rows = cells(app.screen.query_one("#users-table", DataTable))
        assert [name, "New Rep", "rep", "—", "active"] in rows
    # the database has the person, created by the admin, with a SCRAM verifier
    conn = psycopg2.connect(installer_dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT rolpassword LIKE 'SCRAM-SHA-256$%%' FROM pg_authid WHERE rolname = %s",
                    (name,))  # fmt: skip
        assert cur.fetchone()[0] is True
        cur.execute("SELECT actor FROM switchboard.audit_log WHERE table_name = 'app_user' "
                    "AND op = 'I' AND new_values->>'username' = %s", (name,))  # fmt: skip
        assert cur.fetchone()[0] == "sb_admin"
        cur.execute("INSERT INTO switchboard.account (name) VALUES ('Admin-only Corp')")
        cur.execute("UPDATE switchboard.sharing_default SET access = 'private'")
    conn.commit()
    conn.close()

    # the new person signs in through the login screen (TCP + password)
    request = LoginRequest(pg.tcp_dsn(db_name, name, ""), "switchboard", "a password is needed")
    app = SwitchboardApp(login=request)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.screen.query_one("#login-user", Input).value == name
        password = app.screen.query_one("#login-password", Input)
        assert password.password is True  # never echoed
        password.value = "wrong one"
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "wrong user name or password" in str(app.screen.query_one("#login-error").content)
        assert app.screen.query_one("#login-password", Input).value == ""
        app.screen.query_one("#login-password", Input).value = "rep password 1"
        await pilot.press("enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, LoginScreen)
        assert app.me is not None and app.me.username == name and app.me.role == "rep"
        assert "New Rep (rep)" in app.screen.query_one(StatusBar).who
        # only what they may: no admin key, no admin screen, no invisible accounts
        assert app.check_action("switch_mode", ("admin",)) is False
        await pilot.press("0")
        await settle(app, pilot)
        assert not isinstance(app.screen, AdminScreen)
        from db.connection import database

        with database.connection_context():
            names = [r[0] for r in database.execute_sql("SELECT name FROM account").fetchall()]
        assert "Admin-only Corp" not in names


async def test_a_rep_never_sees_the_admin_screen(pg, db_name, installer_dsn):
    name = uniq("rep")
    conn = psycopg2.connect(installer_dsn)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT switchboard_admin_api.create_user(%s, 'Rep', 'rep', NULL, NULL, NULL)",
                    (name,))  # fmt: skip
    conn.close()
    configure(pg.dsn(db_name, user=name), "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.rights.role == "rep" and not app.rights.is_admin
        await pilot.press("0")
        await settle(app, pilot)
        assert not isinstance(app.screen, AdminScreen)
        shown = [b.binding.key for b in app.screen.active_bindings.values() if b.enabled]
        assert "0" not in shown
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert "Go to Admin" not in commands and "Go to Accounts" in commands


async def test_a_disabled_user_cannot_log_in(pg, db_name, installer_dsn):
    from db.services.users import verifier  # noqa: F401  (hashing is the service's job)

    name = uniq("gone")
    conn = psycopg2.connect(installer_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        secret = psycopg2.extensions.encrypt_password("gone password", name, conn, "scram-sha-256")
        cur.execute("SELECT switchboard_admin_api.create_user(%s, 'Gone', 'rep', NULL, NULL, %s)",
                    (name, secret))  # fmt: skip
        cur.execute("SELECT switchboard_admin_api.disable_user(%s)", (name,))
    conn.close()
    app = SwitchboardApp(login=LoginRequest(pg.tcp_dsn(db_name, name, ""), "switchboard"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#login-password", Input).value = "gone password"
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "disabled" in str(app.screen.query_one("#login-error").content)
        assert app.me is None
