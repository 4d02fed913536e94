"""Deals open from the account tree's panel and from the contact detail (`o`), by keyboard."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from db.connection import configure
from tests import fixtures_crm
from tests.records_data import run
from tests.tui.crm_helpers import screen_text, settle
from tests.tui.waiting import wait_until
from tui.app import SwitchboardApp
from tui.screens.contact_detail import ContactDetailScreen
from tui.screens.deal_form import DealFormScreen
from tui.screens.deal_list import DealListModal


@pytest.fixture
def crm(installer_dsn, admin_dsn):
    data = fixtures_crm.load(installer_dsn)
    configure(admin_dsn, "switchboard")
    return data


async def test_deals_of_an_account_open_from_the_tree(crm, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("V", "enter")  # Volvo Group, expand
        await settle(app, pilot)
        await pilot.press("j")  # Volvo Cars Sverige AB
        await settle(app, pilot)
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, DealListModal) and app.screen.deals)
        text = screen_text(app)
        assert "Fleet renewal" in text and "Service deal" in text and "Old deal" not in text
        await pilot.press("n")  # a new deal for Volvo Cars
        await wait_until(pilot, lambda: isinstance(app.screen, DealFormScreen) and app.screen.ready)
        assert "Volvo Cars Sverige AB" in screen_text(app)
        await pilot.press(*"Charging stations", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DealListModal))
        await wait_until(pilot, lambda: len(app.screen.deals) == 3)
        await pilot.press("escape")
    assert run(
        installer_dsn,
        "SELECT a.name, s.name FROM opportunity o JOIN account a ON "
        "a.id = o.account_id JOIN stage s ON s.id = o.stage_id "
        "WHERE o.name = 'Charging stations'",
    ) == [("Volvo Cars Sverige AB", "Qualify")]


async def test_deals_open_from_the_contact_detail(crm, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.push_screen(ContactDetailScreen(crm.contacts["Anna Lind"]))
        await settle(app, pilot)
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, DealListModal) and app.screen.deals)
        assert "Fleet renewal" in screen_text(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DealFormScreen) and app.screen.ready)
        assert app.screen.query_one("#f-name", Input).value == "Fleet renewal"
        assert "Volvo Cars Sverige AB" in screen_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, DealListModal))
        await pilot.press("n")  # a new deal: Anna's account, Anna as primary contact
        await wait_until(pilot, lambda: isinstance(app.screen, DealFormScreen) and app.screen.ready)
        await pilot.press(*"Fleet service", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DealListModal))
    assert run(
        installer_dsn,
        "SELECT c.first_name, a.name FROM opportunity o "
        "JOIN contact c ON c.id = o.primary_contact_id JOIN account a ON a.id = o.account_id"
        " WHERE o.name = 'Fleet service'",
    ) == [("Anna", "Volvo Cars Sverige AB")]
