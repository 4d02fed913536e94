"""Timeline screen at 80x24: day groups, paging on scroll, filter, sub-accounts, done, open."""

from __future__ import annotations

from datetime import timedelta

import pytest

from db.connection import configure
from db.services.activities import Scope
from tests.activity_data import add_activities, bulk, seed
from tests.hostile import MARKUP_ACTION, OSC_TITLE
from tests.tui.test_log_activity import rows, settle
from tests.tui.waiting import wait_until
from tui.app import SwitchboardApp
from tui.screens.activity_detail import ActivityDetailScreen
from tui.screens.timeline import TimelineScreen, open_timeline
from tui.screens.timeline_filter import TimelineFilterScreen
from tui.widgets.record_list import Header, RecordList


@pytest.fixture
def data(installer_dsn, admin_dsn):
    s = seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    return s


def screen_text(app) -> str:
    listing = app.screen.query_one(RecordList)
    return "\n".join(listing.render_line(y).text for y in range(listing.size.height))


async def test_scrolling_loads_the_next_page_without_duplicates(data, installer_dsn):
    bulk(installer_dsn, data.root_id, 130, data.now, data.rita_id, contact_id=data.contact_id,
         step_minutes=60)  # fmt: skip
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(TimelineScreen(Scope("contact", data.contact_id)))
        await settle(app, pilot)
        listing = app.screen.query_one(RecordList)
        assert len(listing.items) == 50
        assert isinstance(listing.rows[0], Header)
        assert "call 0" in screen_text(app)
        for _ in range(4):
            await pilot.press("pagedown")
            await settle(app, pilot)
        assert len(listing.items) == 100
        await pilot.press("end")
        await settle(app, pilot)
        await pilot.press("end")
        await settle(app, pilot)
        ids = [a.id for a in listing.items]
        assert len(ids) == len(set(ids)) == 130
        assert "end of timeline" in str(app.screen.query_one("#timeline-status").content)
        headers = [r for r in listing.rows if isinstance(r, Header)]
        assert 5 <= len(headers) <= 7  # 130 hours = six or so days, one header each


async def test_filter_by_kind(data, installer_dsn):
    t = data.now
    add_activities(installer_dsn, [
        {"kind": "call", "subject": "a call", "occurred_at": t, "account_id": data.root_id},
        {"kind": "email", "subject": "an email", "occurred_at": t - timedelta(minutes=5),
         "account_id": data.root_id},
    ])  # fmt: skip
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(TimelineScreen(Scope("account", data.root_id)))
        await settle(app, pilot)
        assert "an email" in screen_text(app)
        await pilot.press("f")
        assert isinstance(app.screen, TimelineFilterScreen)
        await pilot.press("down", "space", "ctrl+s")  # email is the second kind
        await settle(app, pilot)
        text = screen_text(app)
        assert "an email" in text and "a call" not in text
        assert "kind: email" in str(app.screen.query_one("#timeline-title").content)


async def test_sub_accounts_toggle_and_hostile_text(data, installer_dsn):
    t = data.now
    add_activities(installer_dsn, [
        {"kind": "note", "subject": MARKUP_ACTION, "occurred_at": t,
         "account_id": data.grandchild_id},
        {"kind": "call", "subject": OSC_TITLE, "occurred_at": t - timedelta(minutes=1),
         "account_id": data.root_id},
    ])  # fmt: skip
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(TimelineScreen(Scope("account", data.root_id)))
        await settle(app, pilot)
        text = screen_text(app)
        assert "[@click=app.quit]Click me[/]" not in text and "\x1b" not in text
        assert "A\ufffd]2;PWNED" in text
        assert len(app.screen.query_one(RecordList).items) == 1
        await pilot.press("s")
        await settle(app, pilot)
        assert len(app.screen.query_one(RecordList).items) == 2
        assert "[@click=app.quit]Click me[/]" in screen_text(app)  # literally, as text
        assert "sub-accounts" in str(app.screen.query_one("#timeline-title").content)


async def test_x_marks_a_task_done_and_enter_opens_it(data, installer_dsn):
    t = data.now
    (task_id,) = add_activities(installer_dsn, [
        {"kind": "task", "subject": "send quote", "body": "line one\nline two",
         "occurred_at": t, "due_at": t + timedelta(days=1), "assignee_id": data.admin_id,
         "contact_id": data.contact_id, "account_id": data.root_id},
    ])  # fmt: skip
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(TimelineScreen(Scope("contact", data.contact_id)))
        await settle(app, pilot)
        assert "task ☐" in screen_text(app)
        await pilot.press("x")
        await settle(app, pilot)
        assert "task ☑" in screen_text(app) and "done" in screen_text(app)
        assert rows(installer_dsn, f"SELECT completed_at IS NOT NULL, version FROM activity "
                    f"WHERE id = {task_id}") == [(True, 2)]  # fmt: skip
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ActivityDetailScreen)
        assert "line two" in str(app.screen.query_one("#detail-body").content)
        await pilot.press("escape")
        assert isinstance(app.screen, TimelineScreen)


async def test_open_timeline_pushes_the_screen_filled(data, installer_dsn):
    """The `t` path: the first page is fetched, then the screen opens with it (one frame)."""
    add_activities(installer_dsn, [
        {"kind": "call", "subject": "first call", "occurred_at": data.now,
         "account_id": data.child_ids[0]},
    ])  # fmt: skip
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        open_timeline(app.screen, Scope("account_tree", data.root_id), "Volvo Group")
        await settle(app, pilot)
        assert isinstance(app.screen, TimelineScreen)
        assert [a.subject for a in app.screen.query_one(RecordList).items] == ["first call"]
        assert "Volvo Group" in str(app.screen.query_one("#timeline-title").content)
        await pilot.press("escape")
        await settle(app, pilot)
        assert not isinstance(app.screen, TimelineScreen)


async def test_a_slow_first_page_opens_the_screen_loading(data, installer_dsn, monkeypatch):
    """A page slower than PREFETCH_WAIT: the screen opens at once and loads the page itself.

    The page is held back until the screen has opened (an event, not a sleep), so the order
    is certain whatever the machine's load."""
    import threading

    from db.services import activities

    add_activities(installer_dsn, [
        {"kind": "note", "subject": "slow note", "occurred_at": data.now,
         "contact_id": data.contact_id},
    ])  # fmt: skip
    real = activities.timeline
    release = threading.Event()

    def slow(*args, **kwargs):
        assert release.wait(20), "the test never released the page"
        return real(*args, **kwargs)

    monkeypatch.setattr(activities, "timeline", slow)
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        open_timeline(app.screen, Scope("contact", data.contact_id), "Anna Lind")
        await wait_until(pilot, lambda: isinstance(app.screen, TimelineScreen))
        await wait_until(pilot, lambda: "Loading" in screen_text(app))  # opened before the page
        assert app.screen.query_one(RecordList).rows == []
        release.set()
        await settle(app, pilot)
        await wait_until(pilot, lambda: bool(app.screen.query_one(RecordList).items))
        await settle(app, pilot)
        assert [a.subject for a in app.screen.query_one(RecordList).items] == ["slow note"]
        assert len(app.screen_stack) == 2  # the late prefetch did not open a second one
