"""Log an activity by keyboard at 80x24: the quick call path, validation, cancel, edit."""

from __future__ import annotations

import contextlib

import psycopg2
import pytest
from textual.worker import WorkerCancelled

from db.connection import configure
from db.services.activities import Scope
from tests.activity_data import seed
from tests.hostile import MARKUP_CLOSE
from tui.app import SwitchboardApp
from tui.screens.activity_prompts import ConfirmDiscard
from tui.screens.log_activity import LogActivityScreen
from tui.screens.timeline import TimelineScreen


@pytest.fixture
def data(installer_dsn, admin_dsn):
    s = seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    return s


def rows(installer_dsn: str, sql: str) -> list[tuple]:
    conn = psycopg2.connect(installer_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SET search_path = switchboard; {sql}")
            return cur.fetchall()
    finally:
        conn.close()


async def settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_quick_call_is_three_keys_plus_text(data, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(TimelineScreen(Scope("contact", data.contact_id)))
        await settle(app, pilot)
        await pilot.press("l")  # 1: open the form
        assert isinstance(app.screen, LogActivityScreen)
        await pilot.press("c")  # 2: kind call, the cursor is in the notes
        await pilot.press(*"budget ok")
        await pilot.press("ctrl+s")  # 3: save
        await settle(app, pilot)
        assert isinstance(app.screen, TimelineScreen)
        await settle(app, pilot)
        shown = app.screen.query_one("#timeline").render_line(1).text
        assert "budget ok" in shown and "call" in shown
    stored = rows(installer_dsn, "SELECT kind, body, contact_id, account_id FROM activity")
    assert stored == [("call", "budget ok", data.contact_id, data.root_id)]


async def test_bad_fields_show_beside_the_field_and_nothing_is_saved(data, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(LogActivityScreen(account_id=data.root_id))
        await settle(app, pilot)
        await pilot.press("n", *"x")
        app.screen.query_one("#duration").value = "a while"
        app.screen.query_one("#due").value = "blue moon"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, LogActivityScreen)
        duration_error = str(screen.query_one("#error-duration").content)
        assert "duration" in duration_error and "minutes" in duration_error
        assert "due" in str(screen.query_one("#error-due_at").content)
        assert screen.query_one("#error-duration").display
        assert not screen.query_one("#error-subject").display
        assert app.focused is screen.query_one("#duration")
    assert rows(installer_dsn, "SELECT count(*) FROM activity") == [(0,)]


async def test_follow_up_for_another_user_is_saved(data, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(LogActivityScreen(contact_id=data.contact_id, about="Anna"))
        await settle(app, pilot)
        await pilot.press("t", *"send the quote")
        screen = app.screen
        screen.query_one("#subject").value = MARKUP_CLOSE
        screen.query_one("#due").value = "tomorrow"
        screen.query_one("#assignee").value = data.rita_id
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert not isinstance(app.screen, LogActivityScreen)
    stored = rows(installer_dsn, "SELECT kind, subject, assignee_id, due_at::date - "
                  "current_date FROM activity")  # fmt: skip
    assert stored == [("task", MARKUP_CLOSE, data.rita_id, 1)]


async def test_escape_with_changes_asks_first(data, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(LogActivityScreen(account_id=data.root_id))
        await settle(app, pilot)
        await pilot.press("escape")  # nothing typed: closes at once
        assert not isinstance(app.screen, LogActivityScreen)
        await app.push_screen(LogActivityScreen(account_id=data.root_id))
        await settle(app, pilot)
        await pilot.press("c", *"half a thought", "escape")
        assert isinstance(app.screen, ConfirmDiscard)
        await pilot.press("n")
        assert isinstance(app.screen, LogActivityScreen)
        assert app.screen.query_one("#body").text == "half a thought"
        await pilot.press("escape", "y")
        assert not isinstance(app.screen, LogActivityScreen)
    assert rows(installer_dsn, "SELECT count(*) FROM activity") == [(0,)]


async def test_double_save_stores_once(data, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = LogActivityScreen(account_id=data.root_id)
        await app.push_screen(screen)
        await settle(app, pilot)
        await pilot.press("n", *"once")
        values = screen._values()
        screen.save(values)  # a retried save (same form, same client UUID)
        screen.save(values)
        with contextlib.suppress(WorkerCancelled):  # exclusive: the first one is cancelled
            await settle(app, pilot)
        await settle(app, pilot)
    assert rows(installer_dsn, "SELECT count(*) FROM activity") == [(1,)]
