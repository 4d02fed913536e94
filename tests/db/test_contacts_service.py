"""db/services/contacts.py against the fixed data of tests/fixtures_crm.py (as sb_admin)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from db.connection import configure, database
from db.errors import NotFound
from db.services import contacts
from tests import fixtures_crm


@pytest.fixture
def crm(installer_dsn, admin_dsn):
    data = fixtures_crm.load(installer_dsn)
    configure(admin_dsn, "switchboard")
    with database.connection_context():
        yield data


def test_detail_person_and_company_apart(crm):
    d = contacts.detail(crm.contacts["Anna Lind"])
    assert (d.full_name, d.job_title, d.job_role, d.department) == (
        "Anna Lind", "CFO", "decision_maker", "Finance"
    )  # fmt: skip
    assert (str(d.birthday), d.spouse_name, d.interests) == (
        "1975-03-12",
        "Lars Lind",
        "sailing, jazz",
    )
    assert (d.do_not_call, d.do_not_email, d.owner_name) == (False, False, "Ada Admin")
    assert (d.account_id, d.account_name) == (
        crm.accounts["Volvo Cars Sverige AB"], "Volvo Cars Sverige AB"
    )  # fmt: skip
    assert [c.name for c in d.breadcrumb] == ["Volvo Group", "Volvo Cars Sverige AB"]


def test_detail_phones_and_emails_primary_first(crm):
    d = contacts.detail(crm.contacts["Anna Lind"])
    assert [(p.kind, p.number, p.is_primary) for p in d.phones] == [
        ("work", "+46 31 590 00 00", True),
        ("mobile", "+46 70 123 45 67", False),
    ]
    assert [(e.email, e.is_primary) for e in d.emails] == [
        ("anna.lind@volvocars.com", True),
        ("anna@home.se", False),
    ]


def test_detail_without_account(crm):
    d = contacts.detail(crm.contacts["Lars Lind"])
    assert d.account_id is None and d.breadcrumb == [] and d.phones == [] and d.emails == []


def test_detail_of_missing_or_deleted_contact(crm, installer_dsn):
    with pytest.raises(NotFound):
        contacts.detail(10**9)
    import psycopg2

    conn = psycopg2.connect(installer_dsn)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM switchboard.contact WHERE full_name = 'Ghost Person'")
        ghost = cur.fetchone()[0]
    conn.close()
    with pytest.raises(NotFound):
        contacts.detail(ghost)


def test_relationships_both_directions_labelled_from_this_side(crm):
    anna = contacts.relationships(crm.contacts["Anna Lind"])
    assert [(r.label, r.other_name, r.outgoing) for r in anna] == [
        ("has assistant", "Maja Holm", False),
        ("reports to", "Per Ek", True),
        ("spouse of", "Lars Lind", False),
    ]
    assert anna[1].other_id == crm.contacts["Per Ek"] and anna[1].note == "since 2021"
    per = contacts.relationships(crm.contacts["Per Ek"])
    assert [(r.label, r.other_name) for r in per] == [("manages", "Anna Lind")]
    maja = contacts.relationships(crm.contacts["Maja Holm"])
    assert [(r.label, r.other_name) for r in maja] == [("assistant of", "Anna Lind")]
    assert contacts.relationships(crm.contacts["Erik Berg"]) == []


def test_activities_deals_and_cases(crm):
    anna = crm.contacts["Anna Lind"]
    acts = contacts.latest_activities(anna, limit=5)
    assert [(a.kind, a.direction, a.subject, a.outcome, a.duration_seconds) for a in acts] == [
        ("call", "out", "budget approved for Q1", "reached", 360),
        ("email", "out", "quote v2 sent", None, None),
    ]
    opps = contacts.open_opportunities(anna)
    assert [(o.name, o.stage, o.amount) for o in opps] == [
        ("Fleet renewal", "Proposal", Decimal("400000.00"))
    ]
    cases = contacts.open_cases(anna)
    assert [(c.subject, c.status, c.priority, c.assignee_name) for c in cases] == [
        ("invoice copy", "waiting", "high", "Ada Admin")
    ]
    assert contacts.open_cases(crm.contacts["Per Ek"]) == []


def test_query_counts(crm, monkeypatch):
    calls: list[str] = []
    real = database.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        calls.append(sql)
        return real(sql, params, *args, **kwargs)

    monkeypatch.setattr(database, "execute_sql", counting)
    anna = crm.contacts["Anna Lind"]
    contacts.detail(anna)
    assert len(calls) == 2  # the contact with phones and emails; the breadcrumb
    for fn in (contacts.relationships, contacts.latest_activities, contacts.open_opportunities,
               contacts.open_cases):  # fmt: skip
        calls.clear()
        fn(anna)
        assert len(calls) == 1
