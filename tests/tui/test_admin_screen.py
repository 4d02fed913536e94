"""Admin screen, section by section, driven by its keys and checked in the database:
users (edit, role, team, password, disable, enable), teams, sharing defaults and shares,
the audit log's filter and paging."""

from __future__ import annotations

import psycopg2
from textual.widgets import DataTable, Input

from db.connection import configure
from tests.records_data import run
from tests.tui.test_admin import cells, settle, uniq
from tui.app import SwitchboardApp
from tui.screens.admin import AdminScreen
from tui.screens.admin_form import AdminForm
from tui.screens.confirm import ConfirmModal


async def submit(app, pilot, values: dict[str, str], confirm: bool = True) -> None:
    """Fill the open AdminForm, ctrl+s, and answer its confirmation."""
    form = app.screen
    assert isinstance(form, AdminForm), type(form)
    for name, value in values.items():
        widget = form.query_one(f"#field-{name}")
        widget.value = value  # an Input's text or a Select's value
    await pilot.press("ctrl+s")
    await settle(app, pilot)
    if confirm:
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(app, pilot)
    assert isinstance(app.screen, AdminScreen), type(app.screen)


def select_user(app, username: str) -> None:
    screen = app.screen
    table = screen.query_one("#users-table", DataTable)
    row = [u.username for u in screen.user_rows].index(username)
    table.move_cursor(row=row)


def user_row(installer_dsn: str, username: str) -> tuple:
    return run(installer_dsn, "SELECT u.display_name, u.email, u.role, t.name, u.active "
               "FROM app_user u LEFT JOIN team t ON t.id = u.team_id WHERE u.username = %s",
               (username,))[0]  # fmt: skip


