"""Record forms at 80x24 by keyboard alone: create, edit, delete; errors at the field; the DB
checked afterwards."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from db.connection import configure
from tests.records_data import run, seed
from tui.app import SwitchboardApp
from tui.screens.account_form import AccountFormScreen
from tui.screens.confirm import ConfirmModal, DeleteConfirmModal, start_delete
from tui.screens.contact_form import ContactFormScreen
from tui.screens.duplicates import DuplicateModal
from tui.screens.relationship_form import RelationshipFormScreen


@pytest.fixture
def data(installer_dsn, admin_dsn, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_PHONE_REGION", "SE")
    s = seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    return s


async def settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def error_text(app, field: str) -> str:
    label = app.screen.query_one(f"#err-{field.replace('.', '-').replace('_', '-')}")
    return str(label.content) if label.has_class("-shown") else ""


async def open_form(app, pilot, screen, results: list):
    app.push_screen(screen, results.append)
    await settle(app, pilot)


async def test_create_an_account_by_keyboard(data, admin_dsn):
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        await open_form(app, pilot, AccountFormScreen(parent_id=data.acme), results)
        assert "Acme AB" in str(app.screen.query_one("#account-parent").content)
        await pilot.press(*"Acme Nordics", "tab", *"Machinery", "tab", "tab", *"120", "enter")
        await settle(app, pilot)
    assert results and results[0].action == "saved"
    rows = run(admin_dsn, "SELECT name, industry, employees, parent_id FROM account "
               "WHERE id = %s", (results[0].record_id,))  # fmt: skip
    assert rows == [("Acme Nordics", "Machinery", 120, data.acme)]


async def test_invalid_account_input_is_shown_at_the_field_and_nothing_is_written(data, admin_dsn):
    app = SwitchboardApp()
    results: list = []
    before = run(admin_dsn, "SELECT count(*) FROM account")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_form(app, pilot, AccountFormScreen(), results)
        screen = app.screen
        screen.query_one("#f-employees", Input).value = "-5"
        screen.query_one("#f-phone", Input).value = "12"
        screen.query_one("#f-sic-code", Input).value = "abc"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert error_text(app, "name") == "is required"
        assert "whole number" in error_text(app, "employees")
        assert "number of digits" in error_text(app, "phone")
        assert "2 to 4 digits" in error_text(app, "sic_code")
        assert "3 fields" not in str(app.screen.query_one("#form-message").content)
        assert app.screen is screen and not results
    assert run(admin_dsn, "SELECT count(*) FROM account") == before


async def test_edit_an_account_and_escape_warns_about_unsaved_changes(data, admin_dsn):
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        await open_form(app, pilot, AccountFormScreen(account_id=data.globex), results)
        name = app.screen.query_one("#f-name", Input)
        assert name.value == "Globex Corporation" and name.has_focus
        await pilot.press("end", *" Inc", "escape")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")  # keep editing: the text is still there
        assert app.screen.query_one("#f-name", Input).value == "Globex Corporation Inc"
        await pilot.press("enter")
        await settle(app, pilot)
    assert results[0].action == "saved"
    assert run(admin_dsn, "SELECT name, version FROM account WHERE id = %s", (data.globex,)) == [
        ("Globex Corporation Inc", 2)
    ]


async def test_a_similar_account_name_warns_and_offers_to_open_it(data, admin_dsn):
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        await open_form(app, pilot, AccountFormScreen(), results)
        await pilot.press(*"Globex Corp", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, DuplicateModal)
        await pilot.press("enter")
        await settle(app, pilot)
    assert results[0].action == "open" and results[0].record_id == data.globex
    assert run(admin_dsn, "SELECT count(*) FROM account WHERE name = 'Globex Corp'") == [(0,)]


async def test_delete_an_account_says_what_goes_with_it(data, admin_dsn):
    app = SwitchboardApp()
    answers: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        start_delete(app.screen, "account", data.acme, "Acme AB", answers.append)
        await settle(app, pilot)
        assert isinstance(app.screen, DeleteConfirmModal)
        text = str(app.screen.query_one("#delete-impact").content)
        assert "1 sub-accounts, 3 contacts, 1 open deals, 1 open cases" in text
        await pilot.press("y")
        await settle(app, pilot)
    assert answers == [True]
    assert run(admin_dsn, "SELECT count(*) FROM account WHERE deleted_at IS NOT NULL") == [(2,)]


async def test_create_a_contact_with_two_phones_and_an_email_by_keyboard(data, admin_dsn):
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        await open_form(app, pilot, ContactFormScreen(account_id=data.globex), results)
        await pilot.press(*"Maja", "tab", *"Holm", "tab", *"Buyer")
        # Tab to the phone row's number (job role, department, phone kind come first).
        app.screen.query_one("#phones-value-0", Input).focus()
        await pilot.press(*"031-59 00 00", "ctrl+n")
        await pilot.pause()
        assert app.screen.query_one("#phones-value-1", Input).has_focus
        await pilot.press(*"+46 70 123 45 67")
        app.screen.query_one("#emails-value-0", Input).focus()
        await pilot.press(*"Maja.Holm@Globex.Example", "enter")
        await settle(app, pilot)
    assert results and results[0].action == "saved", app.screen
    cid = results[0].record_id
    assert run(admin_dsn, "SELECT first_name, last_name, job_title, account_id FROM contact "
               "WHERE id = %s", (cid,)) == [("Maja", "Holm", "Buyer", data.globex)]  # fmt: skip
    phones = run(admin_dsn, "SELECT e164, is_primary FROM contact_phone WHERE contact_id = %s "
                 "ORDER BY position", (cid,))  # fmt: skip
    assert phones == [("+4631590000", True), ("+46701234567", False)]
    assert run(admin_dsn, "SELECT email FROM contact_email WHERE contact_id = %s", (cid,)) == [
        ("Maja.Holm@globex.example",)
    ]


async def test_invalid_contact_input_is_shown_per_field_and_row(data, admin_dsn):
    app = SwitchboardApp()
    results: list = []
    before = run(admin_dsn, "SELECT count(*) FROM contact")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_form(app, pilot, ContactFormScreen(account_id=data.globex), results)
        screen = app.screen
        screen.query_one("#phones-value-0", Input).focus()
        await pilot.press(*"+46 31 59 00 00", "ctrl+n", *"not a phone")
        screen.query_one("#emails-value-0", Input).focus()
        await pilot.press(*"maja@", "ctrl+s")
        screen.query_one("#f-birthday", Input).value = "31/12/1980"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert error_text(app, "last_name").startswith("is required")
        assert error_text(app, "phones.0") == ""
        assert "not letters" in error_text(app, "phones.1")
        assert "needs a domain after the @" in error_text(app, "emails.0")
        assert "YYYY-MM-DD" in error_text(app, "birthday")
        assert not results
    assert run(admin_dsn, "SELECT count(*) FROM contact") == before
    assert run(admin_dsn, "SELECT count(*) FROM contact_phone WHERE raw = '+46 31 59 00 00'") == [
        (0,)
    ]


async def test_edit_a_contact_replaces_its_phones(data, admin_dsn):
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        await open_form(app, pilot, ContactFormScreen(contact_id=data.anna), results)
        assert app.screen.query_one("#phones-value-0", Input).value == "031-700 00 00"
        app.screen.query_one("#phones-value-0", Input).focus()
        await pilot.press("ctrl+n", *"0701112233")
        app.screen.query_one("#phones-value-0", Input).focus()
        await pilot.press("ctrl+r")  # the old work number goes
        await pilot.pause()
        app.screen.query_one("#f-job-title", Input).focus()
        await pilot.press(*"CFO", "enter")
        await settle(app, pilot)
    assert results[0].action == "saved"
    assert run(admin_dsn, "SELECT job_title, version FROM contact WHERE id = %s", (data.anna,)) == [
        ("CFO", 2)
    ]
    assert run(admin_dsn, "SELECT e164 FROM contact_phone WHERE contact_id = %s",
               (data.anna,)) == [("+46701112233",)]  # fmt: skip


async def test_a_contact_with_a_known_email_warns_then_can_be_created_anyway(data, admin_dsn):
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        await open_form(app, pilot, ContactFormScreen(account_id=data.globex), results)
        await pilot.press(*"Annie", "tab", *"Lindqvist")
        app.screen.query_one("#emails-value-0", Input).focus()
        await pilot.press(*"anna@acme.example", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, DuplicateModal)
        text = " ".join(str(o.prompt) for o in app.screen.query_one("OptionList")._options)
        assert "Anna Lind" in text and "same email" in text
        await pilot.press("c")
        await settle(app, pilot)
    assert results[0].action == "saved"
    assert run(
        admin_dsn, "SELECT count(*) FROM contact_email WHERE email = 'anna@acme.example'"
    ) == [(2,)]


async def test_delete_a_contact(data, admin_dsn):
    app = SwitchboardApp()
    answers: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        start_delete(app.screen, "contact", data.per, "Per Ek", answers.append)
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
    assert answers == [True]
    assert run(admin_dsn, "SELECT deleted_at IS NOT NULL FROM contact WHERE id = %s",
               (data.per,)) == [(True,)]  # fmt: skip


async def test_create_edit_and_delete_a_relationship_by_keyboard(data, admin_dsn):
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        await open_form(app, pilot, RelationshipFormScreen(data.anna), results)
        assert "Anna Lind" in str(app.screen.query_one("#this-contact").content)
        # The type: open the select, move to "manages" (the inverse of reports to), pick it.
        await pilot.press("enter", "down", "down", "enter")
        await pilot.press("tab", *"Per")
        await settle(app, pilot)
        await pilot.press("down", "enter")  # into the results, pick Per Ek
        await pilot.pause()
        await pilot.press(*"weekly 1:1", "tab", *"2021-03-01", "enter")
        await settle(app, pilot)
    assert results and results[0].action == "saved", app.screen
    rel = results[0].record_id
    assert run(
        admin_dsn,
        "SELECT from_contact_id, to_contact_id, t.key, note, starts_on::text "
        "FROM contact_relationship r JOIN relationship_type t ON t.id = r.type_id "
        "WHERE r.id = %s",
        (rel,),
    ) == [  # fmt: skip
        (data.per, data.anna, "reports_to", "weekly 1:1", "2021-03-01")
    ]
    app = SwitchboardApp()
    results = []
    async with app.run_test(size=(80, 24)) as pilot:
        await open_form(app, pilot, RelationshipFormScreen(data.per, rel), results)
        app.screen.query_one("#f-ends-on", Input).focus()
        await pilot.press(*"2020-01-01", "enter")  # before the start: refused at the field
        await settle(app, pilot)
        assert error_text(app, "ends_on") == "must be on or after the start date"
        await pilot.press("ctrl+u", *"2024-06-30", "enter")
        await settle(app, pilot)
        assert results and results[0].action == "saved"
        start_delete(app.screen, "relationship", rel, "Per Ek reports to Anna Lind")
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
    assert run(admin_dsn, "SELECT ends_on::text, deleted_at IS NOT NULL FROM contact_relationship "
               "WHERE id = %s", (rel,)) == [("2024-06-30", True)]  # fmt: skip
