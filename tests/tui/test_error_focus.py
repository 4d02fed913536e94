"""After a failed save the cursor goes to the first error on the screen, not the first one
validation found (issue 9 part 8, QA case 32: Employees was focused before SIC code)."""

from __future__ import annotations

from textual.widgets import Input

from db.connection import configure
from tests.records_data import seed
from tui.app import SwitchboardApp
from tui.screens.account_form import AccountFormScreen
from tui.screens.contact_form import ContactFormScreen


async def settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_the_first_error_on_screen_gets_the_cursor(installer_dsn, admin_dsn):
    seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(AccountFormScreen())
        await settle(app, pilot)
        form = app.screen
        form.query_one("#f-name", Input).value = "Focus Test AB"
        form.query_one("#f-employees", Input).value = "-5"
        form.query_one("#f-sic-code", Input).value = "12ab"  # above Employees on screen
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.focused is form.query_one("#f-sic-code", Input)

        app.pop_screen()
        app.push_screen(ContactFormScreen())
        await settle(app, pilot)
        form = app.screen
        form.query_one("#f-last-name", Input).value = "Lind"
        form.query_one("#f-birthday", Input).value = "2026-02-30"
        form.query_one("#phones-value-0", Input).value = "+46 70 CALLNOW"  # above Birthday
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.focused is form.query_one("#phones-value-0", Input)
