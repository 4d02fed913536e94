"""Activity detail: x marks the follow-up done and again undoes it, e edits it; both saved in
the database and shown at once (issue 9 part 12: neither had a test)."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Input

from db.connection import configure
from tests.activity_data import add_activities, seed
from tests.tui.test_log_activity import rows, settle
from tui.app import SwitchboardApp
from tui.screens.activity_detail import ActivityDetailScreen
from tui.screens.log_activity import LogActivityScreen


def shown(app) -> str:
    return " ".join(str(w.content) for w in app.screen.query("Static"))


async def test_done_undo_and_edit_from_the_detail(installer_dsn, admin_dsn):
    data = seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    (task,) = add_activities(installer_dsn, [
        {"kind": "task", "subject": "send quote", "occurred_at": data.now,
         "due_at": data.now + timedelta(days=1), "assignee_id": data.admin_id,
         "contact_id": data.contact_id, "account_id": data.root_id},
    ])  # fmt: skip
    state = f"SELECT completed_at IS NOT NULL, subject FROM activity WHERE id = {task}"
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        closed: list = []
        app.push_screen(ActivityDetailScreen(task), closed.append)
        await settle(app, pilot)
        assert "send quote" in shown(app) and "follow-up due tomorrow" in shown(app)
        await pilot.press("x")
        await settle(app, pilot)
        assert rows(installer_dsn, state) == [(True, "send quote")]
        assert "follow-up done" in shown(app)
        await pilot.press("x")  # again: open again
        await settle(app, pilot)
        assert rows(installer_dsn, state) == [(False, "send quote")]
        assert "follow-up due tomorrow" in shown(app)
        await pilot.press("e")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, LogActivityScreen)
        form.query_one("#subject", Input).value = "send the signed quote"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ActivityDetailScreen)
        assert rows(installer_dsn, state) == [(False, "send the signed quote")]
        assert "send the signed quote" in shown(app)
        await pilot.press("escape")
        await settle(app, pilot)
        assert closed and closed[0].subject == "send the signed quote"  # the list refreshes
