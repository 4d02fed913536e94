"""History screen: who changed what, old -> new, newest first, paged; the right person."""

from __future__ import annotations

import psycopg2
from textual.widgets import DataTable

from db.connection import configure, database
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
        assert first[0][1] == "postgres" and first[0][2] == "changed industry"
        assert first[0][3] == "— → Cars"
        assert first[1][1] == "Ada Admin" and first[1][3] == "58 → 59"
        await pilot.press("m")
        await settle(app, pilot)
        everything = rows(table)
        updates = [r for r in everything if r[2] == "changed employees"]
        assert len(updates) == 60
        created = everything[everything.index(updates[-1]) + 1 :]
        assert created[0][2].startswith("created") and created[0][1] == "Ada Admin"
        name_row = next(r for r in created if r[2].strip().endswith("name"))
        assert "\x1b" not in name_row[3] and "[/]" in name_row[3]
        assert "no older changes" in str(app.screen.query_one("#history-more").content)
        await pilot.press("escape")
        assert not isinstance(app.screen, HistoryScreen)