async def test_users_edit_role_team_password_disable_enable(admin_dsn, installer_dsn):
    name = uniq("pat")
    run(installer_dsn, "SELECT switchboard_admin_api.create_user(%s, 'Pat', 'rep', NULL, NULL, "
        "NULL)", (name,))  # fmt: skip
    team = run(installer_dsn, "INSERT INTO team (name) VALUES ('Support') RETURNING id")[0][0]
    configure(admin_dsn, "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("0")
        await settle(app, pilot)
        select_user(app, name)
        await pilot.press("e")
        await settle(app, pilot)
        await submit(app, pilot, {"display_name": "Pat Lind", "email": "pat@example.com"})
        assert user_row(installer_dsn, name)[:2] == ("Pat Lind", "pat@example.com")
        select_user(app, name)
        await pilot.press("r")
        await settle(app, pilot)
        await submit(app, pilot, {"role": "agent"})
        assert user_row(installer_dsn, name)[2] == "agent"
        select_user(app, name)
        await pilot.press("g")
        await settle(app, pilot)
        await submit(app, pilot, {"team": str(team)})
        assert user_row(installer_dsn, name)[3] == "Support"
        select_user(app, name)
        await pilot.press("p")
        await settle(app, pilot)
        form = app.screen
        await pilot.press(*"too short 1", "tab", *"different 1")  # differ: refused unasked
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is form
        assert "the two passwords differ" in str(form.query_one("#error-again").content)
        await submit(app, pilot, {"password": "a long password", "again": "a long password"})
        assert run(installer_dsn, "SELECT rolpassword LIKE 'SCRAM-SHA-256$%%' FROM pg_authid "
                   "WHERE rolname = %s", (name,)) == [(True,)]  # fmt: skip
        select_user(app, name)
        await pilot.press("d")
        await settle(app, pilot)
        question = str(app.screen.query_one("#confirm-question").content)
        assert "Their open sessions end now" in question
        await pilot.press("y")
        await settle(app, pilot)
        assert user_row(installer_dsn, name)[4] is False
        rows = cells(app.screen.query_one("#users-table", DataTable))
        assert [name, "Pat Lind", "agent", "Support", "disabled"] in rows
        select_user(app, name)
        await pilot.press("d")
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        assert user_row(installer_dsn, name)[4] is True
        assert run(installer_dsn, "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s",
                   (name,)) == [(True,)]  # fmt: skip


async def test_teams_sharing_defaults_and_shares(admin_dsn, installer_dsn):
    acc = run(installer_dsn, "INSERT INTO account (name) VALUES ('Shared Co') RETURNING id")[0][0]
    friend = uniq("friend")
    run(installer_dsn, "SELECT switchboard_admin_api.create_user(%s, 'Friend', 'rep', NULL, "
        "NULL, NULL)", (friend,))  # fmt: skip
    configure(admin_dsn, "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("0")
        await settle(app, pilot)
        await pilot.press("t", "n")
        await settle(app, pilot)
        await submit(app, pilot, {"name": "Nordics", "sharing": "public_read"})
        await pilot.press("n")
        await settle(app, pilot)
        nordics = str(run(installer_dsn, "SELECT id FROM team WHERE name = 'Nordics'")[0][0])
        await submit(app, pilot, {"name": "Sweden", "parent": nordics})
        assert run(installer_dsn, "SELECT t.name, p.name, t.sharing FROM team t LEFT JOIN team p "
                   "ON p.id = t.parent_id ORDER BY t.id") == [
            ("Nordics", None, "public_read"), ("Sweden", "Nordics", None)]  # fmt: skip
        rows = cells(app.screen.query_one("#teams-table", DataTable))
        assert ["  Sweden", "—", "organisation default"] in rows
        app.screen.query_one("#teams-table", DataTable).move_cursor(row=0)
        await pilot.press("e")
        await settle(app, pilot)
        await submit(app, pilot, {"name": "Norden"})
        assert run(installer_dsn, "SELECT name FROM team WHERE id = %s", (int(nordics),)) == [
            ("Norden",)]  # fmt: skip

        await pilot.press("s")
        await settle(app, pilot)
        app.screen.query_one("#defaults-table", DataTable).move_cursor(row=0)
        await pilot.press("e")
        await settle(app, pilot)
        await submit(app, pilot, {"access": "private"})
        first = run(installer_dsn, "SELECT access FROM sharing_default ORDER BY object_type")
        assert ("private",) in first
        await pilot.press("f")
        await settle(app, pilot)
        form = app.screen
        form.query_one("#field-account", Input).value = "twelve"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "give the account's number" in str(form.query_one("#error-account").content)
        form.query_one("#field-account", Input).value = str(acc)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, AdminScreen) and app.screen.share_account == acc
        await pilot.press("plus")
        await settle(app, pilot)
        await submit(app, pilot, {"kind": "user", "with": friend, "access": "write"})
        assert run(installer_dsn, "SELECT u.username, s.access FROM account_share s JOIN app_user "
                   "u ON u.id = s.user_id WHERE s.account_id = %s", (acc,)) == [
            (friend, "write")]  # fmt: skip
        shares = cells(app.screen.query_one("#shares-table", DataTable))
        assert len(shares) == 1 and shares[0][1] == "write"


async def test_audit_filter_and_paging(admin_dsn, installer_dsn):
    acc = run(installer_dsn, "INSERT INTO account (name) VALUES ('Paged') RETURNING id")[0][0]
    conn = psycopg2.connect(admin_dsn, options="-c search_path=switchboard")
    with conn, conn.cursor() as cur:
        for i in range(60):
            cur.execute("UPDATE account SET employees = %s WHERE id = %s", (i, acc))
    conn.close()
    configure(admin_dsn, "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("0")
        await settle(app, pilot)
        await pilot.press("a")
        await settle(app, pilot)
        screen = app.screen
        table = screen.query_one("#audit-table", DataTable)
        assert table.row_count == 50 and screen.audit_before is not None
        await pilot.press("m")
        await settle(app, pilot)
        assert table.row_count > 50
        await pilot.press("f")
        await settle(app, pilot)
        form = app.screen
        form.query_one("#field-since", Input).value = "yesterday"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "use YYYY-MM-DD" in str(form.query_one("#error-since").content)
        form.query_one("#field-since", Input).value = ""
        form.query_one("#field-actor", Input).value = "nobody_at_all"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        assert table.row_count == 0
        assert "actor=nobody_at_all" in str(screen.query_one("#audit-note").content)
