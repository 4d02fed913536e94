"""Forecast figures checked against a hand-computed example across a three-level hierarchy
(tests/forecast_data.py), and manager adjustments attacked with raw SQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import psycopg2
import pytest

from db.connection import configure, database
from db.errors import PermissionDenied, ValidationError
from db.services import forecast as fc
from db.services.periods import Period
from tests.forecast_data import LOGIN, seed

DEC = Period("month", date(2026, 12, 1))
Q4 = Period("quarter", date(2026, 10, 1))


@pytest.fixture
def org(installer_dsn):
    return seed(installer_dsn)


def as_(pg, db_name, who: str) -> None:
    configure(pg.dsn(db_name, user=LOGIN + who), "switchboard")


def figures(row) -> tuple:
    f = row.own
    return (f.closed, f.commit, f.best_case, f.pipeline, f.weighted)


def D(*values: int | str) -> tuple:
    return tuple(Decimal(str(v)) for v in values)


# December 2026, EUR. Cumulative categories: commit = closed + open commit; best case = commit
# + open best case; pipeline = every open deal (commit + best case + pipeline); weighted =
# amount x probability / 100 over the open deals. Omitted deals (r5) and other currencies (r6,
# USD) are left out; deals closing outside the month (r3 Nov, o2 Jan) and lost ones (o3) too.
#   ray:  closed r4 3000; commit 3000 + r1 1000 = 4000; best 4000 + r2 2000 = 6000;
#         pipeline r1 1000 + r2 2000 = 3000; weighted 1000*0.8 + 2000*0.5 = 1800
#   rose: pipeline o1 10000; weighted 10000*0.1 = 1000
#   rob:  best b1 5000; pipeline 5000; weighted 5000*0.6 = 3000
#   sal:  closed s2 1500; commit 1500 + s1 8000 = 9500; best 9500; pipeline 8000;
#         weighted 8000*0.75 = 6000
#   Alpha = ray + rose: 3000, 4000, 6000, 13000, 2800
#   Beta  = rob:           0,    0, 5000,  5000, 3000
#   North = Alpha + Beta: 3000, 4000, 11000, 18000, 5800
#   South = sal:         1500, 9500,  9500,  8000, 6000
#   Org = North + South: 4500, 13500, 20500, 26000, 11800
RAY_DEC = D(3000, 4000, 6000, 3000, 1800)
ROSE_DEC = D(0, 0, 0, 10000, 1000)
ROB_DEC = D(0, 0, 5000, 5000, 3000)
SAL_DEC = D(1500, 9500, 9500, 8000, 6000)
ALPHA_DEC = D(3000, 4000, 6000, 13000, 2800)
NORTH_DEC = D(3000, 4000, 11000, 18000, 5800)
SOUTH_DEC = D(1500, 9500, 9500, 8000, 6000)
ORG_DEC = D(4500, 13500, 20500, 26000, 11800)


def test_top_manager_sees_every_level_rolled_up(pg, db_name, org):
    as_(pg, db_name, "tom")
    with database.connection_context():
        f = fc.forecast(DEC)
    assert f.currency == "EUR" and f.currencies == ("EUR", "USD")
    u, t = org.users, org.teams
    assert figures(f.person(u["ray"])) == RAY_DEC
    assert figures(f.person(u["rose"])) == ROSE_DEC
    assert figures(f.person(u["rob"])) == ROB_DEC
    assert figures(f.person(u["sal"])) == SAL_DEC
    assert figures(f.team(t["Alpha"])) == ALPHA_DEC
    assert figures(f.team(t["Beta"])) == ROB_DEC
    assert figures(f.team(t["North"])) == NORTH_DEC
    assert figures(f.team(t["South"])) == SOUTH_DEC
    assert figures(f.team(t["Org"])) == ORG_DEC
    assert figures(f.total) == ORG_DEC
    assert f.total.own.open_deals == 5 and f.total.own.won_deals == 2  # r1 r2 o1 b1 s1; r4 s2
    # display order: a team, its people, its sub-teams, indented by depth
    order = [(r.kind, r.name, r.depth) for r in f.rows]
    assert order[:4] == [("team", "Org", 0), ("person", "Tom Top", 1), ("team", "North", 1),
                         ("person", "Mia Mid", 2)]  # fmt: skip
    assert ("person", "Ray Rep", 3) in order and ("team", "South", 1) in order


def test_quarter_adds_the_other_months(pg, db_name, org):
    # Q4 2026 = Oct + Nov + Dec: ray adds r3 (Nov, pipeline 4000 at 25% = 1000 weighted);
    # rob adds b2 (won 20 Oct, 2500): closed 2500, commit 2500, best 2500 + 5000 = 7500.
    #   ray  3000, 4000, 6000, 3000 + 4000 = 7000, 1800 + 1000 = 2800
    #   rob  2500, 2500, 7500, 5000, 3000
    #   Org  3000+2500+1500 = 7000; 4000+2500+9500 = 16000; 6000+7500+9500 = 23000;
    #        7000+10000+5000+8000 = 30000; 2800+1000+3000+6000 = 12800
    as_(pg, db_name, "tom")
    with database.connection_context():
        f = fc.forecast(Q4)
    assert figures(f.person(org.users["ray"])) == D(3000, 4000, 6000, 7000, 2800)
    assert figures(f.person(org.users["rob"])) == D(2500, 2500, 7500, 5000, 3000)
    assert figures(f.team(org.teams["Org"])) == D(7000, 16000, 23000, 30000, 12800)


def test_mid_level_manager_sees_only_their_region(pg, db_name, org):
    as_(pg, db_name, "mia")
    with database.connection_context():
        f = fc.forecast(DEC)
    assert {r.name for r in f.rows} == {"North", "Mia Mid", "Alpha", "Ray Rep", "Rose Rep",
                                        "Beta", "Rob Rep"}  # fmt: skip
    assert figures(f.team(org.teams["North"])) == NORTH_DEC
    assert figures(f.team(org.teams["Alpha"])) == ALPHA_DEC
    assert figures(f.total) == NORTH_DEC
    assert f.rows[0].depth == 0 and f.rows[0].name == "North"


def test_a_rep_sees_only_their_own_figures(pg, db_name, org):
    as_(pg, db_name, "ray")
    with database.connection_context():
        f = fc.forecast(DEC)
        usd = fc.forecast(DEC, "USD")
    assert [(r.kind, r.name) for r in f.rows] == [("person", "Ray Rep")]
    assert figures(f.rows[0]) == RAY_DEC and figures(f.total) == RAY_DEC
    # r6: 7000 USD commit at 90%: its own currency, never added to euros
    assert figures(usd.rows[0]) == D(0, 7000, 7000, 7000, 6300)


def test_a_rep_counts_only_their_own_deals_even_when_all_are_visible(pg, db_name, org,
                                                                     installer_dsn):
    # Sharing opened to everyone: ray may now read every deal, but his forecast is his own
    # deals only; a deal moved to rose leaves it at once (read at query time, nothing cached).
    conn = psycopg2.connect(installer_dsn)
    with conn, conn.cursor() as cur:
        cur.execute("SET search_path = switchboard")
        cur.execute("UPDATE sharing_default SET access = 'public_read_write'")
        cur.execute("UPDATE opportunity SET owner_id = %s WHERE id = %s",
                    (org.users["rose"], org.deals["r1"]))  # fmt: skip
    conn.close()
    as_(pg, db_name, "ray")
    with database.connection_context():
        assert database.execute_sql("SELECT count(*) FROM opportunity").fetchone()[0] == 15
        f = fc.forecast(DEC)
    assert [r.name for r in f.rows] == ["Ray Rep"]
    # r1 (commit 1000 at 80%) is rose's now: ray's commit, best case, pipeline lose 1000 and
    # weighted 800: 3000, 4000 - 1000, 6000 - 1000, 3000 - 1000, 1800 - 800
    assert figures(f.rows[0]) == D(3000, 3000, 5000, 2000, 1000)


# -- adjustments ------------------------------------------------------------------------------


def test_manager_adjusts_a_rep_and_the_rollup_uses_it(pg, db_name, org, installer_dsn):
    as_(pg, db_name, "mia")
    with database.connection_context():
        fc.adjust(DEC, org.users["ray"], "commit", "5k", "EUR", "signed PO expected")
        f = fc.forecast(DEC)
    ray = f.person(org.users["ray"])
    adj = ray.adjustments["commit"]
    assert adj.amount == Decimal(5000) and adj.by_name == "Mia Mid"
    assert adj.note == "signed PO expected"
    assert ray.own.commit == Decimal(4000)  # the rep's own figure stays beside it
    # Alpha commit: ray 5000 (adjusted) + rose 0 = 5000; North: 5000 + rob 0 = 5000
    assert f.team(org.teams["Alpha"]).adjusted["commit"] == Decimal(5000)
    assert f.team(org.teams["North"]).adjusted["commit"] == Decimal(5000)
    assert f.team(org.teams["North"]).own.commit == Decimal(4000)
    assert "best_case" not in f.team(org.teams["North"]).adjusted
    # who and when are the database's: adjusted_by is mia, adjusted_at is now()
    conn = psycopg2.connect(installer_dsn)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT adjusted_by, adjusted_at > now() - interval '1 minute', amount "
                    "FROM switchboard.forecast_adjustment")
        assert cur.fetchall() == [(org.users["mia"], True, Decimal("5000.00"))]
        cur.execute("SELECT actor, op FROM switchboard.audit_log "
                    "WHERE table_name = 'forecast_adjustment'")
        assert cur.fetchall() == [(LOGIN + "mia", "I")]
    conn.close()


def test_history_is_kept_and_the_latest_is_shown(pg, db_name, org):
    as_(pg, db_name, "tom")
    with database.connection_context():
        fc.adjust(DEC, org.users["sal"], "commit", "9000", "EUR")
    as_(pg, db_name, "mia")
    with database.connection_context():
        fc.adjust(DEC, org.users["rob"], "best_case", "1000", "EUR")
        fc.adjust(DEC, org.users["rob"], "best_case", "2000", "EUR")
        f = fc.forecast(DEC)
        entries = fc.history(DEC, org.users["rob"])
    assert f.person(org.users["rob"]).adjustments["best_case"].amount == Decimal(2000)
    assert [e.amount for e in entries] == [Decimal(2000), Decimal(1000)]
    as_(pg, db_name, "rob")  # a rep reads the adjustments of their own figures
    with database.connection_context():
        mine = fc.forecast(DEC)
    assert mine.rows[0].adjustments["best_case"].by_name == "Mia Mid"
    as_(pg, db_name, "ray")  # ... and nobody else's
    with database.connection_context():
        assert fc.history(DEC, org.users["rob"]) == []
        assert fc.history(DEC, org.users["sal"]) == []


def raw(pg, db_name, who: str, sql: str, params: tuple = ()) -> Exception | None:
    conn = psycopg2.connect(pg.dsn(db_name, user=LOGIN + who))
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SET search_path = switchboard")
            cur.execute(sql, params)
        return None
    except psycopg2.Error as exc:
        return exc
    finally:
        conn.close()


def adjustments(installer_dsn) -> list[tuple]:
    conn = psycopg2.connect(installer_dsn)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT user_id, adjusted_by, amount FROM switchboard.forecast_adjustment "
                    "ORDER BY id")
        rows = cur.fetchall()
    conn.close()
    return rows


INSERT = ("INSERT INTO forecast_adjustment (period_kind, period_start, user_id, category, amount)"
          " VALUES ('month', '2026-12-01', %s, 'commit', 1)")


def test_attacks_with_raw_sql_change_nothing(pg, db_name, org, installer_dsn):
    u = org.users
    # a rep cannot adjust anyone, themselves included (no INSERT privilege)
    denied = psycopg2.errors.InsufficientPrivilege
    assert isinstance(raw(pg, db_name, "ray", INSERT, (u["ray"],)), denied)
    assert isinstance(raw(pg, db_name, "ray", INSERT, (u["rose"],)), denied)
    # a manager cannot adjust a rep outside their teams, nor themselves, nor their own manager
    for target in ("sal", "mia", "tom"):
        exc = raw(pg, db_name, "mia", INSERT, (u[target],))
        assert exc is not None and "row-level security" in str(exc), target
    # the service says so in one line
    configure(pg.dsn(db_name, user=LOGIN + "mia"), "switchboard")
    with database.connection_context(), pytest.raises(PermissionDenied):
        fc.adjust(DEC, u["sal"], "commit", "1", "EUR")
    # forging who made it is impossible: the column is not granted, and the trigger sets it
    exc = raw(pg, db_name, "mia", "INSERT INTO forecast_adjustment (period_kind, period_start, "
              "user_id, category, amount, adjusted_by) VALUES ('month', '2026-12-01', %s, "
              "'commit', 1, %s)", (u["ray"], u["tom"]))  # fmt: skip
    assert isinstance(exc, psycopg2.errors.InsufficientPrivilege)
    assert raw(pg, db_name, "mia", INSERT, (u["ray"],)) is None
    # history cannot be rewritten or removed, even by the person who wrote it
    for sql in ("UPDATE forecast_adjustment SET amount = 999",
                "DELETE FROM forecast_adjustment"):
        assert isinstance(raw(pg, db_name, "mia", sql), psycopg2.errors.InsufficientPrivilege)
    # the top manager reaches two levels down (South's sal, and ray under North > Alpha)
    assert raw(pg, db_name, "tom", INSERT, (u["sal"],)) is None
    assert raw(pg, db_name, "tom", INSERT, (u["ray"],)) is None
    assert adjustments(installer_dsn) == [
        (u["ray"], u["mia"], Decimal("1.00")),
        (u["sal"], u["tom"], Decimal("1.00")),
        (u["ray"], u["tom"], Decimal("1.00")),
    ]
    # a rep cannot read other people's adjustments
    conn = psycopg2.connect(pg.dsn(db_name, user=LOGIN + "rose"))
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM switchboard.forecast_adjustment")
        assert cur.fetchone()[0] == 0
    conn.close()


def test_adjust_validates_each_field(pg, db_name, org):
    as_(pg, db_name, "mia")
    ray = org.users["ray"]
    with database.connection_context():
        cases = [(("commit", "abc", "EUR"), "amount"), (("commit", "-5", "EUR"), "amount"),
                 (("commit", "", "EUR"), "amount"), (("closed", "1", "EUR"), "category"),
                 (("commit", "1", "EURO"), "currency"), (("commit", "1", "EUR", "x" * 501), "note")]
        for args, field in cases:
            with pytest.raises(ValidationError) as caught:
                fc.adjust(DEC, ray, *args)
            assert caught.value.field == field
        assert fc.history(DEC, ray) == []
        assert fc.parse_amount("1.5M") == Decimal("1500000.00")
        assert fc.parse_amount("120 000") == Decimal("120000.00")
        assert fc.may_adjust(ray) and not fc.may_adjust(org.users["sal"])


def test_an_admin_sees_everyone(admin_dsn, org):
    configure(admin_dsn, "switchboard")
    with database.connection_context():
        f = fc.forecast(DEC)
        assert fc.adjustable([org.users["ray"], org.users["tom"]]) == {org.users["ray"],
                                                                      org.users["tom"]}
        fc.adjust(DEC, org.users["tom"], "pipeline", "1", "EUR")  # admins adjust anyone
    assert figures(f.total) == ORG_DEC and figures(f.team(org.teams["Org"])) == ORG_DEC
    assert {r.name for r in f.rows if r.kind == "team"} == {"Org", "North", "Alpha", "Beta",
                                                            "South"}  # fmt: skip


def test_teams_in_a_loop_still_count_once():
    # A -> B -> A (possible: only parent = id is refused); one person in each, 100 closed each
    people = [("person", 1, "Ann", 10, [{"c": "EUR", "closed": "100", "commit_open": "0",
                                         "best_open": "0", "pipeline": "0", "weighted": "0",
                                         "open": 0, "won": 1}], None),
              ("person", 2, "Bo", 11, [{"c": "EUR", "closed": "100", "commit_open": "0",
                                        "best_open": "0", "pipeline": "0", "weighted": "0",
                                        "open": 0, "won": 1}], None)]  # fmt: skip
    f = fc.build(DEC, "EUR", ("EUR",), people, {10: ("A", 11), 11: ("B", 10)})
    assert [r.name for r in f.rows] == ["A", "Ann", "B", "Bo"]
    assert f.total.own.closed == Decimal(200)  # A holds B: 100 + 100, counted once
