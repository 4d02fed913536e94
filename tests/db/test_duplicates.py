"""Duplicates at entry: same email, same phone, or a very similar name in the same account."""

from __future__ import annotations

import pytest

from db.connection import configure, database
from db.services import duplicates
from tests.records_data import add_login, run, seed


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


def _as_rep(installer_dsn, pg, db_name) -> None:
    add_login(installer_dsn, "rep_dup", role="rep")
    configure(pg.dsn(db_name, user="rep_dup"), "switchboard")


def test_a_rep_gets_the_checks_through_the_visibility_first_functions(
    data, installer_dsn, pg, db_name
):
    run(installer_dsn, "UPDATE sharing_default SET access = 'public_read'")
    _as_rep(installer_dsn, pg, db_name)
    with database.connection_context():
        email = duplicates.contact_candidates("X", "Y", emails=["Anna@Acme.Example"])
        name = duplicates.contact_candidates("Ana", "Lind", account_id=data.acme)
        accounts = duplicates.account_candidates("Globex Corp")
    assert [(h.id, h.account, h.reason) for h in email] == [(data.anna, "Acme AB", "same email")]
    assert [h.id for h in name] == [data.anna]
    assert [(h.id, h.reason) for h in accounts] == [(data.globex, "similar name")]


def test_a_rep_who_may_not_see_the_records_is_told_of_none(data, installer_dsn, pg, db_name):
    # The admin owns everything of the seed: under private sharing a rep sees none of it, and
    # the check neither returns nor counts it (it would have to be a hint of existence).
    run(installer_dsn, "UPDATE sharing_default SET access = 'private'")
    _as_rep(installer_dsn, pg, db_name)
    with database.connection_context():
        assert duplicates.contact_candidates("Anna", "Lind", emails=["anna@acme.example"],
                                             phones_e164=["+46317000000"],
                                             account_id=data.acme) == []  # fmt: skip
        assert duplicates.account_candidates("Acme AB") == []


def test_a_threshold_the_caller_set_does_not_hide_candidates(data):
    with database.connection_context(), database.atomic():
        database.execute_sql("SET LOCAL pg_trgm.similarity_threshold = 0.99")
        hits = duplicates.account_candidates("Globex Corp")
    assert [h.id for h in hits] == [data.globex]
