"""Caller lookup: every way a number is dialled finds the contact, in many countries, under RLS.

The contacts' phones are stored in E.164 (as forms save them); the dialled text comes in as
callers and caller ID give it: national with trunk prefix, +international, 00-prefixed, the
country code without +, spaces/dashes/dots/parentheses, or only the last 7-10 digits.
"""

from __future__ import annotations

import psycopg2
import pytest

from db.connection import configure, database
from db.errors import NotFound, ValidationError
from db.services import callers
from db.services.callers import CallerCard, CallerMatch
from tests.activity_data import seed

# Every number ends in other 7 digits (a 7-digit suffix shared by two is "several matches").
# (region, E.164 stored, national as dialled in the country, as dialled from abroad with 00)
NUMBERS = [
    ("SE", "+46701234567", "070-123 45 67", "00 46 70 123 45 67"),
    ("US", "+14152037663", "(415) 203-7663", "011 1 415 203 7663"),
    ("DE", "+4930123456789", "030 123456789", "0049 30 123456789"),
    ("GB", "+442079460958", "020 7946 0958", "00 44 20 7946 0958"),
    ("JP", "+81312345678", "03-1234-5678", "010 81 3 1234 5678"),
    ("FR", "+33142685300", "01 42 68 53 00", "00 33 1 42 68 53 00"),
    ("IN", "+919876543210", "098765 43210", "00 91 98765 43210"),
    ("BR", "+5511987654321", "(11) 98765-4321", "00 55 11 98765 4321"),
    ("IT", "+390669876123", "06 6987 6123", "00 39 06 6987 6123"),
    ("AU", "+61298765012", "(02) 9876 5012", "0011 61 2 9876 5012"),
]


def _sql(installer_dsn: str, sql: str, params: tuple = ()) -> list[tuple]:
    conn = psycopg2.connect(installer_dsn, options="-c search_path=switchboard")
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


@pytest.fixture
def data(pg, db_name, installer_dsn):
    s = seed(installer_dsn)
    ids = {}
    for region, e164, _national, _abroad in NUMBERS:
        cid = _sql(installer_dsn, "INSERT INTO contact (account_id, first_name, last_name, "
                   "owner_id, country) VALUES (%s, 'Caller', %s, %s, %s) RETURNING id",
                   (s.root_id, region, s.rita_id, region))[0][0]  # fmt: skip
        _sql(installer_dsn, "INSERT INTO contact_phone (contact_id, raw, e164) VALUES (%s, %s, %s)",
             (cid, e164, e164))  # fmt: skip
        ids[region] = cid
    s.ids = ids
    configure(pg.dsn(db_name, user="rita"), "switchboard")
    database.connect(reuse_if_open=True)
    try:
        yield s
    finally:
        database.close()


@pytest.mark.parametrize("region,e164,national,abroad", NUMBERS, ids=[n[0] for n in NUMBERS])
def test_every_format_finds_the_contact(data, region, e164, national, abroad):
    digits = e164[1:]
    significant = national.replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
    forms = [
        e164,  # +E.164
        "+" + " ".join([digits[:2], digits[2:5], digits[5:]]),  # +international, spaced
        abroad,  # 00 / 011 / 0011 prefixed
        "00" + digits,
        digits,  # the country code without +
        national,  # national, as written in the country
        significant,  # national, digits only
        digits[-7:], digits[-8:], digits[-9:], digits[-10:],  # caller ID: the last digits
        "+" + digits[:2] + "." + digits[2:6] + "." + digits[6:],
    ]
    for dialled in forms:
        # National forms are read in the contact's region, then by suffix from anywhere.
        for default in (region, "SE"):
            found = callers.lookup(dialled, default)
            assert isinstance(found, CallerCard), (dialled, default, found)
            assert found.contact_id == data.ids[region], (dialled, default)
            assert found.name == f"Caller {region}"


