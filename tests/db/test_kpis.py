"""KPIs on the fixed organisation of tests/forecast_data.py, values worked out by hand, for the
top manager, the mid-level manager and a rep (row-level security and scope)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from db.connection import configure, database
from db.errors import ValidationError
from db.services import kpis
from db.services.periods import Period
from tests.forecast_data import LOGIN, seed

Q4 = Period("quarter", date(2026, 10, 1))
NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
# Weekdays of Q4 2026: October 22 (1-2, 5-9, 12-16, 19-23, 26-30), November 21 (2-6, 9-13,
# 16-20, 23-27, 30), December 23 (1-4, 7-11, 14-18, 21-25, 28-31) = 66.
Q4_WEEKDAYS = 66


@pytest.fixture
def org(installer_dsn):
    return seed(installer_dsn)


def view(pg, db_name, who: str) -> kpis.KpiView:
    configure(pg.dsn(db_name, user=LOGIN + who), "switchboard")
    with database.connection_context():
        return kpis.kpis(Q4, "EUR", now=NOW)


def ids(pg, db_name, who, key, outcome=None) -> set[int]:
    configure(pg.dsn(db_name, user=LOGIN + who), "switchboard")
    with database.connection_context():
        page = kpis.records(key, Q4, "EUR", outcome=outcome, now=NOW)
    assert page.next_after is None
    return {r.id for r in page.rows}


def test_weekdays():
    assert kpis.weekdays(date(2026, 10, 1), date(2027, 1, 1)) == Q4_WEEKDAYS
    assert kpis.weekdays(date(2026, 12, 5), date(2026, 12, 7)) == 0  # a weekend
    assert kpis.weekdays(date(2026, 12, 7), date(2026, 12, 7)) == 0


def test_top_manager(pg, db_name, org):
    v = view(pg, db_name, "tom")
    # closed in Q4: r4 won (5 Dec), o3 lost (3 Dec), b2 won (20 Oct), s2 won (28 Dec)
    #   win rate 3 / (3 + 1) = 75%
    assert v.get("win_rate").value == Decimal(75)
    # won EUR: (3000 + 2500 + 1500) / 3 = 2333.33
    assert v.get("avg_deal_size").value.quantize(Decimal("0.01")) == Decimal("2333.33")
    # cycle: r4 5 Nov -> 5 Dec 30 days; b2 20 Sep -> 20 Oct 30 days; s2 18 -> 28 Dec 10 days
    #   (30 + 30 + 10) / 3 = 23.33
    assert v.get("sales_cycle").value.quantize(Decimal("0.01")) == Decimal("23.33")
    # coverage: open EUR closing in Q4, not omitted: r1 1000 + r2 2000 + r3 4000 + o1 10000
    #   + b1 5000 + s1 8000 = 30000; won in Q3: r7 2000 + s3 4000 = 6000 -> 5.0x
    assert v.get("coverage").value == Decimal(5)
    # activities of the 4 reps in Q4: ray a1-a4 (4), rose a6 a7 (2), rob a8, sal a9 = 8
    #   (a5 is 30 Sep; the tasks t1-t4 occurred 1 Sep) -> 8 / (4 x 66)
    assert v.get("activities_per_rep_day").value == Decimal(8) / (4 * Q4_WEEKDAYS)
    # calls: reached a1 a2 a7 = 3, voicemail a3 = 1, no answer a6 = 1, busy a9 = 1
    assert v.get("calls", "reached").value == 3 and v.get("calls", "voicemail").value == 1
    assert v.get("calls", "no_answer").value == 1 and v.get("calls", "busy").value == 1
    assert v.get("calls", "reached").text == "3 (50%)"
    # overdue at 10 Jan 2027: t1 (due 5 Jan) and t4 (due 20 Dec); t2 done, t3 due 20 Jan
    assert v.get("overdue").value == 2
    # past close at 10 Jan 2027: open r1 r2 r3 r5 r6 o1 b1 s1 = 8 (o2 closes 15 Jan)
    assert v.get("past_close").value == 8


def test_mid_level_manager(pg, db_name, org):
    v = view(pg, db_name, "mia")
    # North: ray, rose, rob. Closed in Q4: r4 won, b2 won, o3 lost -> 2 / 3 = 66.67%
    assert v.get("win_rate").value.quantize(Decimal("0.01")) == Decimal("66.67")
    assert v.get("avg_deal_size").value == Decimal(2750)  # (3000 + 2500) / 2
    assert v.get("sales_cycle").value == Decimal(30)  # (30 + 30) / 2
    # open: 1000 + 2000 + 4000 + 10000 + 5000 = 22000; won in Q3: r7 2000 -> 11.0x
    assert v.get("coverage").value == Decimal(11)
    assert v.get("activities_per_rep_day").value == Decimal(7) / (3 * Q4_WEEKDAYS)
    assert v.get("overdue").value == 1  # t1
    assert v.get("past_close").value == 7  # r1 r2 r3 r5 r6 o1 b1


def test_a_rep_counts_only_what_they_see(pg, db_name, org):
    v = view(pg, db_name, "ray")
    assert v.get("win_rate").value == Decimal(100)  # r4 won, nothing lost
    assert v.get("avg_deal_size").value == Decimal(3000)
    assert v.get("coverage").value == Decimal("3.5")  # 7000 / r7 2000
    assert v.get("activities_per_rep_day").value == Decimal(4) / Q4_WEEKDAYS
    assert v.get("calls", "reached").value == 2 and v.get("overdue").value == 1
    assert v.get("past_close").value == 5  # r1 r2 r3 r5 r6


def test_each_figure_opens_its_records(pg, db_name, org):
    d, a = org.deals, org.activities
    assert ids(pg, db_name, "tom", "win_rate") == {d["r4"], d["o3"], d["b2"], d["s2"]}
    assert ids(pg, db_name, "tom", "avg_deal_size") == {d["r4"], d["b2"], d["s2"]}
    assert ids(pg, db_name, "tom", "coverage") == {d[k] for k in "r1 r2 r3 o1 b1 s1".split()}
    assert ids(pg, db_name, "mia", "past_close") == {d[k] for k in "r1 r2 r3 r5 r6 o1 b1".split()}
    assert ids(pg, db_name, "tom", "calls", "reached") == {a["a1"], a["a2"], a["a7"]}
    assert ids(pg, db_name, "tom", "overdue") == {a["t1"], a["t4"]}
    mine = {a[k] for k in "a1 a2 a3 a4".split()}
    assert ids(pg, db_name, "ray", "activities_per_rep_day") == mine
    assert ids(pg, db_name, "rose", "win_rate") == {d["o3"]}


def test_records_page_with_a_keyset(pg, db_name, org):
    configure(pg.dsn(db_name, user=LOGIN + "tom"), "switchboard")
    with database.connection_context():
        first = kpis.records("past_close", Q4, now=NOW, limit=3)
        second = kpis.records("past_close", Q4, now=NOW, limit=3, after=first.next_after)
        third = kpis.records("past_close", Q4, now=NOW, limit=3, after=second.next_after)
        with pytest.raises(ValidationError):
            kpis.records("nope", Q4)
    got = [r.id for r in first.rows + second.rows + third.rows]
    assert len(got) == 8 == len(set(got)) and got == sorted(got, reverse=True)
    assert third.next_after is None


def test_the_activity_count_function_keeps_to_the_callers_scope(pg, db_name, org, installer_dsn):
    import psycopg2

    from db.bootstrap import ensure_login

    conn = psycopg2.connect(installer_dsn)
    with conn, conn.cursor() as cur:
        ensure_login(cur, "switchboard", LOGIN + "agent", role="agent", display_name="Agent")
    conn.close()

    def total(who: str):
        c = psycopg2.connect(pg.dsn(db_name, user=LOGIN + who))
        try:
            with c, c.cursor() as cur:
                cur.execute("SELECT coalesce(sum(n), 0) FROM switchboard.kpi_rep_activity("
                            "'2026-10-01', '2027-01-01')")  # fmt: skip
                return cur.fetchone()[0]
        except psycopg2.Error as exc:
            return exc
        finally:
            c.close()

    # Q4 activities of reps: ray 4, rose 2, rob 1, sal 1 (tests above)
    assert (total("tom"), total("mia"), total("rose"), total("sid")) == (8, 7, 2, 1)
    assert isinstance(total("agent"), psycopg2.errors.InsufficientPrivilege)

    def page(who: str, outcome: str | None = None) -> set[int]:
        c = psycopg2.connect(pg.dsn(db_name, user=LOGIN + who))
        try:
            with c, c.cursor() as cur:
                cur.execute("SELECT switchboard.kpi_rep_activity_page('2026-10-01', '2027-01-01', "
                            "%s, NULL, 5000)", (outcome,))  # fmt: skip
                return {r[0] for r in cur.fetchall()}
        finally:
            c.close()

    a = org.activities
    assert page("rose") == {a["a6"], a["a7"]}  # her own only, whatever she asks
    assert page("mia", "reached") == {a["a1"], a["a2"], a["a7"]}  # not sal's
    assert page("sid") == {a["a9"]}
