"""Admin › Stages by keyboard: edit a stage's probability, rotting period and exit criteria,
add a stage, reorder it, add a pipeline; errors name the field; the database holds the result."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from db.connection import configure
from tests.records_data import run
from tests.tui.crm_helpers import screen_text, settle
from tests.tui.waiting import wait_until
from tui.app import SwitchboardApp
from tui.screens.admin_form import AdminForm
from tui.screens.admin_stages import StagesScreen


@pytest.fixture
def admin(admin_dsn):
    configure(admin_dsn, "switchboard")


def stage_rows(dsn: str) -> list[tuple]:
    return run(dsn, "SELECT name, position, probability, rotting_days, exit_criteria FROM stage "
               "WHERE deleted_at IS NULL AND pipeline_id = (SELECT id FROM pipeline "
               "WHERE name = 'Sales') ORDER BY position")  # fmt: skip


async def test_stages_edited_by_keyboard(admin, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, rounds=1)
        await pilot.press("0")
        await settle(app, pilot, rounds=1)
        await pilot.press("k")
        await wait_until(pilot, lambda: isinstance(app.screen, StagesScreen) and app.screen.stages)
        assert "Qualify" in screen_text(app) and "14d" in screen_text(app)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, AdminForm))
        form = app.screen
        form.query_one("#field-probability", Input).value = "250"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "Default probability %: must be a whole number" in
                         screen_text(app))  # fmt: skip
        form.query_one("#field-probability", Input).value = "15"
        form.query_one("#field-rotting_days", Input).value = "9"
        form.query_one("#field-exit_criteria", Input).value = "BANT confirmed in writing"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, StagesScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, AdminForm))
        await pilot.press(*"Trial", "tab", *"60", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, StagesScreen))
        await wait_until(pilot, lambda: len(app.screen.stages) == 7)
        await pilot.press("down", "down", "down", "down", "left_square_bracket")  # Trial earlier
        await wait_until(pilot, lambda: app.screen.stages[3].name == "Trial")
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, AdminForm))
        await pilot.press(*"Partners", "enter")
        await wait_until(pilot, lambda: "pipeline Partners" in screen_text(app))
    assert stage_rows(installer_dsn) == [
        ("Qualify", 1, 15, 9, "BANT confirmed in writing"),
        ("Discover", 2, 25, 21, "Pain and decision process documented"),
        ("Proposal", 3, 50, 14, "Proposal sent to the decision maker"),
        ("Trial", 4, 60, None, None),
        ("Negotiate", 5, 75, 10, "Terms agreed in principle"),
        ("Won", 6, 100, None, "Contract signed"),
        ("Lost", 7, 0, None, "Lost reason recorded"),
    ]
    assert run(installer_dsn, "SELECT count(*) FROM stage s JOIN pipeline p ON p.id = "
               "s.pipeline_id WHERE p.name = 'Partners'") == [(3,)]  # fmt: skip
