"""A burst of keys (a paste, SSH, a fast typist) lands where slow typing would put it, in every
form and dialog; and screen keys never fire inside a form or a dialog (issue 9, parts 2-3)."""

from __future__ import annotations

import pytest
from textual.widgets import Checkbox, Input, Select

from db.connection import configure
from tests.records_data import run, seed
from tests.tui.burst import burst
from tui.app import SwitchboardApp
from tui.screens.account_form import AccountFormScreen
from tui.screens.contact_form import ContactFormScreen


@pytest.fixture
def data(installer_dsn, admin_dsn, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_PHONE_REGION", "SE")
    s = seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    return s


async def settle(app, pilot) -> None:
    for _ in range(2):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def test_an_account_typed_in_one_burst_is_saved_field_by_field(data, admin_dsn):
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(AccountFormScreen(parent_id=data.acme), results.append)
        await settle(app, pilot)
        await burst(app, pilot, *"Acme Nordics", "tab", *"Machinery", "tab", *"3599", "tab",
                    *"120", "ctrl+s")  # fmt: skip
        await settle(app, pilot)
    assert results and results[0].action == "saved"
    rows = run(admin_dsn, "SELECT name, industry, sic_code, employees FROM account "
               "WHERE id = %s", (results[0].record_id,))  # fmt: skip
    assert rows == [("Acme Nordics", "Machinery", "3599", 120)]
