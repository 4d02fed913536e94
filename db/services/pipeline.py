"""The pipeline board's data and the stages admins edit.

`board()` is two statements under row-level security: one aggregate over the open deals of the
pipeline (count, sum, weighted sum, average days in stage, deals needing attention per stage)
and one LATERAL top-N per stage (the cards, by amount, then id). A column pages further with
`cards()` and a keyset (amount, id). Filters: mine, my team, everyone I may see; an expected
close range. Idle days and the next activity of a card are read for the cards shown only.

Stages are data: `stages()`, `pipelines()`, and for admins `save_stage()`, `add_stage()`,
`reorder_stage()`, `delete_stage()`, `add_pipeline()` (the database refuses others: only the
admin group holds write privileges on stage and pipeline).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from db.connection import database
from db.errors import NotFound, StaleRecord, ValidationError, ValidationErrors
from db.services.rules import Rules

SCOPES = ("mine", "team", "all")
SCOPE_WORDS = {"mine": "mine", "team": "my team", "all": "everyone I may see"}
PAGE = 20  # cards per column and page


@dataclass(frozen=True)
class StageInfo:
    id: int
    pipeline_id: int
    name: str
    position: int
    probability: int
    is_won: bool
    is_lost: bool
    exit_criteria: str | None
    rotting_days: int | None
    version: int

    @property
    def is_open(self) -> bool:
        return not (self.is_won or self.is_lost)


@dataclass(frozen=True)
class PipelineInfo:
    id: int
    name: str
    is_default: bool
    version: int


@dataclass(frozen=True)
class Filters:
    pipeline_id: int | None = None
    scope: str = "all"
    close_from: date | None = None
    close_to: date | None = None


@dataclass(frozen=True)
class Card:
    id: int
    stage_id: int
    name: str
    account: str
    amount: Decimal
    currency: str
    expected_close: date | None
    owner: str | None
    probability: int
    idle_days: int
    rotting_days: int | None
    next_due: datetime | None
    version: int

    @property
    def rotting(self) -> bool:
        return self.rotting_days is not None and self.idle_days > self.rotting_days

    def next_state(self, today: date) -> str:
        """'overdue', 'today', 'later' or 'none' (no open follow-up on the deal)."""
        if self.next_due is None:
            return "none"
        day = self.next_due.date()
        if day < today:
            return "overdue"
        return "today" if day == today else "later"


@dataclass
class Column:
    stage: StageInfo
    count: int = 0
    total: Decimal = Decimal(0)
    weighted: Decimal = Decimal(0)
    attention: int = 0
    days_sum: float = 0.0
    cards: list[Card] = field(default_factory=list)

    @property
    def more(self) -> bool:
        return len(self.cards) < self.count

    def after(self) -> tuple[Decimal, int] | None:
        return (self.cards[-1].amount, self.cards[-1].id) if self.cards else None


@dataclass
class Board:
    pipeline: PipelineInfo
    filters: Filters
    columns: list[Column]
    today: date

    @property
    def total(self) -> Decimal:
        return sum((c.total for c in self.columns), Decimal(0))

    @property
    def weighted(self) -> Decimal:
        return sum((c.weighted for c in self.columns), Decimal(0))

    @property
    def count(self) -> int:
        return sum(c.count for c in self.columns)

    @property
    def attention(self) -> int:
        return sum(c.attention for c in self.columns)

    @property
    def average_days(self) -> float | None:
        n = self.count
        return sum(c.days_sum for c in self.columns) / n if n else None


_STAGE_COLS = (
    "id, pipeline_id, name, position, probability, is_won, is_lost, exit_criteria, "
    "rotting_days, version"
)


def pipelines() -> list[PipelineInfo]:
    rows = database.execute_sql(
        "SELECT id, name, is_default, version FROM pipeline WHERE deleted_at IS NULL "
        "ORDER BY NOT is_default, name"
    ).fetchall()
    return [PipelineInfo(*r) for r in rows]


def stages(pipeline_id: int) -> list[StageInfo]:
    rows = database.execute_sql(
        f"SELECT {_STAGE_COLS} FROM stage WHERE pipeline_id = %s AND deleted_at IS NULL "
        "ORDER BY position",
        (pipeline_id,),
    ).fetchall()
    return [StageInfo(*r) for r in rows]


def all_stages() -> list[StageInfo]:
    """Every live stage of every live pipeline (the deal form's stage choice)."""
    rows = database.execute_sql(
        f"SELECT {', '.join('s.' + c.strip() for c in _STAGE_COLS.split(','))} FROM stage s "
        "JOIN pipeline p ON p.id = s.pipeline_id WHERE s.deleted_at IS NULL "
        "AND p.deleted_at IS NULL ORDER BY NOT p.is_default, p.name, s.position"
    ).fetchall()
    return [StageInfo(*r) for r in rows]


def _pipeline(pipeline_id: int | None) -> PipelineInfo:
    found = pipelines()
    for p in found:
        if pipeline_id is None or p.id == pipeline_id:
            return p
    raise NotFound("no such pipeline" if pipeline_id else "there is no pipeline yet")


# -- the board ----------------------------------------------------------------------------

_WHERE = """o.stage_id = ANY (%(stages)s) AND NOT o.is_closed AND o.deleted_at IS NULL
   AND (%(owners)s::bigint[] IS NULL OR o.owner_id = ANY (%(owners)s::bigint[]))
   AND (%(close_from)s::date IS NULL OR o.expected_close >= %(close_from)s::date)
   AND (%(close_to)s::date IS NULL OR o.expected_close <= %(close_to)s::date)"""

# Per stage: count, sum, weighted sum, days in stage (summed), deals needing attention
# (rotting: idle longer than the stage allows since it entered the stage or its last activity;
# or no open follow-up; or an overdue one). A deal's activities are read once, grouped.
AGGREGATE_SQL = f"""
SELECT o.stage_id, count(*), coalesce(sum(o.amount), 0),
       round(coalesce(sum(o.amount * o.probability) / 100, 0), 2),
       coalesce(sum(greatest(extract(epoch FROM now()
                                     - coalesce(o.stage_entered_at, o.created_at)), 0)), 0)
           / 86400,
       count(*) FILTER (WHERE (s.rotting_days IS NOT NULL
               AND greatest(coalesce(o.stage_entered_at, o.created_at), n.last_at)
                   < now() - make_interval(days => s.rotting_days))
           OR n.next_due IS NULL OR n.next_due < date_trunc('day', now()))
  FROM opportunity o
  JOIN stage s ON s.id = o.stage_id
  LEFT JOIN (SELECT x.opportunity_id,
                    min(x.due_at) FILTER (WHERE x.completed_at IS NULL AND x.due_at IS NOT NULL)
                        AS next_due,
                    max(x.occurred_at) FILTER (WHERE x.occurred_at <= now()
                        AND (x.due_at IS NULL OR x.completed_at IS NOT NULL)) AS last_at
               FROM activity x
              WHERE x.opportunity_id IS NOT NULL AND x.deleted_at IS NULL
              GROUP BY x.opportunity_id) n ON n.opportunity_id = o.id
 WHERE {_WHERE}
 GROUP BY o.stage_id
"""

# Idle days and days in stage never go below 0: a deal dated ahead (imported data, a clock
# ahead on another machine) has been idle for no days, not for minus 37.
# The top cards of each stage (or the next page of one: %(after_amount)s, %(after_id)s).
CARDS_SQL = f"""
SELECT o.id, o.stage_id, o.name, coalesce(a.name, '(hidden account)'), o.amount, o.currency,
       o.expected_close, u.display_name, o.probability,
       greatest(floor(extract(epoch FROM now() - greatest(o.entered, l.last_at)) / 86400), 0)::int,
       s.rotting_days, n.next_due, o.version
  FROM unnest(%(stages)s::bigint[]) AS st(id)
 CROSS JOIN LATERAL (
        SELECT o.id, o.stage_id, o.name, o.account_id, o.amount, o.currency, o.expected_close,
               o.owner_id, o.probability, o.version,
               coalesce(o.stage_entered_at, o.created_at) AS entered
          FROM opportunity o
         WHERE o.stage_id = st.id AND {_WHERE}
           AND (%(after_amount)s::numeric IS NULL
                OR o.amount < %(after_amount)s::numeric
                OR (o.amount = %(after_amount)s::numeric AND o.id > %(after_id)s::bigint))
         ORDER BY o.amount DESC, o.id
         LIMIT %(limit)s) o
  JOIN stage s ON s.id = o.stage_id
  LEFT JOIN account a ON a.id = o.account_id
  LEFT JOIN app_user u ON u.id = o.owner_id
  LEFT JOIN LATERAL (SELECT min(x.due_at) AS next_due FROM activity x
                      WHERE x.opportunity_id = o.id AND x.completed_at IS NULL
                        AND x.due_at IS NOT NULL AND x.deleted_at IS NULL) n ON true
  LEFT JOIN LATERAL (SELECT max(x.occurred_at) AS last_at FROM activity x
                      WHERE x.opportunity_id = o.id AND x.occurred_at <= now()
                        AND (x.due_at IS NULL OR x.completed_at IS NOT NULL)
                        AND x.deleted_at IS NULL) l ON true
 ORDER BY array_position(%(stages)s::bigint[], o.stage_id), o.amount DESC, o.id
"""


def _owners(scope: str) -> list[int] | None:
    """The owner ids a scope allows (None: no owner filter, RLS alone decides)."""
    if scope == "all":
        return None
    if scope == "mine":
        row = database.execute_sql("SELECT current_app_user_id()").fetchone()
        return [row[0]] if row and row[0] else [-1]
    if scope == "team":
        rows = database.execute_sql(
            "SELECT u.id FROM app_user u WHERE u.id = current_app_user_id()"
            " OR u.team_id IN (SELECT m.team_id FROM app_user m"
            "                   WHERE m.id = current_app_user_id() AND m.team_id IS NOT NULL)"
            " OR u.team_id = ANY (sec_hier_team_ids())"
        ).fetchall()
        return [r[0] for r in rows] or [-1]
    raise ValidationError("scope", "must be one of: " + ", ".join(SCOPES))


def params(
    filters: Filters,
    stage_ids: list[int],
    owners: list[int] | None,
    after: tuple[Decimal, int] | None = None,
    limit: int = PAGE,
) -> dict[str, Any]:
    """The parameters of AGGREGATE_SQL and CARDS_SQL (the benchmark's floor uses them too)."""
    return {
        "stages": stage_ids, "owners": owners, "close_from": filters.close_from,
        "close_to": filters.close_to, "after_amount": after[0] if after else None,
        "after_id": after[1] if after else None, "limit": limit,
    }  # fmt: skip


def board(filters: Filters, per_stage: int = PAGE) -> Board:
    """The board: one column per open stage with its totals and top `per_stage` cards."""
    pipe = _pipeline(filters.pipeline_id)
    open_stages = [s for s in stages(pipe.id) if s.is_open]
    columns = {s.id: Column(s) for s in open_stages}
    ids = list(columns)
    owners = _owners(filters.scope)
    p = params(filters, ids, owners, limit=per_stage)
    today = database.execute_sql("SELECT current_date").fetchone()[0]
    if ids:
        for sid, count, total, weighted, days, attention in database.execute_sql(
            AGGREGATE_SQL, p
        ).fetchall():
            c = columns[sid]
            c.count, c.total, c.weighted = count, total, weighted
            c.days_sum, c.attention = float(days), attention
        for row in database.execute_sql(CARDS_SQL, p).fetchall():
            columns[row[1]].cards.append(Card(*row))
    return Board(pipe, filters, [columns[i] for i in ids], today)


def cards(
    filters: Filters, stage_id: int, after: tuple[Decimal, int] | None, limit: int = PAGE
) -> list[Card]:
    """The next page of one column after the card (amount, id)."""
    p = params(filters, [stage_id], _owners(filters.scope), after, limit)
    return [Card(*row) for row in database.execute_sql(CARDS_SQL, p).fetchall()]


# -- stages (admins) ----------------------------------------------------------------------


def validate_stage(data: Mapping[str, Any]) -> dict[str, Any]:
    r = Rules()
    out = {
        "name": r.text(data, "name", 100, required=True),
        "probability": r.integer(data, "probability", 0, 100),
        "is_won": r.flag(data, "is_won"),
        "is_lost": r.flag(data, "is_lost"),
        "exit_criteria": r.text(data, "exit_criteria", 2000),
        "rotting_days": r.integer(data, "rotting_days", 1, 3650),
    }
    if out["probability"] is None:
        r.fail("probability", "is required: a whole number from 0 to 100")
    if out["is_won"] and out["is_lost"]:
        r.fail("is_lost", "a stage cannot be both won and lost")
    r.check()
    return out


def save_stage(stage_id: int, version: int, form: Mapping[str, Any]) -> int:
    """Save an existing stage (version-checked); returns the new version."""
    values = validate_stage(form)
    cols = ", ".join(f"{k} = %({k})s" for k in values)
    with database.atomic():
        row = database.execute_sql(
            f"UPDATE stage SET {cols} WHERE id = %(id)s AND version = %(version)s "
            "AND deleted_at IS NULL RETURNING version",
            {**values, "id": stage_id, "version": version},
        ).fetchone()
    if row is None:
        raise StaleRecord("the stage was changed or deleted by someone else: reload it")
    return int(row[0])


def add_stage(pipeline_id: int, form: Mapping[str, Any]) -> int:
    """A new stage at the end of the pipeline's open stages (before won and lost)."""
    values = validate_stage(form)
    with database.atomic():
        database.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", ("stage.position",))
        # make room: closing stages move one down
        rows = database.execute_sql(
            "SELECT id, position, is_won OR is_lost FROM stage WHERE pipeline_id = %s "
            "ORDER BY position DESC",
            (pipeline_id,),
        ).fetchall()
        position = 1
        for sid, pos, closing in rows:
            if closing and not (values["is_won"] or values["is_lost"]):
                database.execute_sql(
                    "UPDATE stage SET position = position + 1 WHERE id = %s", (sid,)
                )
                position = pos
            else:
                position = max(position, pos + 1)
                break
        row = database.execute_sql(
            "INSERT INTO stage (pipeline_id, position, name, probability, is_won, is_lost,"
            " exit_criteria, rotting_days) VALUES (%(p)s, %(pos)s, %(name)s, %(probability)s,"
            " %(is_won)s, %(is_lost)s, %(exit_criteria)s, %(rotting_days)s) RETURNING id",
            {**values, "p": pipeline_id, "pos": position},
        ).fetchone()
    return int(row[0])


def reorder_stage(stage_id: int, direction: int) -> None:
    """Swap a stage with its neighbour (direction -1 earlier, +1 later)."""
    with database.atomic():
        row = database.execute_sql(
            "SELECT pipeline_id, position FROM stage WHERE id = %s AND deleted_at IS NULL",
            (stage_id,),
        ).fetchone()
        if row is None:
            raise NotFound("the stage was deleted")
        pipeline_id, pos = row
        other = database.execute_sql(
            "SELECT id, position FROM stage WHERE pipeline_id = %s AND deleted_at IS NULL AND "
            + (
                "position > %s ORDER BY position"
                if direction > 0
                else "position < %s ORDER BY position DESC"
            )  # fmt: skip
            + " LIMIT 1",
            (pipeline_id, pos),
        ).fetchone()
        if other is None:
            raise ValidationError("position", "is already at the end")
        database.execute_sql("UPDATE stage SET position = -1 WHERE id = %s", (stage_id,))
        database.execute_sql("UPDATE stage SET position = %s WHERE id = %s", (pos, other[0]))
        database.execute_sql("UPDATE stage SET position = %s WHERE id = %s", (other[1], stage_id))


def delete_stage(stage_id: int) -> None:
    """Trash a stage that no live deal is in (move them first)."""
    with database.atomic():
        row = database.execute_sql(
            "SELECT count(*) FROM opportunity WHERE stage_id = %s AND deleted_at IS NULL",
            (stage_id,),
        ).fetchone()
        if row[0]:
            raise ValidationError("stage_id", f"{row[0]:,} deals are in this stage: move them")
        database.execute_sql(
            "UPDATE stage SET deleted_at = now(), position = -id WHERE id = %s", (stage_id,)
        )


def add_pipeline(name: str) -> int:
    """A new pipeline with a first stage and won and lost stages to edit from."""
    r = Rules()
    text = r.text({"name": name}, "name", 100, required=True)
    r.check()
    with database.atomic():
        if database.execute_sql(
            "SELECT 1 FROM pipeline WHERE lower(name) = lower(%s)", (text,)
        ).fetchone():
            raise ValidationErrors([ValidationError("name", "a pipeline has this name already")])
        (pid,) = database.execute_sql(
            "INSERT INTO pipeline (name) VALUES (%s) RETURNING id", (text,)
        ).fetchone()
        database.execute_sql(
            "INSERT INTO stage (pipeline_id, name, position, probability, is_won, is_lost,"
            " exit_criteria, rotting_days) VALUES"
            " (%(p)s, 'Qualify', 1, 10, false, false, NULL, 14),"
            " (%(p)s, 'Won', 2, 100, true, false, 'Contract signed', NULL),"
            " (%(p)s, 'Lost', 3, 0, false, true, 'Lost reason recorded', NULL)",
            {"p": pid},
        )
    return int(pid)