def test_card_contents_and_several_matches(data, installer_dsn):
    cid = data.ids["SE"]
    _sql(installer_dsn, "UPDATE contact SET do_not_call = true, job_title = 'CFO' WHERE id = %s",
         (cid,))  # fmt: skip
    case = _sql(installer_dsn, "INSERT INTO support_case (account_id, contact_id, subject, "
                "priority) VALUES (%s, %s, 'invoice copy', 'high') RETURNING id",
                (data.root_id, cid))[0][0]  # fmt: skip
    _sql(installer_dsn, "INSERT INTO activity (kind, subject, contact_id, account_id, author_id, "
         "outcome) VALUES ('call', 'budget ok', %s, %s, %s, 'reached')",
         (cid, data.root_id, data.rita_id))  # fmt: skip
    guardian = _sql(installer_dsn, "SELECT id FROM relationship_type WHERE key = 'guardian_of'")
    if guardian:
        _sql(installer_dsn, "INSERT INTO contact_relationship (from_contact_id, to_contact_id, "
             "type_id) VALUES (%s, %s, %s)", (data.contact_id, cid, guardian[0][0]))  # fmt: skip
    card = callers.lookup("070-123 45 67", "SE")
    assert isinstance(card, CallerCard)
    assert card.do_not_call and not card.do_not_email and card.title == "CFO"
    assert card.account_name == "Volvo Group" and card.e164 == "+46701234567"
    assert [c.id for c in card.cases] == [case] and card.cases[0].due_at is not None
    assert card.recent[0].subject == "budget ok" and card.recent[0].outcome == "reached"
    assert card.deals is not None and card.deals[0].name == "Fleet renewal"  # a rep sees deals
    if guardian:
        assert card.related and card.related[0].name == "Anna Lind"
    # a second contact with the same number: several matches to choose from
    other = _sql(installer_dsn, "INSERT INTO contact (first_name, last_name, owner_id) "
                 "VALUES ('Twin', 'Number', %s) RETURNING id", (data.rita_id,))[0][0]
    _sql(installer_dsn, "INSERT INTO contact_phone (contact_id, raw, e164) VALUES (%s, 'x', "
         "'+46701234567')", (other,))  # fmt: skip
    found = callers.lookup("+46 70 123 45 67")
    assert isinstance(found, list) and all(isinstance(m, CallerMatch) for m in found)
    assert {m.contact_id for m in found} == {cid, other}
    assert callers.card(other).name == "Twin Number"


def test_unknown_short_and_hidden(data, installer_dsn, pg, db_name):
    assert callers.lookup("+46 8 999 99 99") is None
    with pytest.raises(ValidationError, match="number: needs at least 7 digits"):
        callers.lookup("12 34")
    with pytest.raises(ValidationError, match="number"):
        callers.lookup("x" * 70)
    # sam (another rep, another team's nothing) does not see rita's contacts: no card, no hint
    database.close()
    configure(pg.dsn(db_name, user="sam"), "switchboard")
    _sql(installer_dsn, "UPDATE sharing_default SET access = 'private'")
    with database.connection_context():
        assert callers.lookup("+46701234567") is None
        assert callers.lookup("1234567") is None
        with pytest.raises(NotFound):
            callers.card(data.ids["SE"])


def test_agent_card_has_no_deals_and_no_error(data, installer_dsn, pg, db_name):
    conn = psycopg2.connect(installer_dsn)
    try:
        with conn, conn.cursor() as cur:
            from db.bootstrap import ensure_login

            ensure_login(cur, "switchboard", "aggie", role="agent", display_name="Aggie Agent")
    finally:
        conn.close()
    _sql(installer_dsn, "UPDATE sharing_default SET access = 'public_read'")
    database.close()
    configure(pg.dsn(db_name, user="aggie"), "switchboard")
    with database.connection_context():
        card = callers.lookup("0701234567", "SE")
        assert isinstance(card, CallerCard) and card.deals is None
        shown = card.as_json()
        assert shown["open_deals"] is None and shown["contact_id"] == data.ids["SE"]


def test_lookup_is_at_most_two_round_trips(data, monkeypatch):
    calls: list[str] = []
    real = database.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        calls.append(sql)
        return real(sql, params, *args, **kwargs)

    monkeypatch.setattr(database, "execute_sql", counting)
    assert isinstance(callers.lookup("+46701234567"), CallerCard)
    assert len(calls) <= 2, calls  # PREPARE (once per connection) + EXECUTE
    calls.clear()
    assert isinstance(callers.lookup("0701234567", "SE"), CallerCard)
    assert len(calls) == 1, calls  # prepared: one round trip


def test_card_shows_only_visible_relations(data, installer_dsn):
    _sql(installer_dsn, "UPDATE sharing_default SET access = 'private'")
    hidden = _sql(installer_dsn, "INSERT INTO contact (first_name, last_name, owner_id) VALUES "
                  "('Hidden', 'Person', %s) RETURNING id", (data.sam_id,))[0][0]
    spouse = _sql(installer_dsn, "SELECT id FROM relationship_type ORDER BY id LIMIT 1")[0][0]
    cid = data.ids["SE"]
    _sql(installer_dsn, "INSERT INTO contact_relationship (from_contact_id, to_contact_id, "
         "type_id) VALUES (%s, %s, %s), (%s, %s, %s)",
         (cid, hidden, spouse, data.contact_id, cid, spouse))  # fmt: skip
    card = callers.lookup("+46701234567")
    assert isinstance(card, CallerCard)
    assert [r.name for r in card.related] == ["Anna Lind"]  # the hidden one is left out
    assert card.phones == [("work", "+46701234567")]
