"""The one search (db/services/search.py, migration 0017): typos, email, every phone format,
ranking, grouping, and cancelling a superseded search."""

from __future__ import annotations

import threading

import pytest

from db.connection import configure, database
from db.errors import ValidationError
from db.services import search
from tests.records_data import run, seed

# country: (E.164 stored, formats a person may type for it; SE is the default region)
NUMBERS = {
    "SE": ("+46317001234", ["031-700 12 34", "+46 31 700 12 34", "0046 31 700 12 34",
                            "46317001234", "(031) 700-1234"]),
    "US": ("+14152037663", ["+1 (415) 203-7663", "001 415 203 7663", "1-415-203-7663",
                            "+1.415.203.7663"]),
    "DE": ("+493012345678", ["+49 30 12345678", "0049 30 1234 5678", "49 30 12345678"]),
    "GB": ("+442079460958", ["+44 20 7946 0958", "0044 20 7946 0958", "+44 (0)20 7946 0958",
                             "44 20 7946 0958"]),
    "JP": ("+81312345678", ["+81 3-1234-5678", "0081 3 1234 5678", "81 3 1234 5678"]),
    "FR": ("+33123456789", ["+33 1 23 45 67 89", "0033 1 23 45 67 89", "+33 (0)1 23 45 67 89"]),
    "IN": ("+919876543210", ["+91 98765 43210", "0091 98765-43210", "91 98765 43210"]),
    "BR": ("+5511912345678", ["+55 11 91234-5678", "0055 (11) 91234-5678", "55 11 912345678"]),
}  # fmt: skip


@pytest.fixture
def data(installer_dsn, admin_dsn):
    s = seed(installer_dsn)
    owner = "(SELECT id FROM app_user WHERE username = 'sb_admin')"
    ids = {}
    for country, (e164, _) in NUMBERS.items():
        cid = run(installer_dsn,
                  "INSERT INTO contact (first_name, last_name, account_id, owner_id) "
                  f"VALUES ('Caller', %s, %s, {owner}) RETURNING id", (country, s.globex))[0][0]
        run(installer_dsn, "INSERT INTO contact_phone (contact_id, raw, e164) VALUES (%s, %s, %s)",
            (cid, e164, e164))
        ids[country] = cid
    for first, last in [("Margareta", "Johansson"), ("Margit", "Jonsson"), ("Mats", "Johanson")]:
        ids[last + first] = run(
            installer_dsn,
            "INSERT INTO contact (first_name, last_name, account_id, owner_id) "
            f"VALUES (%s, %s, %s, {owner}) RETURNING id", (first, last, s.acme))[0][0]
    configure(admin_dsn, "switchboard")
    s.ids = ids  # type: ignore[attr-defined]
    return s


def found(text: str, kind: str = "contact", **kw) -> list[int]:
    with database.connection_context():
        results = search.search(text, **kw)
    group = results.group(kind)
    return [h.id for h in group.hits] if group else []


@pytest.mark.parametrize("country", sorted(NUMBERS))
def test_every_phone_format_finds_the_contact(data, country):
    e164, formats = NUMBERS[country]
    digits = e164[1:]
    national = e164[1 + len(digits) - len(digits.lstrip("0")):]
    tails = [digits[-n:] for n in (7, 8, 9, 10)]
    # last 7-10 digits, also written with spaces and dashes
    tails += [f"{digits[-10:-7]} {digits[-7:-4]}-{digits[-4:]}", national]
    for text in [e164, *formats, *tails]:
        assert data.ids[country] in found(text), (country, text)


def test_a_phone_hit_says_how_it_matched(data):
    with database.connection_context():
        same = search.search("+46 31 700 12 34").group("contact").hits
        tail = search.search("7001234").group("contact").hits
    assert (same[0].id, same[0].how, same[0].detail) == (data.ids["SE"], "same", "+46317001234")
    assert (tail[0].id, tail[0].how) == (data.ids["SE"], "ends with")


