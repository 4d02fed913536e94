"""The forecast: each person's figures for a month or a quarter, rolled up through the teams.

Figures per person and currency (docs/forecast.md has the definitions and the decisions):

- closed    won deals whose closed_at falls in the period
- commit    closed + open deals in category commit closing in the period (expected_close)
- best case commit + open deals in category best_case
- pipeline  every open deal in commit, best_case or pipeline (open only, as Salesforce's
            "open pipeline": closed deals are not pipeline any more)
- weighted  sum of amount x probability / 100 over the same open deals

Deals in category omitted are left out; open deals without an expected close date belong to no
period. Everything is read as the person (row-level security): the figures count only deals
they may see, and only deals owned by people in their scope (admins: everyone; managers: the
people of the teams they manage, recursively, and themselves; everyone else: themselves).

One query per view: the people of the scope with their figures per currency and the latest
adjustments beside them, and the teams they belong to; the rollup through the team tree
is done here on those few rows (a team's figure is the sum of its people's and its sub-teams').
Amounts in different currencies are never added: a view shows one currency.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation

from db.connection import database
from db.errors import ValidationError
from db.services._pgerrors import translate
from db.services.periods import Period

CATEGORIES = ("commit", "best_case", "pipeline")
CATEGORY_WORDS = {"commit": "commit", "best_case": "best case", "pipeline": "pipeline"}
NOTE_MAX = 500
AMOUNT_MAX = Decimal("1e15")
ZERO = Decimal(0)


@dataclass(frozen=True)
class Figures:
    closed: Decimal = ZERO
    commit: Decimal = ZERO
    best_case: Decimal = ZERO
    pipeline: Decimal = ZERO
    weighted: Decimal = ZERO
    open_deals: int = 0
    won_deals: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(a + b for a, b in zip(self.values(), other.values(), strict=True)))

    def values(self) -> tuple:
        return (self.closed, self.commit, self.best_case, self.pipeline, self.weighted,
                self.open_deals, self.won_deals)  # fmt: skip

    def get(self, category: str) -> Decimal:
        return getattr(self, category)


@dataclass(frozen=True)
class Adjustment:
    category: str
    amount: Decimal
    note: str | None
    by_name: str
    at: datetime


@dataclass(frozen=True)
class Row:
    """A team (with everything under it) or a person."""

    kind: str  # "team" or "person"
    id: int
    name: str
    depth: int
    own: Figures
    # The figure a manager put beside the person's own, per category (latest one);
    # for a team: the sum of its people's effective figures where any was adjusted.
    adjustments: dict[str, Adjustment] = field(default_factory=dict)
    adjusted: dict[str, Decimal] = field(default_factory=dict)

    def effective(self, category: str) -> Decimal:
        return self.adjusted.get(category, self.own.get(category))


@dataclass(frozen=True)
class Forecast:
    period: Period
    currency: str
    currencies: tuple[str, ...]  # every currency with figures in this view, most used first
    rows: list[Row]
    total: Row

    def person(self, user_id: int) -> Row | None:
        return next((r for r in self.rows if r.kind == "person" and r.id == user_id), None)

    def team(self, team_id: int) -> Row | None:
        return next((r for r in self.rows if r.kind == "team" and r.id == team_id), None)


_SQL = """
WITH deals AS (
    SELECT o.owner_id, o.currency,
           sum(o.amount) FILTER (WHERE o.is_won) AS closed,
           sum(o.amount) FILTER (WHERE NOT o.is_closed AND o.forecast_category = 'commit')
               AS commit_open,
           sum(o.amount) FILTER (WHERE NOT o.is_closed AND o.forecast_category = 'best_case')
               AS best_open,
           sum(o.amount) FILTER (WHERE NOT o.is_closed) AS pipeline,
           sum(o.amount * o.probability / 100) FILTER (WHERE NOT o.is_closed) AS weighted,
           count(*) FILTER (WHERE NOT o.is_closed) AS open_deals,
           count(*) FILTER (WHERE o.is_won) AS won_deals
      FROM opportunity o
     WHERE o.deleted_at IS NULL
       AND ((NOT o.is_closed AND o.expected_close >= %(start)s AND o.expected_close < %(end)s
             AND o.forecast_category IN ('commit', 'best_case', 'pipeline'))
         OR (o.is_closed AND o.is_won AND o.closed_at >= %(start)s::timestamptz
             AND o.closed_at < %(end)s::timestamptz))
       AND (%(all)s OR o.owner_id = ANY (%(ids)s::bigint[]))
     GROUP BY o.owner_id, o.currency
), adj AS (
    SELECT DISTINCT ON (a.user_id, a.category, a.currency)
           a.user_id, a.category, a.currency, a.amount, a.note, a.adjusted_at, b.display_name
      FROM forecast_adjustment a
      JOIN app_user b ON b.id = a.adjusted_by
     WHERE a.period_kind = %(kind)s AND a.period_start = %(start)s
     ORDER BY a.user_id, a.category, a.currency, a.adjusted_at DESC, a.id DESC
), people AS (
    SELECT u.id, u.display_name, u.team_id
      FROM app_user u
     WHERE u.deleted_at IS NULL
       AND (%(all)s OR u.id = ANY (%(ids)s::bigint[]))
       AND ((u.active AND u.role IN ('rep', 'manager'))
            OR u.id IN (SELECT owner_id FROM deals) OR u.id IN (SELECT user_id FROM adj))
)
SELECT 'person', p.id, p.display_name, p.team_id,
       (SELECT jsonb_agg(jsonb_build_object(
                   'c', d.currency, 'closed', coalesce(d.closed, 0)::text,
                   'commit_open', coalesce(d.commit_open, 0)::text,
                   'best_open', coalesce(d.best_open, 0)::text,
                   'pipeline', coalesce(d.pipeline, 0)::text,
                   'weighted', round(coalesce(d.weighted, 0), 2)::text,
                   'open', d.open_deals, 'won', d.won_deals))
          FROM deals d WHERE d.owner_id = p.id),
       (SELECT jsonb_agg(jsonb_build_object(
                   'k', a.category, 'c', a.currency, 'amount', a.amount::text, 'note', a.note,
                   'by', a.display_name, 'at', a.adjusted_at))
          FROM adj a WHERE a.user_id = p.id)
  FROM people p
