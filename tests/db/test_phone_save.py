"""Saving a contact never damages its phones (issue 9 part 5): an unchanged phone keeps its
number, a national number is read in the contact's (or account's) country, and nothing that
did not change is rewritten: the audit log shows which rows a save touched."""

from __future__ import annotations

import pytest

from db.connection import configure, database
from db.errors import ValidationErrors
from db.services import account_edit, contact_edit
from tests.records_data import run, seed


@pytest.fixture
def data(installer_dsn, admin_dsn, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_PHONE_REGION", "SE")
    s = seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    return s


def form_of(values: dict) -> dict:
    return {k: ("" if v is None else v) for k, v in values.items() if k in contact_edit.FIELDS}


def phone_rows(dsn: str, contact_id: int) -> list[tuple]:
    return run(dsn, "SELECT id, kind, raw, e164, position FROM contact_phone "
               "WHERE contact_id = %s ORDER BY position", (contact_id,))  # fmt: skip


def audit_count(dsn: str, table: str) -> int:
    return run(dsn, "SELECT count(*) FROM audit_log WHERE table_name = %s", (table,))[0][0]


def us_contact(installer_dsn: str, acme: int) -> int:
    """A US contact whose mobile was imported in national format (as the demo data has)."""
    rows = run(installer_dsn, """
        WITH c AS (INSERT INTO contact (account_id, first_name, last_name, job_title, country)
                   VALUES (%s, 'Brian', 'Clarke', 'HR Partner', 'United States') RETURNING id),
             p AS (INSERT INTO contact_phone (contact_id, kind, raw, e164, is_primary, position)
                   SELECT id, 'mobile', '(415) 203-7663', '+14152037663', true, 0 FROM c),
             e AS (INSERT INTO contact_email (contact_id, kind, email, is_primary, position)
                   SELECT id, 'work', 'brian@example.com', true, 0 FROM c)
        SELECT id FROM c""", (acme,))  # fmt: skip
    return rows[0][0]


def save(contact_id: int, changes: dict, phones=None, emails=None) -> None:
    with database.connection_context():
        original = contact_edit.load(contact_id)
        form = form_of(original) | changes
        contact_edit.update(
            contact_id, original, form,
            phones if phones is not None else [(k, r) for k, r, *_ in original["phones"]],
            emails if emails is not None else [(k, e) for k, e, *_ in original["emails"]],
        )  # fmt: skip


def test_changing_only_the_job_title_leaves_a_national_phone_alone(data, installer_dsn):
    brian = us_contact(installer_dsn, data.acme)
    before = phone_rows(installer_dsn, brian)
    phones_audited = audit_count(installer_dsn, "contact_phone")
    emails_audited = audit_count(installer_dsn, "contact_email")
    save(brian, {"job_title": "HR Business Partner II"})
    assert phone_rows(installer_dsn, brian) == before  # same row id, still +1
    assert before[0][3] == "+14152037663"
    assert audit_count(installer_dsn, "contact_phone") == phones_audited  # nothing rewritten
    assert audit_count(installer_dsn, "contact_email") == emails_audited
    title = run(installer_dsn, "SELECT job_title FROM contact WHERE id = %s", (brian,))
    assert title == [("HR Business Partner II",)]


def test_a_new_national_number_is_read_in_the_contacts_country(data, installer_dsn):
    brian = us_contact(installer_dsn, data.acme)
    save(brian, {}, phones=[("mobile", "(415) 203-7663"), ("work", "(212) 555-0142")])
    rows = phone_rows(installer_dsn, brian)
    assert [r[3] for r in rows] == ["+14152037663", "+12125550142"]


def test_without_a_contact_country_the_accounts_country_is_used(data, installer_dsn):
    run(installer_dsn, "UPDATE account SET country = 'Germany' WHERE id = %s", (data.acme,))
    with database.connection_context():
        new_id = contact_edit.create(
            {"first_name": "Jan", "last_name": "Berg"}, [("work", "030 1234567")], [], data.acme
        )
    assert [r[3] for r in phone_rows(installer_dsn, new_id)] == ["+49301234567"]


def test_only_the_changed_row_is_written(data, installer_dsn):
    brian = us_contact(installer_dsn, data.acme)
    save(brian, {}, phones=[("mobile", "(415) 203-7663"), ("work", "(212) 555-0142")])
    first, second = phone_rows(installer_dsn, brian)
    audited = audit_count(installer_dsn, "contact_phone")
    save(brian, {}, phones=[("mobile", "(415) 203-7663"), ("home", "(212) 555-0142")])
    after = phone_rows(installer_dsn, brian)
    assert after[0] == first
    assert after[1] == (second[0], "home", *second[2:])  # updated in place, same id
    assert audit_count(installer_dsn, "contact_phone") == audited + 1  # one UPDATE
    # removing the first keeps the second's row (and number) and deletes only the first
    save(brian, {}, phones=[("home", "(212) 555-0142")])
    assert [r[0] for r in phone_rows(installer_dsn, brian)] == [second[0]]


def test_an_email_that_stays_is_not_rewritten(data, installer_dsn):
    brian = us_contact(installer_dsn, data.acme)
    (email_id,) = run(installer_dsn, "SELECT id FROM contact_email WHERE contact_id = %s",
                      (brian,))[0]  # fmt: skip
    save(brian, {}, emails=[("personal", "b@home.example"), ("work", "brian@example.com")])
    rows = run(installer_dsn, "SELECT id, email, is_primary, position FROM contact_email "
               "WHERE contact_id = %s ORDER BY position", (brian,))  # fmt: skip
    assert rows[1][:2] == (email_id, "brian@example.com")  # the same row, moved down
    assert rows[0][1:] == ("b@home.example", True, 0)


def test_letters_in_a_phone_are_refused(data, installer_dsn):
    with database.connection_context(), pytest.raises(ValidationErrors) as caught:
        contact_edit.create({"last_name": "Caller"}, [("work", "+46 70 CALLNOW")], [])
    (error,) = caught.value.errors
    assert error.field == "phones.0" and "letters" in error.message
    assert run(installer_dsn, "SELECT count(*) FROM contact WHERE last_name = 'Caller'") == [(0,)]


def test_an_unchanged_account_phone_is_kept_as_stored(data, installer_dsn):
    run(installer_dsn, "UPDATE account SET phone = '(312) 577-7692', country = NULL "
        "WHERE id = %s", (data.globex,))  # fmt: skip
    with database.connection_context():
        original = account_edit.load(data.globex)
        form = {k: ("" if v is None else str(v)) for k, v in original.items()
                if k in account_edit.FIELDS} | {"industry": "Chemicals"}  # fmt: skip
        account_edit.update(data.globex, original, form)
    row = run(installer_dsn, "SELECT phone, industry FROM account WHERE id = %s", (data.globex,))
    assert row == [("(312) 577-7692", "Chemicals")]


def test_a_changed_account_phone_is_read_in_the_accounts_country(data, installer_dsn):
    with database.connection_context():
        original = account_edit.load(data.globex)
        form = {k: ("" if v is None else str(v)) for k, v in original.items()
                if k in account_edit.FIELDS}  # fmt: skip
        form |= {"phone": "(312) 577-7692", "country": "USA"}
        account_edit.update(data.globex, original, form)
    row = run(installer_dsn, "SELECT phone FROM account WHERE id = %s", (data.globex,))
    assert row == [("+13125777692",)]