def test_phone_keys():
    forms, suffixes = search.phone_keys("0046 (0)31-700 12 34", region="SE")
    assert "+46317001234" in forms
    assert search.phone_keys("700 1234")[1] == ["4321007"]
    assert search.phone_keys("123456")[1] == []  # fewer than 7 digits: no suffix
    assert not search.is_phone("123456") and search.is_phone("+1 415 203 7663")
    assert not search.is_phone("Room 101 2023 4567 a")


def test_typos_find_contacts_and_accounts(data):
    assert data.anna in found("Ana Lindd")
    assert data.ids["JohanssonMargareta"] in found("Margarta Johanson")
    assert data.acme in found("Acmee", "account")
    assert data.globex in found("Globx Corporaton", "account")
    assert found("zzzqqq") == [] and found("zzzqqq", "account") == []


def test_exact_email_any_case(data):
    assert found("ANNA@Acme.Example") == [data.anna]
    assert found("anna@acme.exampl") == []  # exact: no fuzzy email


def test_ranking_same_then_prefix_then_word_then_similar(data):
    with database.connection_context():
        hits = search.search("Acme", kinds=["account"]).group("account").hits
        people = search.search("Johansson", kinds=["contact"]).group("contact").hits
    assert [h.id for h in hits] == [data.acme, data.acme_eu]
    assert [h.how for h in hits] == ["starts with", "starts with"]  # shorter: more similar
    assert hits[1].detail == "Acme AB"  # the parent
    with database.connection_context():
        same = search.search("ACME ab", kinds=["account"]).group("account").hits
    assert (same[0].id, same[0].how) == (data.acme, "same")
    # "Margareta Johansson" has the word; "Mats Johanson" is only similar
    assert [h.how for h in people][:1] == ["word starts with"]
    assert people[0].id == data.ids["JohanssonMargareta"]
    assert data.ids["JohansonMats"] in [h.id for h in people]


def test_groups_deals_and_cases_and_limits(data):
    with database.connection_context():
        results = search.search("Acme", limit_per_kind=1)
    assert [g.kind for g in results.groups][:1] == ["account"]
    assert results.group("account").more and len(results.group("account").hits) == 1
    with database.connection_context():
        assert search.search("").groups == []
        with pytest.raises(ValidationError):
            search.search("x", kinds=["nope"])
        with pytest.raises(ValidationError):
            search.search("x" * 201)


def test_one_or_two_letters_find_name_starts(data):
    assert data.acme in found("a", "account") and data.acme in found("Ac", "account")
    assert data.globex not in found("ac", "account")


def test_new_and_renamed_records_are_found(data, installer_dsn):
    run(installer_dsn, "UPDATE account SET name = 'Initech Nordic' WHERE id = %s", (data.globex,))
    assert found("Initek", "account") == [data.globex]
    assert found("Globex Corporation", "account") == []  # the old term finds no live row


def test_a_superseded_search_is_cancelled_and_returns_none(data):
    started, release = threading.Event(), threading.Event()

    def slow(text, **kw):
        if text == "slow":
            started.set()
            database.execute_sql("SELECT pg_sleep(5)")
        return search.search(text, **kw)

    searcher = search.Searcher(search_fn=slow)
    answers: dict[str, object] = {}

    def first():
        with database.connection_context():
            answers["slow"] = searcher.run(seq, "slow")
        release.set()

    seq = searcher.next_seq()
    t = threading.Thread(target=first)
    t.start()
    assert started.wait(5)
    newer = searcher.next_seq()  # cancels the running one
    assert release.wait(3), "the superseded query was not cancelled"
    t.join()
    assert answers["slow"] is None and searcher.cancelled == 1
    with database.connection_context():
        result = searcher.run(newer, "Acme")
        assert result is not None and data.acme in [h.id for h in result.hits]
        # the cancelled connection is fine for the next query
        assert database.execute_sql("SELECT 1").fetchone() == (1,)
    assert searcher.run(seq, "Acme") is None  # an old number never runs
