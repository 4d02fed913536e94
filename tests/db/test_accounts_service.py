"""db/services/accounts.py against the fixed data of tests/fixtures_crm.py (as sb_admin)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from db.connection import configure, database
from db.errors import NotFound, ValidationError
from db.services import accounts
from tests import fixtures_crm


@pytest.fixture
def crm(installer_dsn, admin_dsn):
    data = fixtures_crm.load(installer_dsn)
    configure(admin_dsn, "switchboard")
    with database.connection_context():
        yield data


def test_roots_are_sorted_by_name_and_skip_deleted(crm):
    page = accounts.roots()
    names = [n.name for n in page.nodes]
    assert names == ["Big Holding", "Deep 00", "Ericsson", "H&M Group", "IKEA", "Volvo Group"]
    assert page.next_after is None


def test_root_summaries(crm):
    nodes = {n.name: n for n in accounts.roots().nodes}
    volvo = nodes["Volvo Group"]
    assert volvo.has_children and volvo.parent_id is None
    assert volvo.contact_count == 0 and volvo.open_value == Decimal(0)
    assert not nodes["Ericsson"].has_children
    cars = accounts.children(volvo.id).nodes
    assert [n.name for n in cars] == ["Volvo Cars Sverige AB", "Volvo Trucks"]
    assert cars[0].contact_count == 4  # Ghost Person is deleted
    assert cars[0].open_value == Decimal("500000.00")  # Old deal is closed
    assert cars[1].open_value == Decimal("250000.00")
    assert cars[0].has_children and not cars[1].has_children


def test_roots_keyset_pages(crm):
    first = accounts.roots(limit=4)
    assert [n.name for n in first.nodes] == ["Big Holding", "Deep 00", "Ericsson", "H&M Group"]
    assert first.next_after == ("h&m group", crm.accounts["H&M Group"])
    second = accounts.roots(after=first.next_after, limit=4)
    assert [n.name for n in second.nodes] == ["IKEA", "Volvo Group"]
    assert second.next_after is None


def test_children_of_250_pages_by_100(crm):
    parent = crm.accounts["Big Holding"]
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = accounts.children(parent, after=after, limit=100)
        seen += [n.name for n in page.nodes]
        pages += 1
        if page.next_after is None:
            break
        after = page.next_after
    assert pages == 3
    assert seen == [f"Sub {i:03d}" for i in range(1, 251)]


def test_contact_count_is_capped(crm, installer_dsn):
    import psycopg2

    conn = psycopg2.connect(installer_dsn)
    with conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO switchboard.contact (account_id, first_name, last_name) "
            "SELECT %s, 'P', 'N' || g FROM generate_series(1, 1001) g",
            [crm.accounts["IKEA"]],
        )
    conn.close()
    ikea = next(n for n in accounts.roots().nodes if n.name == "IKEA")
    assert ikea.contact_count == accounts.CONTACT_CAP and ikea.contacts_capped
    volvo_cars = accounts.children(crm.accounts["Volvo Group"]).nodes[0]
    assert not volvo_cars.contacts_capped


def test_name_filter_finds_any_depth_with_parent_name(crm):
    page = accounts.roots(name_filter="plant")
    assert [(n.name, n.parent_name) for n in page.nodes] == [
        ("Göteborg plant", "Volvo Cars Sverige AB")
    ]
    assert [n.name for n in accounts.roots(name_filter="VOLVO").nodes] == [
        "Volvo Cars Sverige AB", "Volvo Group", "Volvo Trucks"
    ]  # fmt: skip
    # LIKE wildcards in the filter are literal text
    assert accounts.roots(name_filter="%").nodes == []
    assert [n.name for n in accounts.roots(name_filter="h&m").nodes] == ["H&M Group"]


def test_name_filter_pages(crm):
    first = accounts.roots(name_filter="sub 2", limit=20)
    assert len(first.nodes) == 20 and first.next_after is not None
    rest = accounts.roots(name_filter="sub 2", after=first.next_after, limit=100)
    names = [n.name for n in first.nodes + rest.nodes]
    assert names == sorted(names) and len(names) == 51  # Sub 200..Sub 250
    assert rest.next_after is None


def test_limit_is_validated(crm):
    with pytest.raises(ValidationError) as err:
        accounts.roots(limit=0)
    assert err.value.field == "limit"


def test_ancestors_root_first(crm):
    crumbs = accounts.ancestors(crm.accounts["Deep 11"])
    assert [c.name for c in crumbs] == [f"Deep {i:02d}" for i in range(12)]
    assert [c.name for c in accounts.ancestors(crm.accounts["Göteborg plant"])] == [
        "Volvo Group", "Volvo Cars Sverige AB", "Göteborg plant"
    ]  # fmt: skip
    with pytest.raises(NotFound):
        accounts.ancestors(10**9)


def test_rollup(crm):
    r = accounts.rollup(crm.accounts["Volvo Group"])
    assert r == accounts.Rollup(accounts=5, contacts=5, open_value=Decimal("800000.00"))
    r = accounts.rollup(crm.accounts["Deep 05"])
    assert (r.accounts, r.contacts, r.open_value) == (7, 0, Decimal(0))
    with pytest.raises(NotFound):
        accounts.rollup(10**9)


def test_facts(crm):
    f = accounts.facts(crm.accounts["Volvo Cars Sverige AB"])
    assert (f.industry, f.sic_code, f.employees, f.lifecycle, f.tier) == (
        "Automotive", "3711", 43000, "customer", "A"
    )  # fmt: skip
    assert (f.owner_name, f.team_name, f.city, f.country) == (
        "Ada Admin", "Nordics", "Göteborg", "Sweden"
    )  # fmt: skip
    assert f.parent_id == crm.accounts["Volvo Group"]
    with pytest.raises(NotFound):
        accounts.facts(10**9)


def test_contacts_page_with_primary_phone_and_email(crm):
    page = accounts.contacts_page(crm.accounts["Volvo Cars Sverige AB"], limit=3)
    assert [c.full_name for c in page.contacts] == ["Erik Berg", "Per Ek", "Maja Holm"]
    assert page.contacts[0].phone == "+46 31 590 00 12"
    rest = accounts.contacts_page(crm.accounts["Volvo Cars Sverige AB"], after=page.next_after)
    assert [c.full_name for c in rest.contacts] == ["Anna Lind"]
    anna = rest.contacts[0]
    assert (anna.job_title, anna.phone, anna.email) == (
        "CFO", "+46 31 590 00 00", "anna.lind@volvocars.com"
    )  # fmt: skip
    assert rest.next_after is None


def test_open_opportunities_and_latest_activities(crm):
    cars = crm.accounts["Volvo Cars Sverige AB"]
    opps = accounts.open_opportunities(cars)
    assert [(o.name, o.stage, o.amount, o.contact_name) for o in opps] == [
        ("Fleet renewal", "Proposal", Decimal("400000.00"), "Anna Lind"),
        ("Service deal", "Qualify", Decimal("100000.00"), None),
    ]
    acts = accounts.latest_activities(cars, limit=2)
    assert [(a.kind, a.subject, a.contact_name) for a in acts] == [
        ("call", "budget approved for Q1", "Anna Lind"),
        ("note", "site visit booked", None),
    ]


def test_each_function_is_one_query(crm, monkeypatch):
    calls: list[str] = []
    real = database.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        calls.append(sql)
        return real(sql, params, *args, **kwargs)

    accounts.reads_deals()  # once per connection target: may this login read deals?
    monkeypatch.setattr(database, "execute_sql", counting)
    cars = crm.accounts["Volvo Cars Sverige AB"]
    for fn in (
        lambda: accounts.roots(),
        lambda: accounts.roots(name_filter="volvo"),
        lambda: accounts.children(crm.accounts["Big Holding"]),
        lambda: accounts.ancestors(crm.accounts["Deep 11"]),
        lambda: accounts.rollup(crm.accounts["Volvo Group"]),
        lambda: accounts.facts(cars),
        lambda: accounts.contacts_page(cars),
        lambda: accounts.open_opportunities(cars),
        lambda: accounts.latest_activities(cars),
    ):
        calls.clear()
        fn()
        assert len(calls) == 1
