"""No lost updates: two connections edit the same record; disjoint changes merge, the same
field raises Conflict with mine, theirs and the original; nothing is half-saved."""

from __future__ import annotations

import pytest

from db.connection import configure, database
from db.errors import Conflict, NotFound, PermissionDenied, ValidationErrors
from db.models import Contact
from db.services import account_edit, contact_edit, relationships
from db.services.editing import update_fields
from tests.records_data import add_login, run, seed

FORM = {"first_name": "Anna", "last_name": "Lind"}


@pytest.fixture
def data(installer_dsn, admin_dsn):
    s = seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    return s


def other_person(dsn: str, sql: str, params: tuple) -> None:
    """A second connection (another person) saving the record in between."""
    run(dsn, sql, params)


def form_of(values: dict) -> dict:
    return {k: ("" if v is None else v) for k, v in values.items() if k in contact_edit.FIELDS}


def phones_of(values: dict) -> list[tuple[str, str]]:
    return [(k, raw) for k, raw, _e164, _p in values["phones"]]


def emails_of(values: dict) -> list[tuple[str, str]]:
    return [(k, e) for k, e, _p in values["emails"]]


def test_disjoint_changes_merge_silently(data, admin_dsn):
    with database.connection_context():
        original = contact_edit.load(data.anna)
    other_person(admin_dsn, "UPDATE contact SET job_title = 'CFO' WHERE id = %s", (data.anna,))
    form = form_of(original) | {"city": "Göteborg"}
    with database.connection_context():
        saved = contact_edit.update(
            data.anna, original, form, phones_of(original), emails_of(original)
        )
    assert saved.merged == {"job_title": "CFO"}
    row = run(admin_dsn, "SELECT job_title, city, version FROM contact WHERE id = %s", (data.anna,))
    assert row == [("CFO", "Göteborg", original["version"] + 2)]
    assert saved.version == original["version"] + 2


def test_same_field_raises_conflict_with_mine_theirs_original(data, admin_dsn):
    with database.connection_context():
        original = contact_edit.load(data.anna)
    other_person(
        admin_dsn, "UPDATE contact SET job_title = 'CEO', city = 'Oslo' WHERE id = %s", (data.anna,)
    )
    form = form_of(original) | {"job_title": "Chief Financial Officer", "notes": "met at fair"}
    with database.connection_context(), pytest.raises(Conflict) as info:
        contact_edit.update(data.anna, original, form, phones_of(original), emails_of(original))
    conflict = info.value
    assert set(conflict.fields) == {"job_title"}
    field = conflict.fields["job_title"]
    assert (field.mine, field.theirs, field.original) == ("Chief Financial Officer", "CEO", None)
    assert conflict.current["city"] == "Oslo" and conflict.version == original["version"] + 1
    # Nothing of mine was written, not even the field without a conflict.
    assert run(admin_dsn, "SELECT notes FROM contact WHERE id = %s", (data.anna,)) == [(None,)]
    # Resolving: save again on top of the current record with the chosen values.
    # Fields I did not touch take their values; mine stay; the conflict takes my choice.
    chosen = form_of(conflict.current) | {"job_title": field.mine, "notes": "met at fair"}
    with database.connection_context():
        contact_edit.update(
            data.anna, conflict.current, chosen, phones_of(original), emails_of(original)
        )
    assert run(
        admin_dsn, "SELECT job_title, city, notes FROM contact WHERE id = %s", (data.anna,)
    ) == [("Chief Financial Officer", "Oslo", "met at fair")]


def test_phones_are_a_field_of_the_version_check(data, admin_dsn):
    with database.connection_context():
        original = contact_edit.load(data.anna)
    other_person(
        admin_dsn,
        "UPDATE contact_phone SET raw = '+46 70 111 11 11', e164 = '+46701111111' "
        "WHERE contact_id = %s; UPDATE contact SET deleted_at = NULL WHERE id = %s",
        (data.anna, data.anna),
    )
    phones = [("mobile", "+46 70 222 22 22")]
    with database.connection_context(), pytest.raises(Conflict) as info:
        contact_edit.update(data.anna, original, form_of(original), phones, emails_of(original))
    assert set(info.value.fields) == {"phones"}
    assert info.value.fields["phones"].mine == (
        ("mobile", "+46 70 222 22 22", "+46702222222", True),
    )


def test_phones_and_emails_are_replaced_in_the_same_transaction(data, admin_dsn):
    with database.connection_context():
        original = contact_edit.load(data.anna)
        saved = contact_edit.update(
            data.anna, original, form_of(original),
            [("work", "+46 31 700 00 00"), ("mobile", "070-123 45 67")],
            [("work", "anna@acme.example"), ("personal", "Anna@Home.Example")],
        )  # fmt: skip
    assert saved.version == original["version"] + 1
    assert run(
        admin_dsn,
        "SELECT kind, e164, is_primary FROM contact_phone WHERE contact_id = %s ORDER BY position",
        (data.anna,),
    ) == [("work", "+46317000000", True), ("mobile", "+46701234567", False)]
    assert run(
        admin_dsn, "SELECT email FROM contact_email WHERE contact_id = %s ORDER BY position",
        (data.anna,),
    ) == [("anna@acme.example",), ("Anna@home.example",)]  # fmt: skip


