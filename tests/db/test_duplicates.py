"""Duplicates at entry: same email, same phone, or a very similar name in the same account."""

from __future__ import annotations

import pytest

from db.connection import configure, database
from db.services import duplicates
from tests.records_data import seed


@pytest.fixture
def data(installer_dsn, admin_dsn):
    s = seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    return s


def test_same_email_any_case_anywhere(data):
    with database.connection_context():
        hits = duplicates.contact_candidates("Someone", "Else", emails=["ANNA@acme.example"])
    assert [(h.id, h.reason) for h in hits] == [(data.anna, "same email")]


def test_same_phone(data):
    with database.connection_context():
        hits = duplicates.contact_candidates("X", "Y", phones_e164=["+46317000000"])
    assert [(h.id, h.reason, h.account) for h in hits] == [(data.anna, "same phone", "Acme AB")]


def test_similar_name_only_in_the_same_account(data):
    with database.connection_context():
        same = duplicates.contact_candidates("Ana", "Lind", account_id=data.acme)
        other = duplicates.contact_candidates("Ana", "Lind", account_id=data.globex)
        different = duplicates.contact_candidates("Bertil", "Svensson", account_id=data.acme)
    assert [(h.id, h.reason) for h in same] == [(data.anna, "similar name")]
    assert other == [] and different == []


def test_the_record_being_edited_and_trashed_records_are_not_candidates(data, installer_dsn):
    with database.connection_context():
        assert duplicates.contact_candidates(
            "Anna", "Lind", emails=["anna@acme.example"], account_id=data.acme,
            exclude_id=data.anna,
        ) == []  # fmt: skip
        database.execute_sql("UPDATE contact SET deleted_at = now() WHERE id = %s", (data.per,))
        assert duplicates.contact_candidates("Per", "Ek", account_id=data.acme) == []


def test_similar_account_names(data):
    with database.connection_context():
        hits = duplicates.account_candidates("Globex Corp")
        exact = duplicates.account_candidates("acme ab")
        none = duplicates.account_candidates("Initech")
    assert [(h.id, h.reason) for h in hits] == [(data.globex, "similar name")]
    assert [(h.id, h.reason) for h in exact] == [(data.acme, "same name")]
    assert none == []
