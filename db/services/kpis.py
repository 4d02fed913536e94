"""Sales KPIs for a month or a quarter, each with the records behind it (docs/forecast.md).

Scope as in the forecast: admins everyone; managers the people of the teams they manage
(recursively) and themselves; everyone else themselves; and always under row-level security.
Each KPI names its records with one WHERE clause (`_WHERE`), used both by the figure (all
figures in one query, `kpis()`) and by its drill-down (`records()`, keyset pages), so the
figure and the list behind it cannot drift apart.

- win rate          won / (won + lost) of the deals closed (closed_at) in the period
- average deal size amount of the won deals closed in the period / their number (one currency)
- sales cycle       average days from created_at to closed_at of the won deals of the period
- pipeline coverage open pipeline closing in the period (commit, best case, pipeline; one
                    currency) / amount won in the previous equal period (no quota table)
- activities per rep per day  activities the reps of the scope logged in the period up to now /
                    (reps x weekdays of the period up to today)
- call outcomes     the reps' calls of the period, by outcome
- overdue follow-ups open follow-ups (due, not done) due before now, assigned to the scope
- past close date   open deals whose expected close is before today (any category)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from db.connection import database
from db.errors import ValidationError
from db.services._pgerrors import translate
from db.services.periods import Period

PAGE = 50
DEAL_KPIS = ("win_rate", "avg_deal_size", "sales_cycle", "coverage", "past_close")
ACTIVITY_KPIS = ("activities_per_rep_day", "calls", "overdue")
OUTCOMES = ("reached", "voicemail", "no_answer", "busy", "wrong_number", "callback",
            "completed", "cancelled", "none")  # fmt: skip

_UNTIL = "least(%(end)s::timestamptz, %(now)s::timestamptz)"
_SCOPE_O = "(%(all)s OR o.owner_id = ANY (%(ids)s::bigint[]))"
_REPS = (
    "SELECT u.id FROM app_user u WHERE u.active AND u.deleted_at IS NULL AND u.role = 'rep' "
    "AND (%(all)s OR u.id = ANY (%(ids)s::bigint[]))"
)
_WHERE = {
    "win_rate": "o.is_closed AND o.closed_at >= %(start)s::timestamptz "
    "AND o.closed_at < %(end)s::timestamptz",
    "avg_deal_size": "o.is_won AND o.is_closed AND o.closed_at >= %(start)s::timestamptz "
    "AND o.closed_at < %(end)s::timestamptz AND o.currency = %(cur)s",
    "sales_cycle": "o.is_won AND o.is_closed AND o.closed_at >= %(start)s::timestamptz "
    "AND o.closed_at < %(end)s::timestamptz",
    "coverage": "NOT o.is_closed AND o.expected_close >= %(start_d)s "
    "AND o.expected_close < %(end_d)s AND o.currency = %(cur)s "
    "AND o.forecast_category IN ('commit', 'best_case', 'pipeline')",
    "past_close": "NOT o.is_closed AND o.expected_close < %(today)s",
    "activities_per_rep_day": f"a.author_id IN ({_REPS}) "
    f"AND a.occurred_at >= %(start)s::timestamptz AND a.occurred_at < {_UNTIL}",
    "calls": f"a.author_id IN ({_REPS}) AND a.occurred_at >= %(start)s::timestamptz "
    f"AND a.occurred_at < {_UNTIL} AND a.kind = 'call' "
    "AND coalesce(a.outcome, 'none') = %(outcome)s",
    "overdue": "a.completed_at IS NULL AND a.due_at < %(now)s "
    "AND (%(all)s OR a.assignee_id = ANY (%(ids)s::bigint[]))",
}
_PREV_WON = ("o.is_won AND o.is_closed AND o.closed_at >= %(prev)s::timestamptz "
             "AND o.closed_at < %(start)s::timestamptz AND o.currency = %(cur)s")
_SQL = f"""
WITH deals AS (
    SELECT count(*) FILTER (WHERE o.is_closed AND o.is_won AND o.closed_at >= %(start)s::timestamptz
                                  AND o.closed_at < %(end)s::timestamptz) AS won,
           count(*) FILTER (WHERE {_WHERE["win_rate"]}) AS closed,
           sum(o.amount) FILTER (WHERE {_WHERE["avg_deal_size"]}) AS won_amount,
           count(*) FILTER (WHERE {_WHERE["avg_deal_size"]}) AS won_cur,
           avg(o.closed_at::date - o.created_at::date) FILTER (WHERE {_WHERE["sales_cycle"]})
               AS cycle,
           sum(o.amount) FILTER (WHERE {_WHERE["coverage"]}) AS open_amount,
           count(*) FILTER (WHERE {_WHERE["coverage"]}) AS open_count,
           sum(o.amount) FILTER (WHERE {_PREV_WON}) AS prev_won,
           count(*) FILTER (WHERE {_WHERE["past_close"]}) AS past_close,
           array_agg(DISTINCT o.currency) AS currencies
      FROM opportunity o
     WHERE o.deleted_at IS NULL AND {_SCOPE_O}
       AND ((o.is_closed AND o.closed_at >= %(prev)s::timestamptz
             AND o.closed_at < %(end)s::timestamptz)
            OR (NOT o.is_closed AND o.expected_close < greatest(%(end_d)s, %(today)s)))
), acts AS (
    SELECT coalesce(sum(k.n), 0) AS activities,
           coalesce(jsonb_object_agg(k.outcome, k.n) FILTER (WHERE k.is_call), '{{}}')
               AS by_outcome
      FROM kpi_rep_activity(%(start)s::timestamptz, {_UNTIL}) k
)
SELECT d.*, k.by_outcome, k.activities,
       (SELECT count(*) FROM ({_REPS}) r) AS reps,
       (SELECT count(*) FROM activity a
         WHERE a.deleted_at IS NULL AND {_WHERE["overdue"]}) AS overdue
  FROM deals d, acts k
