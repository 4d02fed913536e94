"""History screen: who changed what, old -> new, newest first, paged; the right person."""

from __future__ import annotations

import re

import psycopg2
from textual.widgets import DataTable

from db.connection import configure, database
from tests.tui.crm_helpers import screen_text
from tui.app import SwitchboardApp
from tui.screens.history import HistoryScreen


async def settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


def rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_history_shows_changes_newest_first_with_the_person(admin_dsn, installer_dsn):
    configure(admin_dsn, "switchboard")
    with database.connection_context():
        acc = database.execute_sql(
            "INSERT INTO account (name) VALUES ('Volvo [/] \x1b]2;pwn\x07') RETURNING id"
        ).fetchone()[0]
        for i in range(60):
            database.execute_sql("UPDATE account SET employees = %s WHERE id = %s", (i, acc))
    # a change by someone else (the installer) shows under their login
    conn = psycopg2.connect(installer_dsn)
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE switchboard.account SET industry = 'Cars' WHERE id = %s", (acc,))
    conn.close()
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.push_screen(HistoryScreen("account", acc, "Volvo [/]"))
        await settle(app, pilot)
        table = app.screen.query_one(DataTable)
        first = rows(table)
        assert len(first) == 50  # one page
        assert first[0][0].startswith("2026-") or first[0][0][:2] == "20"  # the whole time
        assert len(first[0][0]) == 16
        assert first[0][1] == "postgres" and first[0][2] == "changed Industry"
        assert first[0][3] == "— → Cars"
        assert first[1][1] == "Ada Admin" and first[1][3] == "58 → 59"
        await pilot.press("m")
        await settle(app, pilot)
        everything = rows(table)
        updates = [r for r in everything if r[2] == "changed Employees"]
        assert len(updates) == 60
        created = everything[everything.index(updates[-1]) + 1 :]
        assert created[0][2].startswith("created") and created[0][1] == "Ada Admin"
        name_row = next(r for r in created if r[2].strip().endswith("Name"))
        assert "\x1b" not in name_row[3] and "[/]" in name_row[3]
        assert "no older changes" in str(app.screen.query_one("#history-more").content)
        await pilot.press("escape")
        assert not isinstance(app.screen, HistoryScreen)


async def test_history_is_readable_at_80_columns_in_words(admin_dsn):
    """Columns as wide as their content (they were cut to the header: "2026 roo chan"), field
    labels, yes/no and names instead of ids, "—" for empty values."""
    configure(admin_dsn, "switchboard")
    with database.connection_context():
        team = database.execute_sql("INSERT INTO team (name) VALUES ('Nordics') RETURNING id"
                                    ).fetchone()[0]  # fmt: skip
        acc = database.execute_sql(
            "INSERT INTO account (name) VALUES ('Volvo') RETURNING id").fetchone()[0]
        database.execute_sql("UPDATE account SET team_id = %s, employees = 12 WHERE id = %s",
                             (team, acc))  # fmt: skip
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.push_screen(HistoryScreen("account", acc, "Volvo"))
        await settle(app, pilot)
        shown = screen_text(app)
        assert re.search(r"When {14}Who +What", shown)  # "When" as wide as a whole time
        assert re.search(r"20\d\d-\d\d-\d\d \d\d:\d\d  Ada Admin  changed Employees", shown)
        assert "— → Nordics" in shown  # the team's name, not team_id 2
        assert re.search(r"Owner +Ada Admin", shown)  # a person, not #1
        assert re.search(r"Custom fields +—", shown)  # not {}
        assert "team_id" not in shown and "{}" not in shown
        assert all(len(line) <= 80 for line in shown.splitlines())
        await pilot.resize_terminal(120, 30)
        await settle(app, pilot)
        assert "Ada Admin  changed Employees" in screen_text(app)
        assert max(len(line) for line in screen_text(app).splitlines()) == 120
