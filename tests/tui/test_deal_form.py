"""The deal form at 80x24: a new deal by keyboard from the board (account found by typing),
errors beside their fields with nothing saved, editing, and the conflict dialog."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from db.connection import configure
from tests import fixtures_crm
from tests.records_data import run
from tests.tui.crm_helpers import screen_text, settle
from tests.tui.test_pipeline_board import open_board
from tests.tui.waiting import wait_until
from tui.app import SwitchboardApp
from tui.screens.conflict import ConflictModal
from tui.screens.deal_form import DealFormScreen
from tui.screens.pipeline_board import PipelineBoardScreen


@pytest.fixture
def crm(installer_dsn, admin_dsn):
    data = fixtures_crm.load(installer_dsn)
    configure(admin_dsn, "switchboard")
    return data


async def form_ready(app, pilot) -> DealFormScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, DealFormScreen) and app.screen.ready)
    return app.screen


async def test_new_deal_by_keyboard_from_the_board(crm, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_board(app, pilot)
        await pilot.press("right", "n")  # a new deal in Discover
        form = await form_ready(app, pilot)
        await pilot.press(*"IKE")
        await wait_until(pilot, lambda: not form.holds_moves and form.hits)
        await pilot.press("enter")  # the best match: IKEA
        assert "IKEA" in screen_text(app)
        await pilot.press(*"Store fit-out", "tab", *"abc")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "Not saved" in screen_text(app))
        assert "must be an amount, like 1250000.50" in screen_text(app)
        assert run(installer_dsn, "SELECT count(*) FROM opportunity WHERE name = "
                   "'Store fit-out'") == [(0,)]  # fmt: skip
        assert form.query_one("#f-name", Input).value == "Store fit-out"  # still there
        form.query_one("#f-amount", Input).value = ""
        form.query_one("#f-amount", Input).focus()
        await pilot.press(*"120000", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PipelineBoardScreen))
        await settle(app, pilot, rounds=1)
    assert run(installer_dsn, "SELECT a.name, s.name, o.probability, o.probability_manual, "
               "o.amount FROM opportunity o JOIN account a ON a.id = o.account_id JOIN stage s "
               "ON s.id = o.stage_id WHERE o.name = 'Store fit-out'") == [
        ("IKEA", "Discover", 25, False, 120000)]  # fmt: skip


async def test_edit_a_deal_and_its_probability(crm, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_board(app, pilot)
        assert view.card.name == "Service deal"
        await pilot.press("e")
        form = await form_ready(app, pilot)
        assert form.query_one("#f-name", Input).value == "Service deal"
        assert form.query_one("#f-probability", Input).value == ""  # the stage's
        form.query_one("#f-probability", Input).focus()
        await pilot.press(*"40")
        form.query_one("#f-next-step", Input).focus()
        await pilot.press(*"call Anna on Monday", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PipelineBoardScreen))
        await settle(app, pilot, rounds=1)
        await pilot.press("greater_than_sign")  # a typed probability stays on a move
        await wait_until(pilot, lambda: not app.screen.ops_running and not view.pending)
        await app.workers.wait_for_complete()
    assert run(installer_dsn, "SELECT s.name, o.probability, o.probability_manual, o.next_step "
               "FROM opportunity o JOIN stage s ON s.id = o.stage_id "
               "WHERE o.name = 'Service deal'") == [
        ("Discover", 40, True, "call Anna on Monday")]  # fmt: skip


async def test_same_field_conflict_opens_the_dialog(crm, installer_dsn):
    (deal_id,) = run(installer_dsn, "SELECT id FROM opportunity WHERE name = 'Trucks EU'")[0]
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, rounds=1)
        app.push_screen(DealFormScreen(deal_id))
        form = await form_ready(app, pilot)
        name = form.query_one("#f-name", Input)
        name.value = ""
        name.focus()
        await pilot.press(*"Trucks Europe")
        run(installer_dsn, "UPDATE opportunity SET name = 'Trucks EU+NA' WHERE id = %s",
            (deal_id,))  # fmt: skip
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConflictModal))
        text = screen_text(app)
        assert "Trucks Europe" in text and "Trucks EU+NA" in text
        await pilot.press("m", "enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, (ConflictModal, DealFormScreen)))
    assert run(installer_dsn, "SELECT name FROM opportunity WHERE id = %s", (deal_id,)) == [
        ("Trucks Europe",)]  # fmt: skip


async def test_lost_in_the_form_needs_the_reason(crm, installer_dsn):
    from textual.widgets import Select

    (deal_id,) = run(installer_dsn, "SELECT id FROM opportunity WHERE name = 'Trucks EU'")[0]
    (lost,) = run(installer_dsn, "SELECT id FROM stage WHERE name = 'Lost'")[0]
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, rounds=1)
        app.push_screen(DealFormScreen(deal_id))
        form = await form_ready(app, pilot)
        form.query_one("#f-stage-id", Select).value = lost
        form.query_one("#f-name", Input).focus()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "a lost deal needs a reason" in screen_text(app))
        assert run(installer_dsn, "SELECT is_closed FROM opportunity WHERE id = %s",
                   (deal_id,)) == [(False,)]  # fmt: skip
        form.query_one("#f-lost-reason", Input).focus()
        await pilot.press(*"No budget", "enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, DealFormScreen))
    assert run(
        installer_dsn,
        "SELECT is_closed, is_won, lost_reason, probability FROM opportunity WHERE id = %s",
        (deal_id,),
    ) == [(True, False, "No budget", 0)]
