"""Two people edit the same contact: disjoint fields merge silently; the same field opens the
conflict dialog, and both choices end with the chosen value and no lost text. Also the trash
screen (restore, purge) by keyboard."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input

from db.connection import configure
from tests.records_data import run, seed
from tui.app import SwitchboardApp
from tui.screens.confirm import ConfirmModal
from tui.screens.conflict import ConflictModal
from tui.screens.contact_form import ContactFormScreen
from tui.screens.trash import TrashScreen


@pytest.fixture
def data(installer_dsn, admin_dsn):
    s = seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    return s


async def settle(app, pilot) -> None:
    for _ in range(2):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def edit_with_interference(app, pilot, data, admin_dsn, results):
    """Open Anna, type a job title and a note; meanwhile someone else sets title and city."""
    app.push_screen(ContactFormScreen(contact_id=data.anna), results.append)
    await settle(app, pilot)
    app.screen.query_one("#f-job-title", Input).focus()
    await pilot.press(*"Chief Financial Officer")
    app.screen.query_one("#f-interests", Input).focus()
    await pilot.press(*"sailing")
    run(admin_dsn, "UPDATE contact SET job_title = 'CEO', city = 'Oslo' WHERE id = %s",
        (data.anna,))  # fmt: skip
    await pilot.press("enter")
    await settle(app, pilot)


async def test_disjoint_changes_merge_without_a_dialog(data, admin_dsn):
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ContactFormScreen(contact_id=data.anna), results.append)
        await settle(app, pilot)
        app.screen.query_one("#f-interests", Input).focus()
        await pilot.press(*"jazz")
        run(admin_dsn, "UPDATE contact SET city = 'Oslo' WHERE id = %s", (data.anna,))
        await pilot.press("enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, ConflictModal)
    assert results[0].action == "saved"
    assert run(admin_dsn, "SELECT interests, city FROM contact WHERE id = %s", (data.anna,)) == [
        ("jazz", "Oslo")
    ]


async def test_conflict_keep_mine(data, admin_dsn):
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        await edit_with_interference(app, pilot, data, admin_dsn, results)
        assert isinstance(app.screen, ConflictModal)
        text = str(app.screen.query_one("#conflict-job-title").render())
        assert "Chief Financial Officer" in text and "CEO" in text and "original  —" in text
        await pilot.press("m", "enter")
        await settle(app, pilot)
    assert results and results[0].action == "saved"
    assert run(admin_dsn, "SELECT job_title, city, interests FROM contact WHERE id = %s",
               (data.anna,)) == [("Chief Financial Officer", "Oslo", "sailing")]  # fmt: skip


async def test_conflict_take_theirs_keeps_my_other_text(data, admin_dsn):
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        await edit_with_interference(app, pilot, data, admin_dsn, results)
        assert isinstance(app.screen, ConflictModal)
        await pilot.press("t", "enter")
        await settle(app, pilot)
    assert results and results[0].action == "saved"
    assert run(admin_dsn, "SELECT job_title, city, interests FROM contact WHERE id = %s",
               (data.anna,)) == [("CEO", "Oslo", "sailing")]  # fmt: skip


async def test_escape_from_the_conflict_keeps_everything_typed(data, admin_dsn):
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        await edit_with_interference(app, pilot, data, admin_dsn, results)
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, ContactFormScreen)
        assert app.screen.query_one("#f-job-title", Input).value == "Chief Financial Officer"
        assert app.screen.query_one("#f-interests", Input).value == "sailing"
    assert run(admin_dsn, "SELECT job_title, interests FROM contact WHERE id = %s",
               (data.anna,)) == [("CEO", None)]  # fmt: skip


async def test_trash_screen_restores_and_purges_by_keyboard(data, admin_dsn, installer_dsn):
    run(admin_dsn, "UPDATE contact SET deleted_at = now() - interval '1 day' WHERE id = %s",
        (data.per,))  # fmt: skip
    run(admin_dsn, "UPDATE contact SET deleted_at = now() WHERE id = %s", (data.lars,))
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.push_screen(TrashScreen())
        await settle(app, pilot)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 2
        await pilot.press("r")  # the newest first: Lars
        await settle(app, pilot)
        assert app.screen.query_one(DataTable).row_count == 1
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(app, pilot)
        assert app.screen.query_one(DataTable).row_count == 0
    assert run(installer_dsn, "SELECT id, deleted_at IS NULL FROM contact WHERE id IN (%s, %s)",
               (data.per, data.lars)) == [(data.lars, True)]  # fmt: skip
