from db.connection import configure, database
from tests.tui.crm_helpers import screen_text
from tui.app import SwitchboardApp
from tui.screens.history import HistoryScreen

async def test_show(admin_dsn):
    configure(admin_dsn, "switchboard")
    with database.connection_context():
        acc = database.execute_sql("INSERT INTO account (name) VALUES ('Volvo') RETURNING id").fetchone()[0]
        database.execute_sql("UPDATE account SET employees = 5, industry='Cars', description='A long description of the company that will need wrapping across lines' WHERE id = %s", (acc,))
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete(); await pilot.pause()
        app.push_screen(HistoryScreen("account", acc, "Volvo"))
        await app.workers.wait_for_complete(); await pilot.pause()
        print(screen_text(app))
        await pilot.resize_terminal(120, 30); await pilot.pause(); await pilot.pause()
        print(screen_text(app))
