"""Login screen: asks for the user name first, never shows the password."""

from __future__ import annotations

from textual.widgets import Input

from tests.tui.crm_helpers import screen_text
from tui.app import SwitchboardApp
from tui.screens.login import LoginRequest, LoginScreen


async def test_login_needs_a_user_name_and_never_shows_the_password(pg, db_name):
    request = LoginRequest(pg.tcp_dsn(db_name, "", ""), "switchboard", "a password is needed")
    app = SwitchboardApp(login=request)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LoginScreen)
        assert app.focused is screen.query_one("#login-user", Input)
        assert "a password is needed" in str(screen.query_one("#login-error").content)
        await pilot.press(*"someone")  # typed, shown: the check below can see typed text
        await pilot.press("tab", *"sekrit-value")  # typed, never shown
        await pilot.pause()
        assert screen.query_one("#login-password", Input).value == "sekrit-value"
        shown = screen_text(app)
        assert "someone" in shown
        assert "sekrit" not in shown and "•" * 12 in shown
        await pilot.press("shift+tab", *["backspace"] * 7)
        await pilot.press("tab", "enter")  # no user name: refused before any connection
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "User name: give your user name" in str(screen.query_one("#login-error").content)
        assert "sekrit" not in screen_text(app)
        assert screen.query_one("#login-password", Input).value == ""
        assert app.me is None
