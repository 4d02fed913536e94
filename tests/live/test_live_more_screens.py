"""The other screens that show records follow changes too, with no key pressed: contact
detail, history, trash and admin (issue 11 part 1)."""

from __future__ import annotations

import pytest

from db.connection import configure
from tests.live.test_live_screens import live_app, visible_within
from tests.security.conftest import SCHEMA
from tests.tui.crm_helpers import screen_text
from tests.tui.waiting import wait_until
from tui.app import SwitchboardApp
from tui.screens.contact_detail import ContactDetailScreen
from tui.screens.history import HistoryScreen


@pytest.fixture
def as_rita(world, pg, db_name):
    configure(pg.dsn(db_name, user=world.users["rita"]), SCHEMA)
    return world


@pytest.fixture
def as_admin(world, pg, db_name):
    configure(pg.dsn(db_name, user="sb_admin"), SCHEMA)
    return world


async def test_contact_detail_and_history_follow(as_rita):
    w = as_rita
    admin = w.connect("admin")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await live_app(pilot, app)
        app.push_screen(ContactDetailScreen(w.ids["con_rita"]))
        await wait_until(pilot, lambda: "Secret-rita" in screen_text(app))
        admin.cursor().execute("UPDATE contact SET job_title = 'Head of Fleet' WHERE id = %s",
                               (w.ids["con_rita"],))  # fmt: skip
        assert await visible_within(pilot, app, "Head of Fleet", 1.0) < 1.0
        admin.cursor().execute(
            "INSERT INTO contact_email (contact_id, email) VALUES (%s, 'anna@fleet.example')",
            (w.ids["con_rita"],),
        )
        assert await visible_within(pilot, app, "anna@fleet.example", 1.0) < 1.0
        await pilot.press("escape")
        app.push_screen(HistoryScreen("account", w.ids["acc_rita"], "Acme of rita"))
        await wait_until(pilot, lambda: "changes ·" in screen_text(app))
        before = screen_text(app)
        admin.cursor().execute("UPDATE account SET city = 'Kiruna' WHERE id = %s",
                               (w.ids["acc_rita"],))  # fmt: skip
        assert await visible_within(pilot, app, "Kiruna", 1.0) < 1.0
        assert screen_text(app) != before


async def test_trash_and_admin_follow(as_admin):
    w = as_admin
    other = w.connect("mona")
    app = SwitchboardApp(start_screen="trash")
    async with app.run_test(size=(80, 24)) as pilot:
        await live_app(pilot, app)
        assert "Acme of mona" not in screen_text(app)
        other.cursor().execute("UPDATE account SET deleted_at = now() WHERE id = %s",
                               (w.ids["acc_mona"],))  # fmt: skip
        assert await visible_within(pilot, app, "Acme of mona", 1.0) < 1.0
        await pilot.press("0")  # admin: the people
        await wait_until(pilot, lambda: "Mona" in screen_text(app))
        w.connect("admin").cursor().execute(
            "SELECT switchboard_admin_api.create_user(%s, 'Zed Newcomer', 'rep', NULL, NULL, "
            "NULL)", (f"zed_{w.users['mona']}",),
        )  # fmt: skip
        assert await visible_within(pilot, app, "Zed Newcomer", 1.0) < 1.0