UNION ALL
SELECT 'team', t.id, t.name, t.parent_id, NULL, NULL
  FROM team t
 WHERE t.deleted_at IS NULL
   AND (%(all)s OR t.id = ANY ((SELECT sec_hier_team_ids())::bigint[]))
"""


def _dec(value: object) -> Decimal:
    return Decimal(str(value))


def _person_figures(deals: list[dict] | None, currency: str) -> Figures:
    for d in deals or ():
        if d["c"] == currency:
            closed = _dec(d["closed"])
            commit = closed + _dec(d["commit_open"])
            return Figures(closed, commit, commit + _dec(d["best_open"]), _dec(d["pipeline"]),
                           _dec(d["weighted"]), int(d["open"]), int(d["won"]))  # fmt: skip
    return Figures()


def _currencies(people: Iterable[tuple]) -> tuple[str, ...]:
    weight: dict[str, int] = {}
    for _kind, _id, _name, _team, deals, adjs in people:
        for d in deals or ():
            weight[d["c"]] = weight.get(d["c"], 0) + int(d["open"]) + int(d["won"])
        for a in adjs or ():
            weight.setdefault(a["c"], 0)
    return tuple(sorted(weight, key=lambda c: (-weight[c], c)))


def scope() -> dict:
    """{"all": admin?, "ids": the people of the person's scope}. Looked up first and sent as
    values, so the planner sees a plain list of owners and uses the owner indexes (the
    database still applies row-level security to every deal)."""
    row = database.execute_sql(
        "SELECT sec_is_admin(), coalesce(sec_hier_user_ids(), '{}')"
    ).fetchone()
    return {"all": bool(row[0]), "ids": list(row[1] or [])}


def params(period: Period) -> dict:
    return {"kind": period.kind, "start": period.start, "end": period.end, **scope()}


def forecast(period: Period, currency: str | None = None) -> Forecast:
    """The forecast of `period` as the connected person sees it, in `currency` (default: the
    currency with the most deals in the view, else EUR)."""
    try:
        rows = database.execute_sql(_SQL, params(period)).fetchall()
    except Exception as exc:  # agents hold no privilege on deals: say so in one line
        raise translate(exc) from exc
    people = [r for r in rows if r[0] == "person"]
    teams = {r[1]: (r[2], r[3]) for r in rows if r[0] == "team"}
    currencies = _currencies(people)
    cur = currency or (currencies[0] if currencies else "EUR")
    return build(period, cur, currencies, people, teams)


def build(period: Period, currency: str, currencies: tuple[str, ...], people: list[tuple],
          teams: dict[int, tuple[str, int | None]]) -> Forecast:  # fmt: skip
    """Person rows and the team tree (in display order: a team, its people, its sub-teams)."""
    person_rows: dict[int | None, list[Row]] = {}
    for _kind, uid, name, team_id, deals, adjs in people:
        found: dict[str, Adjustment] = {}
        for a in adjs or ():
            if a["c"] == currency:
                at = datetime.fromisoformat(a["at"]) if isinstance(a["at"], str) else a["at"]
                found[a["k"]] = Adjustment(a["k"], _dec(a["amount"]), a["note"], a["by"], at)
        row = Row("person", uid, name, 0, _person_figures(deals, currency), found,
                  {k: a.amount for k, a in found.items()})  # fmt: skip
        person_rows.setdefault(team_id if team_id in teams else None, []).append(row)
    children: dict[int | None, list[int]] = {}
    for tid, (_name, parent) in teams.items():
        children.setdefault(parent if parent in teams else None, []).append(tid)

    out: list[Row] = []
    seen: set[int] = set()

    def walk(tid: int, depth: int) -> Row:
        seen.add(tid)
        at = len(out)
        out.append(Row("team", tid, teams[tid][0], depth, Figures()))  # replaced below
        members = sorted(person_rows.get(tid, []), key=lambda r: r.name.lower())
        parts: list[Row] = []
        for m in members:
            out.append(replace(m, depth=depth + 1))
            parts.append(m)
        for child in sorted(children.get(tid, []), key=lambda c: teams[c][0].lower()):
            if child not in seen:
                parts.append(walk(child, depth + 1))
        row = _sum("team", tid, teams[tid][0], depth, parts)
        out[at] = row
        return row

    tops: list[Row] = []
    for tid in sorted(children.get(None, []), key=lambda c: teams[c][0].lower()):
        tops.append(walk(tid, 0))
    # Teams in a loop of parents (the schema forbids only a team being its own parent) have no
    # root: shown from their lowest id, so nobody's figures go missing.
    for tid in sorted(teams):
        if tid not in seen:
            tops.append(walk(tid, 0))
    for m in sorted(person_rows.get(None, []), key=lambda r: r.name.lower()):
        out.append(m)
        tops.append(m)
    total = _sum("total", 0, "Total", 0, tops)
    return Forecast(period, currency, currencies, out, total)


def _sum(kind: str, rid: int, name: str, depth: int, parts: list[Row]) -> Row:
    own = Figures()
    for p in parts:
        own = own + p.own
    adjusted: dict[str, Decimal] = {}
    for k in CATEGORIES:
        if any(k in p.adjusted for p in parts):
            adjusted[k] = sum((p.effective(k) for p in parts), ZERO)
    return Row(kind, rid, name, depth, own, {}, adjusted)


def short_amount(value: Decimal | int | float) -> str:
    """950, 4.5k, 13.5k, 120k, 1.5M, 12.5M, 120M, 1.5B: at most 5 characters for a column."""
    v = Decimal(value)
    sign = "-" if v < 0 else ""
    v = abs(v)
    for limit, unit in ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(1000), "k")):
        if v >= limit:
            scaled = v / limit
            text = f"{scaled:.1f}" if scaled < 100 else f"{scaled:.0f}"
            return sign + text.removesuffix(".0") + unit
    return sign + f"{v:.0f}"


# -- adjustments ------------------------------------------------------------------------------


def parse_amount(text: str, field_name: str = "amount") -> Decimal:
    """120000, 120 000, 120k, 1.5M, 1,234.50 -> Decimal; a clear message otherwise."""
    raw = text.strip().replace(" ", "").replace("\u00a0", "").replace("_", "")
    if not raw:
        raise ValidationError(field_name, "type an amount, e.g. 120000 or 120k")
    factor = Decimal(1)
    if raw[-1] in "kKmM":
        factor = Decimal(1000) if raw[-1] in "kK" else Decimal(1_000_000)
        raw = raw[:-1]
    raw = raw.replace(",", "")
    try:
        value = Decimal(raw) * factor
    except InvalidOperation:
        raise ValidationError(field_name, "must be a number, e.g. 120000 or 120k") from None
    if not value.is_finite() or value < 0:
        raise ValidationError(field_name, "must be zero or more")
    if value >= AMOUNT_MAX:
        raise ValidationError(field_name, "must be less than 1,000,000,000,000,000")
    return value.quantize(Decimal("0.01"))


def adjust(period: Period, user_id: int, category: str, amount: Decimal | str,
           currency: str, note: str | None = None) -> int:  # fmt: skip
    """Store a manager's figure beside a person's for `period` and `category`; returns its id.

    Who and when are set by the database. A rep, or a manager outside the person's teams, is
    refused by the database (PermissionDenied)."""
    if category not in CATEGORIES:
        raise ValidationError("category", f"must be one of {', '.join(CATEGORIES)}")
    value = parse_amount(amount) if isinstance(amount, str) else amount
    if value < 0 or value >= AMOUNT_MAX:
        raise ValidationError("amount", "must be zero or more and below 10^15")
    code = (currency or "").strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValidationError("currency", "must be a three-letter code such as EUR")
    clean_note = (note or "").strip() or None
    if clean_note and len(clean_note) > NOTE_MAX:
        raise ValidationError("note", f"must be at most {NOTE_MAX} characters")
    try:
        with database.atomic():
            return database.execute_sql(
                "INSERT INTO forecast_adjustment (period_kind, period_start, user_id, category, "
                "amount, currency, note) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (period.kind, period.start, user_id, category, value, code, clean_note),
            ).fetchone()[0]
    except Exception as exc:  # the database said no: say why in one line
        raise translate(exc) from exc


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    category: str
    amount: Decimal
    currency: str
    note: str | None
    by_name: str
    at: datetime


def history(period: Period, user_id: int, limit: int = 50) -> list[HistoryEntry]:
    """Every adjustment of a person's figures in `period`, newest first (those visible)."""
    rows = database.execute_sql(
        "SELECT a.id, a.category, a.amount, a.currency, a.note, b.display_name, a.adjusted_at "
        "FROM forecast_adjustment a JOIN app_user b ON b.id = a.adjusted_by "
        "WHERE a.period_kind = %s AND a.period_start = %s AND a.user_id = %s "
        "ORDER BY a.adjusted_at DESC, a.id DESC LIMIT %s",
        (period.kind, period.start, user_id, limit),
    ).fetchall()
    return [HistoryEntry(*r) for r in rows]


def adjustable(user_ids: list[int]) -> frozenset[int]:
    """Which of `user_ids` the connected person may adjust (the insert policy's rule, asked
    ahead so the screen can dim the key; the database decides anyway). One query."""
    if not user_ids:
        return frozenset()
    rows = database.execute_sql(
        "SELECT u.id FROM app_user u WHERE u.id = ANY (%s) AND (sec_is_admin() OR "
        "(sec_role() = 'manager' AND u.id <> current_app_user_id() "
        "AND u.team_id = ANY (sec_hier_team_ids())))",
        (list(user_ids),),
    ).fetchall()
    return frozenset(r[0] for r in rows)


def may_adjust(user_id: int) -> bool:
    """Whether the connected person may adjust `user_id`'s figures (the insert policy's rule,
    asked ahead so the screen can dim the key; the database decides anyway)."""
    row = database.execute_sql(
        "SELECT sec_is_admin() OR (sec_role() = 'manager' AND %(u)s <> current_app_user_id() "
        "AND EXISTS (SELECT 1 FROM app_user u WHERE u.id = %(u)s "
        "AND u.team_id = ANY (sec_hier_team_ids())))",
        {"u": user_id},
    ).fetchone()
    return bool(row and row[0])
