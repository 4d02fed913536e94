from tests.tui.crm_helpers import screen_text
from tui.app import SwitchboardApp

async def test_show(admin_dsn):
    from db.connection import configure
    configure(admin_dsn, "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete(); await pilot.pause()
        await pilot.press("question_mark"); await pilot.pause()
        print(screen_text(app))
        await pilot.press("escape"); await pilot.press("ctrl+p"); await pilot.pause()
        print(screen_text(app))
