"""Trash: soft delete with what goes along, paged listing, restore, purge for admins only."""

from __future__ import annotations

import pytest

from db.connection import configure, database
from db.errors import PermissionDenied, ValidationError
from db.services import account_edit, trash
from tests.records_data import add_login, run, seed


@pytest.fixture
def data(installer_dsn, admin_dsn):
    s = seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    return s


def live(dsn: str, table: str, ids: list[int]) -> list[int]:
    rows = run(
        dsn,
        f"SELECT id FROM {table} WHERE id = ANY(%s) AND deleted_at IS NULL ORDER BY id",
        (ids,),
    )
    return [r[0] for r in rows]


def test_deleting_an_account_says_what_goes_with_it(data):
    with database.connection_context():
        impact = account_edit.impact(data.acme)
    assert (impact.sub_accounts, impact.contacts, impact.open_deals, impact.open_cases) == (
        1, 3, 1, 1,
    )  # fmt: skip


def test_impact_counts_are_capped(data, installer_dsn):
    run(
        installer_dsn,
        "INSERT INTO contact (last_name, account_id) "
        "SELECT 'Bulk ' || g, %s FROM generate_series(1, 1005) g",
        (data.acme,),
    )
    with database.connection_context():
        assert account_edit.impact(data.acme).contacts == account_edit.IMPACT_CAP + 1


def test_account_delete_takes_the_subtree_and_restore_brings_it_back(data, admin_dsn):
    with database.connection_context():
        assert account_edit.soft_delete(data.acme) == 2
    assert live(admin_dsn, "account", [data.acme, data.acme_eu, data.globex]) == [data.globex]
    assert live(admin_dsn, "contact", [data.anna, data.per, data.lars]) == []
    assert live(admin_dsn, "opportunity", [data.deal]) == []
    with database.connection_context():
        items = trash.page()
    # Listed once, by the top account: what went with it comes back with it.
    assert [(i.kind, i.id) for i in items] == [("account", data.acme)]
    with database.connection_context():
        trash.restore("account", data.acme)
    assert live(admin_dsn, "account", [data.acme, data.acme_eu]) == [data.acme, data.acme_eu]
    assert live(admin_dsn, "contact", [data.anna, data.per, data.lars]) == sorted(
        [data.anna, data.per, data.lars]
    )
    assert live(admin_dsn, "support_case", [data.case]) == [data.case]


def test_a_contact_deleted_earlier_stays_in_the_trash_when_its_account_is_restored(data, admin_dsn):
    with database.connection_context():
        trash.soft_delete("contact", data.per)
        trash.soft_delete("account", data.acme)
        trash.restore("account", data.acme)
        items = trash.page()
    assert live(admin_dsn, "contact", [data.per]) == []
    assert [(i.kind, i.id) for i in items] == [("contact", data.per)]


def test_restoring_a_contact_of_a_trashed_account_is_refused(data, admin_dsn):
    with database.connection_context():
        trash.soft_delete("contact", data.lars)
        trash.soft_delete("account", data.acme_eu)
        with pytest.raises(ValidationError) as info:
            trash.restore("contact", data.lars)
    assert "restore that first" in info.value.message
    assert live(admin_dsn, "contact", [data.lars]) == []


def test_trash_pages_by_keyset_without_gaps_or_repeats(data, installer_dsn):
    run(
        installer_dsn,
        "INSERT INTO contact (last_name, deleted_at) "
        "SELECT 'Gone ' || g, now() - (g % 7) * interval '1 hour' FROM generate_series(1, 23) g",
    )
    seen: list[tuple[str, int]] = []
    after = None
    with database.connection_context():
        while True:
            page = trash.page(after=after, limit=5)
            if not page:
                break
            seen += [(i.kind, i.id) for i in page]
            after = page[-1].cursor
    assert len(seen) == 23 == len(set(seen))


def test_purge_is_for_admins_and_takes_linked_activities(data, installer_dsn, pg, db_name):
    run(
        installer_dsn,
        "INSERT INTO activity (kind, subject, account_id, contact_id) "
        "VALUES ('call', 'budget', %s, %s)",
        (data.acme_eu, data.lars),
    )
    with database.connection_context():
        trash.soft_delete("account", data.acme_eu)
    add_login(installer_dsn, "sb_rep_trash", role="rep")
    database.close_all()  # the pool keeps the admin's connections across configure()
    configure(pg.dsn(db_name, user="sb_rep_trash"), "switchboard")
    with database.connection_context(), pytest.raises(PermissionDenied):
        trash.purge("account", data.acme_eu)
    assert run(installer_dsn, "SELECT count(*) FROM account WHERE id = %s", (data.acme_eu,)) == [
        (1,)
    ]
    database.close_all()
    configure(pg.dsn(db_name, user="sb_admin"), "switchboard")
    with database.connection_context():
        trash.purge("account", data.acme_eu)
    counts = run(
        installer_dsn,
        "SELECT (SELECT count(*) FROM account WHERE id = %(a)s),"
        " (SELECT count(*) FROM contact WHERE id = %(c)s),"
        " (SELECT count(*) FROM opportunity WHERE id = %(o)s),"
        " (SELECT count(*) FROM activity WHERE account_id = %(a)s),"
        " (SELECT count(*) FROM account WHERE id = %(root)s)",
        {"a": data.acme_eu, "c": data.lars, "o": data.deal, "root": data.acme},
    )
    assert counts == [(0, 0, 0, 0, 1)]


def test_purging_a_live_record_is_refused(data, installer_dsn):
    with database.connection_context(), pytest.raises(Exception, match="not in the trash"):
        trash.purge("contact", data.anna)
    assert run(installer_dsn, "SELECT count(*) FROM contact WHERE id = %s", (data.anna,)) == [(1,)]