"""


@dataclass(frozen=True)
class Kpi:
    key: str  # a key of _WHERE; "calls" with `outcome`
    label: str
    value: Decimal | None  # None: nothing to measure (no deals closed, no reps...)
    text: str  # the figure as a person reads it
    detail: str  # how it was computed, in numbers
    outcome: str | None = None


@dataclass(frozen=True)
class KpiView:
    period: Period
    currency: str
    figures: list[Kpi]
    currencies: tuple[str, ...] = ()  # of the deals these figures read

    def get(self, key: str, outcome: str | None = None) -> Kpi:
        return next(k for k in self.figures if k.key == key and k.outcome == outcome)


def weekdays(start: date, end: date) -> int:
    """Monday to Friday in [start, end); public holidays are not known here."""
    days = max((end - start).days, 0)
    full, rest = divmod(days, 7)
    count = full * 5
    for i in range(rest):
        if (start + timedelta(days=full * 7 + i)).weekday() < 5:
            count += 1
    return count


def _params(period: Period, currency: str, now: datetime | None, outcome: str = "none") -> dict:
    now = now or datetime.now().astimezone()
    today = now.date()
    until_day = min(period.end, today + timedelta(days=1))
    # Dates compare with timestamptz columns at midnight of the session's time zone.
    return {
        "start": period.start, "end": period.end, "start_d": period.start,
        "end_d": period.end, "prev": period.shifted(-1).start, "cur": currency,
        "today": today, "now": now, "until_day": until_day, "outcome": outcome,
    }  # fmt: skip


def _scope() -> dict:
    from db.services.forecast import scope

    return scope()


def _money(value: Decimal | None) -> str:
    from db.services.forecast import short_amount

    return short_amount(value or Decimal(0))


def kpis(period: Period, currency: str = "EUR", now: datetime | None = None) -> KpiView:
    """Every KPI of `period` for the connected person, in one query (plus the scope lookup)."""
    params = {**_params(period, currency, now), **_scope()}
    try:
        cur = database.execute_sql(_SQL, params)
    except Exception as exc:  # agents hold no privilege on deals: say so in one line
        raise translate(exc) from exc
    names = [c[0] for c in cur.description]
    r: dict[str, Any] = dict(zip(names, cur.fetchone(), strict=True))
    out: list[Kpi] = []
    closed, won = r["closed"], r["won"]
    rate = Decimal(won) / closed * 100 if closed else None
    out.append(Kpi("win_rate", "Win rate", rate,
                   f"{rate:.0f}%" if rate is not None else "–",
                   f"{won} won of {closed} closed"))  # fmt: skip
    n, amount = r["won_cur"], r["won_amount"]
    avg = (amount / n) if n else None
    out.append(Kpi("avg_deal_size", "Average deal size", avg,
                   f"{_money(avg)} {currency}" if avg is not None else "–",
                   f"{_money(amount)} {currency} / {n} won"))  # fmt: skip
    cycle = Decimal(r["cycle"]) if r["cycle"] is not None else None
    out.append(Kpi("sales_cycle", "Sales cycle", cycle,
                   f"{cycle:.0f} days" if cycle is not None else "–",
                   f"created to won, average of {won} deals"))  # fmt: skip
    prev = r["prev_won"]
    open_amount = r["open_amount"] or Decimal(0)
    coverage = open_amount / prev if prev else None
    out.append(Kpi("coverage", "Pipeline coverage", coverage,
                   f"{coverage:.1f}x" if coverage is not None else "–",
                   f"{_money(open_amount)} open / {_money(prev)} won "
                   f"{period.shifted(-1).label} ({currency})"))  # fmt: skip
    days = weekdays(period.start, params["until_day"])
    reps = r["reps"]
    per = Decimal(r["activities"]) / (reps * days) if reps and days else None
    out.append(Kpi("activities_per_rep_day", "Activities per rep per day", per,
                   (f"{per:.1f}" if per >= 1 else f"{per:.2f}") if per is not None else "–",
                   f"{r['activities']} by {reps} reps over {days} weekdays"))  # fmt: skip
    by_outcome = r["by_outcome"] or {}
    calls = sum(by_outcome.values())
    for outcome in OUTCOMES:
        count = by_outcome.get(outcome, 0)
        if count or outcome in ("reached", "voicemail", "no_answer"):
            share = Decimal(count) / calls * 100 if calls else None
            out.append(Kpi("calls", f"Calls: {outcome.replace('_', ' ')}", Decimal(count),
                           f"{count}" + (f" ({share:.0f}%)" if share is not None else ""),
                           f"{count} of {calls} calls", outcome))  # fmt: skip
    out.append(Kpi("overdue", "Overdue follow-ups", Decimal(r["overdue"]), str(r["overdue"]),
                   "open, due before now"))  # fmt: skip
    out.append(Kpi("past_close", "Deals past close date", Decimal(r["past_close"]),
                   str(r["past_close"]), "open, expected close before today"))  # fmt: skip
    return KpiView(period, currency, out, tuple(sorted(set(r["currencies"] or ()) | {currency})))


# -- the records behind a figure --------------------------------------------------------------


@dataclass(frozen=True)
class DealRecord:
    id: int
    name: str
    account: str
    stage: str
    amount: Decimal
    currency: str
    expected_close: date | None
    closed_at: datetime | None
    owner: str | None


@dataclass(frozen=True)
class ActivityRecord:
    id: int
    kind: str
    occurred_at: datetime
    due_at: datetime | None
    subject: str
    outcome: str | None
    author: str | None
    assignee: str | None


@dataclass(frozen=True)
class Page:
    rows: list[DealRecord] | list[ActivityRecord]
    next_after: int | None  # keyset: pass as `after` for the next page; None at the end


DEAL_COLUMNS = ("id", "name", "account", "stage", "amount", "currency", "expected_close",
                "closed_at", "owner")  # fmt: skip
ACTIVITY_COLUMNS = ("id", "kind", "occurred_at", "due_at", "subject", "outcome", "author",
                    "assignee")  # fmt: skip


def records_sql(key: str) -> str:
    """The drill-down query of KPI `key`: newest id first, keyset on id."""
    if key in DEAL_KPIS:
        return (
            "SELECT o.id, o.name, ac.name, s.name, o.amount, o.currency, o.expected_close, "
            "o.closed_at, u.display_name FROM opportunity o "
            "JOIN account ac ON ac.id = o.account_id JOIN stage s ON s.id = o.stage_id "
            "LEFT JOIN app_user u ON u.id = o.owner_id "
            f"WHERE o.deleted_at IS NULL AND {_SCOPE_O} AND {_WHERE[key]} "
            "AND (%(after)s::bigint IS NULL OR o.id < %(after)s) "
            "ORDER BY o.id DESC LIMIT %(limit)s"
        )
    if key in ACTIVITY_KPIS:
        # The reps' activities: one page of ids from the index (kpi_rep_activity_page, same
        # scope as the policy), then the rows by id under RLS with the same WHERE as the figure.
        page = ""
        if key != "overdue":
            outcome = "%(outcome)s" if key == "calls" else "NULL"
            page = (f"AND a.id IN (SELECT kpi_rep_activity_page(%(start)s::timestamptz, "
                    f"{_UNTIL}, {outcome}, %(after)s, %(limit)s)) ")  # fmt: skip
        return (
            "SELECT a.id, a.kind, a.occurred_at, a.due_at, a.subject, a.outcome, "
            "au.display_name, asg.display_name FROM activity a "
            "LEFT JOIN app_user au ON au.id = a.author_id "
            "LEFT JOIN app_user asg ON asg.id = a.assignee_id "
            f"WHERE a.deleted_at IS NULL AND {_WHERE[key]} {page}"
            "AND (%(after)s::bigint IS NULL OR a.id < %(after)s) "
            "ORDER BY a.id DESC LIMIT %(limit)s"
        )
    raise ValidationError("kpi", f"unknown KPI {key!r}")


def records(
    key: str, period: Period, currency: str = "EUR", outcome: str | None = None,
    after: int | None = None, limit: int = PAGE, now: datetime | None = None,
) -> Page:
    """One page of the records behind KPI `key` (and `outcome` for calls)."""
    if key == "calls" and outcome not in OUTCOMES:
        raise ValidationError("outcome", f"must be one of {', '.join(OUTCOMES)}")
    params = {**_params(period, currency, now, outcome or "none"), **_scope(),
              "after": after, "limit": limit + 1}  # fmt: skip
    rows = database.execute_sql(records_sql(key), params).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    kind = DealRecord if key in DEAL_KPIS else ActivityRecord
    items = [kind(*row) for row in rows]
    return Page(items, items[-1].id if more else None)  # type: ignore[arg-type]
