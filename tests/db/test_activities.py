"""Activities service: validation, idempotent logging, timelines with keyset paging, my day."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg2
import pytest

from db import migrate
from db.connection import configure, database
from db.errors import NotFound, StaleRecord, ValidationError, ValidationErrors
from db.services import activities as acts
from db.services import users
from db.services.activities import Scope
from tests.activity_data import add_activities, bulk, seed

SCHEMA_SQL = Path(migrate.__file__).parent / "migrations" / "0001_schema.sql"


@pytest.fixture
def data(installer_dsn, admin_dsn):
    s = seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    with database.connection_context():
        yield s


def fields(exc: BaseException) -> set[str]:
    if isinstance(exc, ValidationErrors):
        return {e.field for e in exc.errors}
    assert isinstance(exc, ValidationError)
    return {exc.field}


def count(installer_dsn: str, where: str = "true") -> int:
    conn = psycopg2.connect(installer_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM switchboard.activity WHERE {where}")
            return cur.fetchone()[0]
    finally:
        conn.close()


def test_choices_match_the_check_constraints():
    sql = SCHEMA_SQL.read_text()
    table = sql[sql.index("CREATE TABLE activity") :]
    kinds = re.search(r"kind IN \(([^)]*)\)", table, re.S).group(1)
    outcomes = re.search(r"outcome IN \(([^)]*)\)", table, re.S).group(1)
    assert tuple(re.findall(r"'(\w+)'", kinds)) == acts.KINDS
    assert tuple(re.findall(r"'(\w+)'", outcomes)) == acts.OUTCOMES


def test_log_a_call_fills_the_contacts_account_and_author(data, installer_dsn):
    a = acts.log("call", body="budget ok\nsecond line", contact_id=data.contact_id,
                 direction="out", outcome="reached", duration_seconds=360)  # fmt: skip
    assert a.account_id == data.root_id
    assert a.author_id == data.admin_id and a.author_name == "Ada Admin"
    assert a.contact_name == "Anna Lind" and a.first_line == "budget ok"
    assert a.body == "budget ok\nsecond line" and a.version == 1
    assert count(installer_dsn) == 1


def test_follow_up_defaults_to_the_author_as_assignee(data):
    due = datetime.now().astimezone() + timedelta(days=2)
    a = acts.log("call", body="x", contact_id=data.contact_id, due_at=due)
    assert a.assignee_id == data.admin_id and a.is_open
    b = acts.log("call", body="y", contact_id=data.contact_id, due_at=due,
                 assignee_id=data.rita_id)  # fmt: skip
    assert b.assignee_id == data.rita_id and b.assignee_name == "Rita Rep"


def test_timeline_pages_name_people_and_see_renames(data, installer_dsn, monkeypatch):
    due = datetime.now().astimezone() + timedelta(days=2)
    acts.log("call", body="x", contact_id=data.contact_id, due_at=due, assignee_id=data.rita_id)
    [a] = acts.timeline(Scope("contact", data.contact_id)).items
    # People's names come from users.display_names; the account's name only from get().
    assert (a.author_name, a.assignee_name, a.account_name) == ("Ada Admin", "Rita Rep", None)
    assert acts.get(a.id).account_name is not None
    rita = next(u for u in users.list_users().users if u.id == data.rita_id)
    users.update_user(rita.username, "Rita Renamed", rita.email)  # here: seen at once
    [a] = acts.timeline(Scope("contact", data.contact_id)).items
    assert a.assignee_name == "Rita Renamed"
    conn = psycopg2.connect(installer_dsn)  # elsewhere: seen once the cached name expires
    try:
        with conn, conn.cursor() as cur:
            cur.execute("UPDATE switchboard.app_user SET display_name = 'Rita Elsewhere' "
                        "WHERE id = %s", (data.rita_id,))  # fmt: skip
    finally:
        conn.close()
    monkeypatch.setattr(users, "NAME_TTL_S", 0.0)
    [a] = acts.timeline(Scope("contact", data.contact_id)).items
    assert a.assignee_name == "Rita Elsewhere"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "fax"}, "kind"),
        ({"direction": "sideways"}, "direction"),
        ({"outcome": "maybe"}, "outcome"),
        ({"subject": "x" * 501}, "subject"),
        ({"body": "x" * 100_001}, "body"),
        ({"duration_seconds": -1}, "duration"),
        ({"duration_seconds": 8 * 24 * 3600}, "duration"),
        ({"occurred_at": datetime(1800, 1, 1).astimezone()}, "occurred_at"),
        ({"occurred_at": datetime.now().astimezone(),
          "due_at": datetime.now().astimezone() - timedelta(days=1)}, "due_at"),
        ({"assignee_id": 999999, "due_at": datetime.now().astimezone()}, "assignee"),
        ({"contact_id": 999999}, "contact"),
        ({"opportunity_id": 999999}, "opportunity"),
    ],
)  # fmt: skip
def test_each_bad_field_is_named_and_nothing_is_written(data, installer_dsn, kwargs, field):
    args = {"kind": "call", "body": "notes", "account_id": data.root_id, **kwargs}
    with pytest.raises((ValidationError, ValidationErrors)) as info:
        acts.log(**args)
    assert field in fields(info.value)
    assert count(installer_dsn) == 0


def test_several_bad_fields_are_reported_together(data):
    with pytest.raises(ValidationErrors) as info:
        acts.log("fax", outcome="maybe", duration_seconds=-5)
    assert fields(info.value) == {"kind", "outcome", "duration"}


def test_replayed_client_uuid_is_stored_once(data, installer_dsn):
    key = uuid.uuid4()
    first = acts.log("note", body="once", account_id=data.root_id, client_uuid=key)
    again = acts.log("note", body="once", account_id=data.root_id, client_uuid=str(key))
    assert again.id == first.id and again.client_uuid == str(key)
    assert count(installer_dsn) == 1


def test_parsers_name_the_field():
    today = date(2024, 12, 4)  # a Wednesday
    assert acts.parse_date("fri", "due_at", today) == date(2024, 12, 6)
    assert acts.parse_date("+3", "due_at", today) == date(2024, 12, 7)
    assert acts.parse_date("tomorrow", "due_at", today) == date(2024, 12, 5)
    assert acts.parse_date("", "due_at", today) is None
    with pytest.raises(ValidationError) as info:
        acts.parse_date("next blue moon", "due_at", today)
    assert info.value.field == "due_at"
    assert acts.parse_duration("6") == 360
    assert acts.parse_duration("1h30") == 5400
    assert acts.parse_duration("1:30") == 5400
    assert acts.parse_duration("90s") == 90
    with pytest.raises(ValidationError) as info:
        acts.parse_duration("a while")
    assert info.value.field == "duration"
    with pytest.raises(ValidationError):
        acts.parse_datetime("25:99", "occurred_at")


def test_keyset_pages_have_no_gaps_or_duplicates_with_equal_timestamps(data, installer_dsn):
    same = data.now - timedelta(hours=1)
    rows = [{"kind": "note", "subject": f"n{i}", "occurred_at": same,
             "contact_id": data.contact_id, "account_id": data.root_id,
             "author_id": data.rita_id} for i in range(30)]  # fmt: skip
    ids = add_activities(installer_dsn, rows)
    bulk(installer_dsn, data.root_id, 45, data.now, data.rita_id, contact_id=data.contact_id)
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        page = acts.timeline(Scope("contact", data.contact_id), before=cursor, limit=7)
        seen += [a.id for a in page.items]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 75
    assert set(ids) <= set(seen)
    stamps = [a.cursor for a in acts.timeline(Scope("contact", data.contact_id), limit=75).items]
    assert stamps == sorted(stamps, reverse=True)
    assert pages == 11  # 75 / 7 rounded up: the last page says there is no more


def test_account_timeline_with_and_without_sub_accounts(data, installer_dsn):
    t = data.now
    add_activities(installer_dsn, [
        {"kind": "call", "occurred_at": t - timedelta(minutes=1), "account_id": data.root_id},
        {"kind": "note", "occurred_at": t - timedelta(minutes=2),
         "account_id": data.child_ids[0]},
        {"kind": "email", "occurred_at": t - timedelta(minutes=3),
         "account_id": data.grandchild_id},
        {"kind": "meeting", "occurred_at": t - timedelta(minutes=4),
         "account_id": data.child_ids[1]},
        {"kind": "call", "occurred_at": t, "account_id": data.other_account_id},
    ])  # fmt: skip
    own = acts.timeline(Scope("account", data.root_id))
    assert [a.kind for a in own.items] == ["call"]
    tree = acts.timeline(Scope("account_tree", data.root_id))
    assert [a.kind for a in tree.items] == ["call", "note", "email", "meeting"]
    assert tree.items[2].account_id == data.grandchild_id
    assert acts.get(tree.items[2].id).account_name == "Torslanda"
    paged = acts.timeline(Scope("account_tree", data.root_id), limit=3)
    rest = acts.timeline(Scope("account_tree", data.root_id), before=paged.next_cursor, limit=3)
    assert [a.kind for a in paged.items + rest.items] == ["call", "note", "email", "meeting"]
    assert rest.next_cursor is None


def test_sub_account_bound_keeps_newer_child_rows(data, installer_dsn):
    # The root is busy (60 old calls); a child has the newest rows: they must come first.
    bulk(installer_dsn, data.root_id, 60, data.now - timedelta(days=30), data.rita_id)
    bulk(installer_dsn, data.grandchild_id, 5, data.now, data.rita_id)
    page = acts.timeline(Scope("account_tree", data.root_id), limit=50)
    assert [a.account_id for a in page.items[:5]] == [data.grandchild_id] * 5
    assert len(page.items) == 50
    everything: list[int] = []
    cursor = None
    while True:
        page = acts.timeline(Scope("account_tree", data.root_id), before=cursor, limit=50)
        everything += [a.id for a in page.items]
        if not (cursor := page.next_cursor):
            break
    assert len(everything) == len(set(everything)) == 65


def test_filters_by_kind_author_and_date(data, installer_dsn):
    t = data.now
    add_activities(installer_dsn, [
        {"kind": "call", "occurred_at": t, "account_id": data.root_id, "author_id": data.rita_id},
        {"kind": "email", "occurred_at": t - timedelta(days=3), "account_id": data.root_id,
         "author_id": data.sam_id},
        {"kind": "note", "occurred_at": t - timedelta(days=10), "account_id": data.root_id,
         "author_id": data.rita_id},
    ])  # fmt: skip
    scope = Scope("account", data.root_id)
    assert [a.kind for a in acts.timeline(scope, kinds=["call", "note"]).items] == ["call", "note"]
    assert [a.kind for a in acts.timeline(scope, author_id=data.sam_id).items] == ["email"]
    since = (t - timedelta(days=5)).astimezone().date()
    assert [a.kind for a in acts.timeline(scope, since=since).items] == ["call", "email"]
    until = (t - timedelta(days=2)).astimezone().date()
    assert [a.kind for a in acts.timeline(scope, until=until).items] == ["email", "note"]
    with pytest.raises(ValidationError):
        acts.timeline(scope, since=since, until=since - timedelta(days=1))


def test_person_timeline_has_authored_and_assigned(data, installer_dsn):
    t = data.now
    add_activities(installer_dsn, [
        {"kind": "call", "occurred_at": t, "author_id": data.rita_id},
        {"kind": "task", "occurred_at": t - timedelta(hours=1), "author_id": data.sam_id,
         "assignee_id": data.rita_id, "due_at": t},
        {"kind": "note", "occurred_at": t - timedelta(hours=2), "author_id": data.sam_id},
    ])  # fmt: skip
    page = acts.timeline(Scope("person", data.rita_id))
    assert [a.kind for a in page.items] == ["call", "task"]


def test_opportunity_timeline(data):
    acts.log("meeting", subject="demo", opportunity_id=data.opportunity_id)
    page = acts.timeline(Scope("opportunity", data.opportunity_id))
    assert [a.subject for a in page.items] == ["demo"]
    assert page.items[0].account_id == data.root_id  # filled from the opportunity


def test_my_day_overdue_first_and_actions(data, installer_dsn):
    today = date.today()
    at = acts.local_midnight
    ids = add_activities(installer_dsn, [
        {"kind": "task", "subject": "today", "occurred_at": at(today - timedelta(days=9)),
         "due_at": at(today) + timedelta(hours=9), "assignee_id": data.admin_id},
        {"kind": "call", "subject": "late", "occurred_at": at(today - timedelta(days=9)),
         "due_at": at(today - timedelta(days=2)), "assignee_id": data.admin_id},
        {"kind": "task", "subject": "later", "occurred_at": at(today - timedelta(days=9)),
         "due_at": at(today + timedelta(days=2)), "assignee_id": data.admin_id},
        {"kind": "task", "subject": "done", "occurred_at": at(today - timedelta(days=9)),
         "due_at": at(today), "completed_at": at(today), "assignee_id": data.admin_id},
        {"kind": "task", "subject": "not mine", "occurred_at": at(today - timedelta(days=9)),
         "due_at": at(today), "assignee_id": data.sam_id},
    ])  # fmt: skip
    day = acts.my_day(data.admin_id)
    assert [a.subject for a in day.items] == ["late", "today"]
    assert [a.is_overdue() for a in day.items] == [True, False]
    late = day.items[0]
    done = acts.complete(late.id, late.version)
    assert done.completed_at is not None and done.version == late.version + 1
    assert [a.subject for a in acts.my_day(data.admin_id).items] == ["today"]
    moved = acts.reschedule(ids[0], 1, today + timedelta(days=1))
    assert acts.local_day(moved.due_at) == today + timedelta(days=1)
    assert acts.my_day(data.admin_id).items == []
    given = acts.reassign(ids[0], moved.version, data.rita_id)
    assert given.assignee_name == "Rita Rep"
    assert [a.subject for a in acts.my_day(data.rita_id, today + timedelta(days=1)).items] == [
        "today"
    ]
    with pytest.raises(ValidationError) as info:
        acts.reschedule(ids[0], given.version, today - timedelta(days=1))
    assert info.value.field == "due_at"
    with pytest.raises(ValidationError) as info:
        acts.reassign(ids[0], given.version, 999999)
    assert info.value.field == "assignee"


def test_version_conflicts_and_missing_rows(data):
    a = acts.log("note", subject="first", account_id=data.root_id)
    b = acts.update(a.id, a.version, subject="second")
    assert b.subject == "second" and b.version == a.version + 1 and b.body is None
    with pytest.raises(StaleRecord):
        acts.update(a.id, a.version, subject="lost update")
    with pytest.raises(StaleRecord):
        acts.complete(a.id, a.version)
    assert acts.get(a.id).subject == "second"
    with pytest.raises(NotFound):
        acts.update(999999, 1, subject="x")
    with pytest.raises(ValidationError) as info:
        acts.update(a.id, b.version, outcome="maybe")
    assert info.value.field == "outcome"
    assert acts.get(a.id).version == b.version


def test_timeline_reads_one_page_through_an_index(data, installer_dsn):
    bulk(installer_dsn, data.root_id, 3000, data.now, data.rita_id, contact_id=data.contact_id)
    conn = psycopg2.connect(installer_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("ANALYZE switchboard.activity")
            cur.execute("SET search_path = switchboard, public")
            for scope in (Scope("contact", data.contact_id), Scope("account_tree", data.root_id)):
                sql, params = acts.timeline_sql(scope, before=(data.now, 10**9))
                cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
                plan = str(cur.fetchone()[0])
                assert "Seq Scan" not in plan.replace("'Seq Scan', 'Parent Relationship': "
                                                      "'Outer'", "")  # fmt: skip
                assert "activity_" in plan  # one of the timeline indexes
    finally:
        conn.close()
