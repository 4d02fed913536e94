"""The audit trail follows visibility (migration 0010): a record's history is readable by
exactly those who may see the record now, and phone and email entries always name their
contact, so an update that leaves contact_id alone is not hidden from the people who see it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from db import migrate
from db.connection import configure, database
from db.services import history
from tests.security.conftest import SCHEMA, World, set_all_defaults


def visible_entries(w: World, who: str, table: str, row_id: int) -> list[int]:
    with w.connect(who).cursor() as cur:
        cur.execute("SELECT id FROM audit_log WHERE table_name = %s AND row_id = %s ORDER BY id",
                    (table, row_id))  # fmt: skip
        return [r[0] for r in cur.fetchall()]


def all_entries(w: World, table: str, row_id: int) -> list[int]:
    return [r[0] for r in w.installer(
        "SELECT id FROM audit_log WHERE table_name = %s AND row_id = %s ORDER BY id",
        (table, row_id))]  # fmt: skip


def test_an_opportunity_moved_into_a_hidden_account_takes_its_history_along(world: World):
    w = world
    set_all_defaults(w, "private")
    opp = w.ids["opp_nate"]
    # rita may read nate's account (a share), so nate's deal in it, and its history
    w.installer("INSERT INTO account_share (account_id, user_id, access) VALUES (%s, %s, 'read')",
                (w.ids["acc_nate"], w.ids["rita"]))  # fmt: skip
    w.installer("UPDATE opportunity SET amount = 250000, name = 'Deal of nate: the big one' "
                "WHERE id = %s", (opp,))  # fmt: skip
    before_move = all_entries(w, "opportunity", opp)
    assert len(before_move) == 2  # the insert and the update
    assert visible_entries(w, "rita", "opportunity", opp) == before_move
    w.installer("UPDATE opportunity SET account_id = %s WHERE id = %s", (w.ids["acc_sam"], opp))
    everything = all_entries(w, "opportunity", opp)
    with w.connect("rita").cursor() as cur:
        cur.execute("SELECT count(*) FROM opportunity WHERE id = %s", (opp,))
        assert cur.fetchone()[0] == 0  # rita no longer sees the deal ...
    assert visible_entries(w, "rita", "opportunity", opp) == []  # ... nor any of its history
    assert visible_entries(w, "sam", "opportunity", opp) == everything  # sam now sees it all
    assert visible_entries(w, "nate", "opportunity", opp) == everything  # still its owner
    assert visible_entries(w, "admin", "opportunity", opp) == everything


def test_agents_read_the_audit_log_without_any_opportunity_history(world: World):
    w = world
    set_all_defaults(w, "public_read")
    w.installer("UPDATE opportunity SET amount = 5 WHERE id = %s", (w.ids["opp_rita"],))
    with w.connect("aga").cursor() as cur:
        cur.execute("SELECT table_name, count(*) FROM audit_log GROUP BY 1 ORDER BY 1")
        seen = dict(cur.fetchall())
    assert "opportunity" not in seen  # no privilege on opportunity: no history of one either
    assert seen["contact"] == 5 and seen["account"] == 4  # and no error for the rest


def _phone_entries(w: World, who: str, contact_id: int) -> list[tuple[str, list[str]]]:
    configure(w.pg.dsn(w.db, user=w.users[who]), SCHEMA)
    try:
        with database.connection_context():
            page = history.record_history("contact", contact_id)
    finally:
        database.close_all()
    return [(e.op, [c.field for c in e.changes]) for e in page.entries
            if e.table_name == "contact_phone"]  # fmt: skip


def test_a_phone_update_that_keeps_its_contact_stays_in_the_contact_history(world: World):
    w = world
    set_all_defaults(w, "private")
    con = w.ids["con_rita"]
    with w.connect("rita").cursor() as cur:
        cur.execute("UPDATE contact_phone SET raw = '070-123 45 99', e164 = '+46701234599' "
                    "WHERE contact_id = %s", (con,))  # fmt: skip
    (entry,) = w.installer(
        "SELECT old_values, new_values FROM audit_log WHERE table_name = 'contact_phone' "
        "AND op = 'U' AND actor = %s", (w.users["rita"],))  # fmt: skip
    assert entry[0]["contact_id"] == entry[1]["contact_id"] == con
    # rita sees the change in her contact's history (the link itself is not shown as a change)
    assert ("U", ["phone e164", "phone raw"]) in _phone_entries(w, "rita", con)
    assert _phone_entries(w, "mona", con) != []  # her manager too
    assert _phone_entries(w, "sam", con) == []  # sam cannot see the contact: nor its phones


MIGRATION = Path(__file__).parents[2] / "db/migrations/0010_audit_visibility_and_no_leakproof.sql"


def test_migration_0010_backfills_the_contact_of_old_phone_and_email_updates(world: World):
    # Entries as 0002's trigger wrote them (no contact_id in an update that left it alone),
    # then 0010's backfill statement, as the migration runs it (as the owner).
    w = world
    con, phone = w.ids["con_rita"], w.one("SELECT id FROM contact_phone WHERE contact_id = %s",
                                           (w.ids["con_rita"],))  # fmt: skip
    email = w.one("INSERT INTO contact_email (contact_id, email) VALUES (%s, 'eva@old.example') "
                  "RETURNING id", (con,))  # fmt: skip
    w.installer("DELETE FROM contact_email WHERE id = %s", (email,))  # gone: from its log
    w.installer(
        "INSERT INTO audit_log (table_name, row_id, op, old_values, new_values) VALUES "
        "('contact_phone', %s, 'U', '{\"raw\": \"1\"}', '{\"raw\": \"2\"}'), "
        "('contact_email', %s, 'U', '{\"email\": \"eva@old.example\"}', "
        "'{\"email\": \"eva@new.example\"}')", (phone, email))  # fmt: skip
    backfill = re.search(r"WITH missing AS \(.*?AND m\.contact_id IS NOT NULL;",
                         MIGRATION.read_text(), re.S)  # fmt: skip
    assert backfill is not None
    w.installer(f"SET LOCAL ROLE {SCHEMA}_owner; " + migrate.render(backfill.group(0), SCHEMA))
    rows = w.installer(
        "SELECT table_name, (old_values->>'contact_id')::bigint, "
        "(new_values->>'contact_id')::bigint, new_values - 'contact_id' FROM audit_log "
        "WHERE op = 'U' AND table_name LIKE 'contact\\_%%' ORDER BY id")  # fmt: skip
    assert rows == [("contact_phone", con, con, {"raw": "2"}),
                    ("contact_email", con, con, {"email": "eva@new.example"})]  # fmt: skip
    assert _phone_entries(w, "rita", con)[0] == ("U", ["phone raw"])  # now in her history


@pytest.mark.parametrize("filters", [{}, {"table": "contact"}, {"actor": "sb_admin"}])
def test_the_audit_screens_pages_are_index_ranges_with_a_small_plan(world: World, filters):
    # Before 0010: a BRIN index (every page sorted the whole log) and a policy of eight nested
    # sub-queries (~300 plan nodes to plan for every page, admins included).
    w = world
    first = history.audit_query(**filters)
    conn = w.connect("admin", autocommit=False)
    with conn.cursor() as cur:
        cur.execute("SELECT at, id FROM audit_log ORDER BY at DESC, id DESC LIMIT 1 OFFSET 2")
        later = history.audit_query(before=cur.fetchone(), **filters)
        for sql, args in (first, later):
            # a tiny table: tell the planner to avoid what it would only avoid at scale
            cur.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; "
                        "SET LOCAL enable_sort = off")  # fmt: skip
            cur.execute("EXPLAIN " + sql, args)
            plan = [r[0] for r in cur.fetchall()]
            assert not any("Sort" in line for line in plan), plan
            assert any("Index Scan" in line and "audit_log_" in line for line in plan), plan
            assert len(plan) < 20, plan
    conn.rollback()