def test_invalid_save_writes_nothing(data, admin_dsn):
    with database.connection_context():
        original = contact_edit.load(data.anna)
        with pytest.raises(ValidationErrors) as info:
            contact_edit.update(
                data.anna, original, form_of(original) | {"city": "Malmö"},
                [("work", "not a number")], [("work", "anna@")],
            )  # fmt: skip
    assert {e.field for e in info.value.errors} == {"phones.0", "emails.0"}
    assert run(admin_dsn, "SELECT city, version FROM contact WHERE id = %s", (data.anna,)) == [
        (None, original["version"])
    ]


def test_a_deleted_record_is_not_found(data, admin_dsn):
    with database.connection_context():
        original = account_edit.load(data.globex)
        account_edit.soft_delete(data.globex)
        with pytest.raises(NotFound):
            account_edit.update(data.globex, original, original | {"name": "Globex 2"})


def test_account_create_and_update(data, admin_dsn):
    with database.connection_context():
        new_id = account_edit.create(
            {"name": "Acme Nordic", "employees": "12"}, parent_id=data.acme
        )
        values = account_edit.load(new_id)
        account_edit.update(new_id, values, {**values, "name": "Acme Nordics", "tier": "B"})
    assert run(admin_dsn, "SELECT name, tier, parent_id, employees FROM account WHERE id = %s",
               (new_id,)) == [("Acme Nordics", "B", data.acme, 12)]  # fmt: skip


def test_relationship_create_edit_delete_from_either_side(data, admin_dsn):
    with database.connection_context():
        rel = relationships.create(data.anna, {"to_contact_id": data.per, "type_key": "reports_to"})
        seen_by_per = relationships.load(rel, seen_from=data.per)
        assert (
            seen_by_per["type_key"] == "reports_to:inverse" and seen_by_per["other_id"] == data.anna
        )
        with pytest.raises(ValidationErrors) as info:
            relationships.create(data.per, {"to_contact_id": data.anna,
                                            "type_key": "reports_to:inverse"})  # fmt: skip
        assert info.value.errors[0].field == "type_key"
        relationships.update(rel, data.per, seen_by_per,
                             {"to_contact_id": data.anna, "type_key": "reports_to:inverse",
                              "note": "since the merger", "starts_on": "2023-01-01"})  # fmt: skip
        relationships.soft_delete(rel)
    row = run(admin_dsn, "SELECT from_contact_id, to_contact_id, note, deleted_at IS NOT NULL "
              "FROM contact_relationship WHERE id = %s", (rel,))  # fmt: skip
    assert row == [(data.anna, data.per, "since the merger", True)]


def test_as_a_rep_under_rls(data, installer_dsn, pg, db_name):
    add_login(installer_dsn, "sb_rep_edit", role="rep")
    database.close_all()  # the pool would hand back the admin's connections
    configure(pg.dsn(db_name, user="sb_rep_edit"), "switchboard")
    with database.connection_context():
        mine = account_edit.create({"name": "Rep Account"})
        cid = contact_edit.create(
            {"first_name": "Rita", "last_name": "Rep"}, [("mobile", "+46 70 999 99 99")], [], mine
        )
        values = contact_edit.load(cid)
        contact_edit.update(cid, values, form_of(values) | {"city": "Lund"},
                            [("mobile", "+46 70 999 99 98")], [])  # fmt: skip
    row = run(installer_dsn, "SELECT c.city, p.e164, c.owner_id = u.id FROM contact c "
              "JOIN contact_phone p ON p.contact_id = c.id JOIN app_user u "
              "ON u.username = 'sb_rep_edit' WHERE c.id = %s", (cid,))  # fmt: skip
    assert row == [("Lund", "+46709999998", True)]
    # The admin's account under a private sharing default: invisible → NotFound, not a Conflict.
    run(
        installer_dsn, "UPDATE sharing_default SET access = 'private' WHERE object_type = 'account'"
    )
    run(
        installer_dsn, "UPDATE sharing_default SET access = 'private' WHERE object_type = 'contact'"
    )
    version = run(installer_dsn, "SELECT version FROM contact WHERE id = %s", (data.anna,))[0][0]
    with database.connection_context():
        with pytest.raises(NotFound, match="was deleted or is not visible"):
            update_fields(Contact, data.anna, {"version": version, "city": None}, {"city": "X"})
    # Readable but not writable (public_read): "you may read but not change it", exactly.
    run(installer_dsn, "UPDATE sharing_default SET access = 'public_read' "
        "WHERE object_type IN ('account', 'contact')")  # fmt: skip
    with database.connection_context():
        with pytest.raises(PermissionDenied, match=f"you may read contact {data.anna} but not"):
            update_fields(Contact, data.anna, {"version": version, "city": None}, {"city": "X"})
    assert run(installer_dsn, "SELECT city FROM contact WHERE id = %s", (data.anna,)) == [(None,)]
