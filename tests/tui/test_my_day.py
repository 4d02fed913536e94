"""My day at 80x24: overdue first and marked in words; done, reschedule, reassign by key."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from db.connection import configure
from db.services.activities import local_midnight
from tests.activity_data import add_activities, seed
from tests.tui.test_log_activity import rows, settle
from tui.app import SwitchboardApp
from tui.screens.activity_prompts import DuePrompt, UserPicker
from tui.screens.my_day import MyDayScreen
from tui.widgets.record_list import RecordList


@pytest.fixture
def data(installer_dsn, admin_dsn):
    s = seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    today = date.today()
    back = local_midnight(today - timedelta(days=5))
    s.ids = dict(zip(["late", "today", "later"], add_activities(installer_dsn, [
        {"kind": "call", "subject": "call back Anna", "occurred_at": back,
         "due_at": local_midnight(today - timedelta(days=1)), "assignee_id": s.admin_id,
         "contact_id": s.contact_id},
        {"kind": "task", "subject": "send quote", "occurred_at": back,
         "due_at": local_midnight(today) + timedelta(hours=15), "assignee_id": s.admin_id},
        {"kind": "task", "subject": "next week", "occurred_at": back,
         "due_at": local_midnight(today + timedelta(days=7)), "assignee_id": s.admin_id},
    ]), strict=True))  # fmt: skip
    return s


def lines(app) -> list[str]:
    listing = app.screen.query_one(RecordList)
    return [listing.render_line(y).text for y in range(listing.size.height)]


async def test_my_day_mode_overdue_first_in_words(data):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.switch_mode("my_day")  # key 3 where the screen does not bind 3 itself
        await settle(app, pilot)
        assert isinstance(app.screen, MyDayScreen)
        text = lines(app)
        assert text[0].startswith("── Overdue (1)")
        assert "call back Anna" in text[1] and "overdue" in text[1]
        assert text[2].startswith("── Due today (1)")
        assert "send quote" in text[3] and "overdue" not in text[3]
        assert "next week" not in "\n".join(text)


async def test_done_reschedule_reassign(data, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.switch_mode("my_day")  # key 3 where the screen does not bind 3 itself
        await settle(app, pilot)
        await pilot.press("x")  # the overdue call is highlighted first
        await settle(app, pilot)
        assert rows(installer_dsn, "SELECT completed_at IS NOT NULL FROM activity "
                    f"WHERE id = {data.ids['late']}") == [(True,)]  # fmt: skip
        assert "call back Anna" not in "\n".join(lines(app))
        await pilot.press("r")
        assert isinstance(app.screen, DuePrompt)
        await pilot.press(*"yesterday", "enter")
        assert "past" in str(app.screen.query_one("#due-error").content)
        app.screen.query_one("#due-input").value = ""
        await pilot.press(*"+2", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, MyDayScreen)
        assert rows(installer_dsn, "SELECT due_at::date - current_date FROM activity "
                    f"WHERE id = {data.ids['today']}") == [(2,)]  # fmt: skip
        assert "Nothing due today" in lines(app)[0]


async def test_reassign_by_key(data, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.switch_mode("my_day")  # key 3 where the screen does not bind 3 itself
        await settle(app, pilot)
        await pilot.press("down")  # the task due today
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, UserPicker)
        options = app.screen.query_one("OptionList")
        names = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        await pilot.press(*["down"] * names.index("Rita Rep (rita)"), "enter")
        await settle(app, pilot)
        assert rows(installer_dsn, "SELECT a.subject FROM activity a JOIN app_user u "
                    "ON u.id = a.assignee_id WHERE u.username = 'rita'") == [("send quote",)]
        assert "send quote" not in "\n".join(lines(app))
