"""The one worker-error funnel (tui/app.py): a failing database call is a notice, never a crash,
and the screen stays usable (issue 9 part 12: the path had no test)."""

from __future__ import annotations

import pytest

from db.connection import configure
from db.errors import DatabaseUnavailable, SwitchboardError
from db.services import history
from tests.tui.waiting import wait_until
from tui.app import SwitchboardApp
from tui.screens.history import HistoryScreen


@pytest.mark.parametrize("error, notice, live", [
    (RuntimeError("boom \x1b]2;pwned\x07"), "RuntimeError: boom", True),
    (SwitchboardError("you may not see this"), "you may not see this", True),
    (DatabaseUnavailable("the database is not answering"), "not answering", False),
])  # fmt: skip
async def test_a_failing_worker_is_a_notice_not_a_crash(admin_dsn, monkeypatch, error, notice,
                                                        live):  # fmt: skip
    configure(admin_dsn, "switchboard")

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(history, "record_history", fail)
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.live is True
        app.push_screen(HistoryScreen("account", 1, "Volvo"))
        await wait_until(pilot, lambda: bool(app._notifications))
        texts = [n.message for n in app._notifications]
        assert any(notice in t for t in texts), texts
        assert all("\x1b" not in t for t in texts)  # cleaned like every other value
        assert app.is_running and isinstance(app.screen, HistoryScreen)
        assert app.live is live
        if not live:  # the hub probes the connection, finds it answers, and is live again
            await wait_until(pilot, lambda: app.live is True)
        await pilot.press("escape")  # still answers keys
        await pilot.pause()
        assert not isinstance(app.screen, HistoryScreen)


async def test_a_dialog_forwards_its_failing_worker_too(admin_dsn, monkeypatch):
    """Dialogs and forms run their own workers: a failure there is a notice as well (the
    mixin is on every screen with a worker, not only on BaseScreen)."""
    from db.services import activities
    from tui.screens.activity_prompts import UserPicker

    configure(admin_dsn, "switchboard")

    def fail(*args, **kwargs):
        raise SwitchboardError("the people list is not available")

    monkeypatch.setattr(activities, "assignable_users", fail)
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.push_screen(UserPicker())
        await wait_until(pilot, lambda: bool(app._notifications))
        assert any("people list is not available" in n.message for n in app._notifications)
        assert app.is_running and isinstance(app.screen, UserPicker)
