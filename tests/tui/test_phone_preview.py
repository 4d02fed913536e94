"""The contact form shows each phone as it will be stored, and saving a contact whose phones
were not touched leaves them alone (issue 9 part 5, QA case 36) — through the real form."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from db.connection import configure
from tests.db.test_phone_save import us_contact
from tests.records_data import run, seed
from tui.app import SwitchboardApp
from tui.screens.contact_form import ContactFormScreen


@pytest.fixture
def brian(installer_dsn, admin_dsn, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_PHONE_REGION", "SE")  # the default region is not the US
    s = seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    return us_contact(installer_dsn, s.acme)


async def settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def preview(app) -> str:
    return str(app.screen.query_one("#phone-preview", Static).content)


async def test_changing_the_job_title_in_the_form_keeps_the_us_number(brian, installer_dsn):
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ContactFormScreen(contact_id=brian), results.append)
        await settle(app, pilot)
        assert preview(app) == "(415) 203-7663 → +1 415-203-7663 (as stored)"
        title = app.screen.query_one("#f-job-title", Input)
        title.value = "HR Business Partner II"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    assert results and results[0].action == "saved"
    assert run(installer_dsn, "SELECT raw, e164 FROM contact_phone WHERE contact_id = %s",
               (brian,)) == [("(415) 203-7663", "+14152037663")]  # fmt: skip


async def test_the_preview_reads_a_new_number_in_the_contacts_country(brian):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ContactFormScreen(contact_id=brian))
        await settle(app, pilot)
        phone = app.screen.query_one("#phones-value-0", Input)
        phone.focus()
        phone.value = "(212) 555-0142"
        await pilot.pause()
        assert preview(app) == "(212) 555-0142 → +1 212-555-0142"
        app.screen.query_one("#f-country", Input).value = "Sweden"
        await pilot.pause()
        assert "→ +46" in preview(app)
        phone.value = "+46 70 CALLNOW"
        await pilot.pause()
        assert preview(app) == "+46 70 CALLNOW must be digits, not letters (an extension: ext 12)"
