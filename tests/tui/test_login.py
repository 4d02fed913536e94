"""Login screen: asks for the user name first, never shows the password."""

from __future__ import annotations

from textual.widgets import Input

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
        screen.query_one("#login-password", Input).value = "sekrit-value"
        await pilot.press("tab")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "User name: give your user name" in str(screen.query_one("#login-error").content)
        texts = " ".join(str(w.render()) for w in screen.query("*"))
        assert "sekrit" not in texts
        assert screen.query_one("#login-password", Input).value == ""
        assert app.me is None
