"""The app shell: header with the person and connection state, help, quit, NO_COLOR."""

from __future__ import annotations

from db.connection import configure
from tui.app import SwitchboardApp
from tui.screens.help import HelpScreen
from tui.widgets.status_bar import StatusBar


async def test_header_names_the_person_and_says_live(admin_dsn):
    configure(admin_dsn, "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        bar = app.screen.query_one(StatusBar)
        assert "Ada Admin (admin)" in bar.who
        assert bar.state == "● live"
        line = "".join(s.text for s in bar.render_line(0))
        assert "Switchboard · Ada Admin (admin)" in line and "● live" in line


async def test_help_lists_the_keys_and_closes_with_escape(admin_dsn):
    configure(admin_dsn, "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = " ".join(str(s.content) for s in app.screen.query("Static"))
        assert "^q" in text and "Quit" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_no_color_uses_the_monochrome_theme(admin_dsn, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    configure(admin_dsn, "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)):
        assert app.theme == "switchboard-mono"  # ansi-dark with reverse-video cursors


async def test_number_keys_switch_screens(admin_dsn):
    from tui.screens.account_tree import AccountTreeScreen
    from tui.screens.my_day import MyDayScreen
    from tui.screens.trash import TrashScreen

    configure(admin_dsn, "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("3")
        assert isinstance(app.screen, MyDayScreen)
        await pilot.press("9")
        assert isinstance(app.screen, TrashScreen)
        await pilot.press("1")
        assert isinstance(app.screen, AccountTreeScreen)


async def test_screen_option_opens_on_that_screen(admin_dsn):
    from tui.screens.my_day import MyDayScreen

    configure(admin_dsn, "switchboard")
    app = SwitchboardApp(start_screen="my_day")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, MyDayScreen)


async def test_ctrl_q_quits_from_a_screen_and_from_inside_a_dialog(admin_dsn):
    configure(admin_dsn, "switchboard")
    for keys in (["ctrl+q"], ["question_mark", "ctrl+q"]):  # the help dialog on top
        app = SwitchboardApp()
        async with app.run_test(size=(80, 24)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.is_running
            await pilot.press(*keys)
            await pilot.pause()
            assert not app.is_running
        assert app.return_code == 0
