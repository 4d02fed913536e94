"""Long values never push a dialog's keys off an 80x24 screen (issue 9 part 5: a 5,000
character account name filled the delete dialog and hid its keys)."""

from __future__ import annotations

from textual.content import Content

from db.connection import configure
from tests.records_data import seed
from tests.tui.crm_helpers import screen_text, settle
from tui.app import SwitchboardApp
from tui.screens.confirm import ConfirmModal, DeleteConfirmModal


async def test_the_delete_dialog_of_a_very_long_name_keeps_its_keys(installer_dsn, admin_dsn):
    data = seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.push_screen(DeleteConfirmModal("contact", data.per, "N" * 5000))
        await settle(app, pilot)
        text = screen_text(app)
        assert "y delete" in text and "n / esc keep" in text
        assert text.count("N") < 400  # the name is cut, not poured over the screen


async def test_a_very_long_question_keeps_the_buttons(installer_dsn, admin_dsn):
    seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.push_screen(ConfirmModal(Content("Really? " + "Q" * 5000)))
        await settle(app, pilot)
        text = screen_text(app)
        assert "Yes (y)" in text and "No (n)" in text
