"""The contact detail screen at 80x24, and hostile values through both screens."""

from __future__ import annotations

import pytest

from db.connection import configure
from tests import fixtures_crm, hostile
from tests.tui.crm_helpers import counting_queries, screen_text, settle
from tui.app import SwitchboardApp
from tui.screens.account_tree import AccountTreeScreen
from tui.screens.contact_detail import ContactDetailScreen
from tui.text import clean
from tui.widgets.account_tree import AccountTree


@pytest.fixture
def crm(installer_dsn, admin_dsn):
    data = fixtures_crm.load(installer_dsn)
    configure(admin_dsn, "switchboard")
    return data


async def open_contact(app, pilot, contact_id, siblings=None, index=0):
    await settle(app, pilot)
    await app.push_screen(ContactDetailScreen(contact_id, siblings, index))
    await settle(app, pilot)


async def test_shows_person_reach_relationships_activity_and_open_items(crm):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_contact(app, pilot, crm.contacts["Anna Lind"])
        text = screen_text(app)
        for expected in [
            "Anna Lind · CFO · Volvo Cars Sverige AB",
            "Volvo Group › Volvo Cars Sverige AB",
            "Decision maker · Finance",
            "Birthday 12 Mar · Spouse: Lars Lind",
            "Do not email: no · Do not call: no",
            "work    +46 31 590 00 00 ★",
            "mobile  +46 70 123 45 67",
            "anna.lind@volvocars.com ★",
            "has assistant  Maja Holm · Assistant",
            "reports to     Per Ek · CEO",
            "spouse of      Lars Lind · Teacher",
        ]:
            assert expected in text, expected
        assert "[1 of" not in text  # opened alone: no position
        await pilot.press("end")  # scroll the body: activity and open items
        app.screen.query_one("#contact-body").scroll_end(animate=False)
        await pilot.pause()
        text = screen_text(app)
        assert "call out reached 6m  budget approved for Q1" in text
        assert "deal Fleet renewal" in text and "400k" in text
        assert "invoice copy" in text and "waiting high" in text


async def test_a_refresh_is_a_fixed_number_of_queries(crm, monkeypatch):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        with counting_queries(monkeypatch) as q:
            await app.push_screen(ContactDetailScreen(crm.contacts["Anna Lind"]))
            await settle(app, pilot)
        assert q.count == 6


async def test_relationship_is_one_key_away_and_escape_returns(crm):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_contact(app, pilot, crm.contacts["Anna Lind"])
        first = app.screen
        await pilot.press("r", "down", "enter")  # the second relationship: reports to Per Ek
        await settle(app, pilot)
        assert app.screen is not first
        text = screen_text(app)
        assert "Per Ek · CEO · Volvo Cars Sverige AB" in text
        assert "manages        Anna Lind · CFO" in text
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is first
        assert "Anna Lind · CFO" in screen_text(app)


async def test_brackets_walk_the_list_and_stop_at_the_ends(crm):
    ids = [crm.contacts[n] for n in ("Erik Berg", "Per Ek", "Anna Lind")]
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_contact(app, pilot, ids[0], ids, 0)
        assert "[1 of 3]" in screen_text(app)
        assert "Do not email: [YES]" in screen_text(app)
        await pilot.press("left_square_bracket")  # at the start: nothing happens
        await settle(app, pilot)
        assert "Erik Berg · Buyer" in screen_text(app)
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert "Per Ek · CEO" in screen_text(app) and "[2 of 3]" in screen_text(app)
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert "Anna Lind · CFO" in screen_text(app) and "[3 of 3]" in screen_text(app)
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert "[3 of 3]" in screen_text(app)
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, AccountTreeScreen)


async def test_contact_without_account(crm):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_contact(app, pilot, crm.contacts["Lars Lind"])
        text = screen_text(app)
        assert "Lars Lind · Teacher" in text and "no account" in text
        assert "no phone or email" in text
        assert "spouse of      Anna Lind · CFO" in text


# --------------------------------------------------------------------------- hostile values


def shown(value: str, limit: int) -> str:
    return clean(value, limit=limit, single_line=True)


async def test_hostile_values_through_the_tree_and_the_detail(installer_dsn, admin_dsn):
    crm = fixtures_crm.load_hostile(installer_dsn, hostile.ALL)
    configure(admin_dsn, "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        tree = app.screen.query_one(AccountTree)
        await pilot.press("H", "enter")
        await settle(app, pilot)
        labels = [n.label.plain for n in tree.cursor_node.children]
        expected = sorted(hostile.ALL, key=lambda v: v.lower())
        assert len(labels) == len(hostile.ALL)
        for value in hostile.ALL:
            assert any(label.startswith(shown(value, 40) + "  ") for label in labels), value
        # walk every hostile account so each panel renders; nothing may crash
        for _ in expected:
            await pilot.press("j")
            await settle(app, pilot, rounds=1)
            svg = app.export_screenshot()
            assert "\x1b" not in svg and "\x9b" not in svg and "\u202e" not in svg
        text = screen_text(app)
        assert "\x1b" not in text
        for value in (hostile.MARKUP_CLOSE, hostile.MARKUP_STYLE, hostile.MARKUP_ACTION):
            await pilot.press("slash")
            box = app.screen.query_one("#account-filter")
            box.value = value[:6]
            await pilot.press("enter")
            await settle(app, pilot)
            assert shown(value, 40) in screen_text(app), value
        # a click on the [@click=app.quit] text runs nothing
        await pilot.click(AccountTree, offset=(4, 0))
        await pilot.pause()
        assert app.is_running

        # the detail screen of every hostile contact
        contact_ids = [crm.contacts[v] for v in hostile.ALL if v in crm.contacts]
        assert len(contact_ids) == len(hostile.ALL)
        await app.push_screen(ContactDetailScreen(contact_ids[0], contact_ids, 0))
        await settle(app, pilot)
        for value in hostile.ALL:
            text = screen_text(app)
            assert "\x1b" not in text and "\x1b" not in app.export_screenshot()
            header = app.screen.query_one("#contact-header").render()
            assert str(header).startswith(shown(value, 60)[:40]), value
            await pilot.press("right_square_bracket")
            await settle(app, pilot, rounds=1)
        assert app.is_running
