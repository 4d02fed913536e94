"""Deals (opportunities): load, create, edit, move between stages, win and lose.

The database decides what a stage means (0015's trigger): a won or lost stage closes the deal,
a lost one needs a reason, a move sets the stage's probability unless the person typed one
(`probability_manual`). These functions validate first (ValidationError naming the field and
the rule), save with a version check (db/services/editing.py: merge or Conflict) and let
row-level security decide who may change which deal. See docs/pipeline.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from db.connection import database
from db.errors import (
    NotFound,
    PermissionDenied,
    StaleRecord,
    ValidationError,
    ValidationErrors,
)
from db.models import Opportunity
from db.services._pgerrors import original as _driver_error
from db.services.editing import Saved, read_fields, update_fields
from db.services.validation import validate_deal, validate_lost_reason

FIELDS = (
    "account_id", "primary_contact_id", "name", "amount", "currency", "stage_id",
    "probability", "expected_close", "forecast_category", "owner_id", "campaign_id",
    "next_step", "lost_reason",
)  # fmt: skip
STORED = (*FIELDS, "probability_manual", "is_closed", "is_won", "closed_at")


@dataclass(frozen=True)
class Deal:
    """One deal as the detail line and the board's dialogs show it."""

    id: int
    name: str
    account_id: int
    account: str
    contact: str | None
    amount: Decimal
    currency: str
    stage_id: int
    stage: str
    probability: int
    expected_close: date | None
    owner: str | None
    is_closed: bool
    is_won: bool
    lost_reason: str | None
    next_step: str | None
    version: int


@dataclass(frozen=True)
class Moved:
    """The outcome of a stage move: where the deal is now and what the stage it left asks."""

    deal_id: int
    version: int
    stage_id: int
    stage: str
    probability: int
    left_stage: str
    left_exit_criteria: str | None
    is_closed: bool = False
    is_won: bool = False


def load(deal_id: int) -> dict[str, Any]:
    """The editable values of a live deal with `version` (the form's `original`)."""
    values = read_fields(Opportunity, deal_id, STORED)
    if values is None or values["deleted_at"] is not None:
        raise NotFound(f"deal {deal_id} was deleted or is not visible")
    return values


_DEAL = """
SELECT o.id, o.name, o.account_id, a.name, nullif(btrim(concat_ws(' ', c.first_name,
       c.last_name)), ''), o.amount, o.currency, o.stage_id, s.name, o.probability,
       o.expected_close, u.display_name, o.is_closed, o.is_won, o.lost_reason, o.next_step,
       o.version
  FROM opportunity o
  JOIN stage s ON s.id = o.stage_id
  LEFT JOIN account a ON a.id = o.account_id
  LEFT JOIN contact c ON c.id = o.primary_contact_id
  LEFT JOIN app_user u ON u.id = o.owner_id
 WHERE o.id = %s AND o.deleted_at IS NULL
"""


def get(deal_id: int) -> Deal:
    row = database.execute_sql(_DEAL, (deal_id,)).fetchone()
    if row is None:
        raise NotFound(f"deal {deal_id} was deleted or is not visible")
    return Deal(*row[:3], row[3] or "(hidden account)", *row[4:])


def names(values: Mapping[str, Any]) -> dict[str, Any]:
    """Display names of the deal's account and primary contact (for the form's pickers)."""
    out: dict[str, Any] = {"account": None, "contact": None}
    if values.get("account_id"):
        row = database.execute_sql(
            "SELECT name FROM account WHERE id = %s", (values["account_id"],)
        ).fetchone()
        out["account"] = row[0] if row else None
    if values.get("primary_contact_id"):
        row = database.execute_sql(
            "SELECT nullif(btrim(concat_ws(' ', first_name, last_name)), '') FROM contact "
            "WHERE id = %s",
            (values["primary_contact_id"],),
        ).fetchone()
        out["contact"] = row[0] if row else None
    return out


def _check_refs(values: Mapping[str, Any]) -> None:
    """The account, the contact (of that account) and the stage must be live and visible."""
    errors: list[ValidationError] = []
    row = database.execute_sql(
        "SELECT (SELECT count(*) FROM account WHERE id = %(a)s AND deleted_at IS NULL),"
        " (SELECT account_id FROM contact WHERE id = %(c)s AND deleted_at IS NULL),"
        " (SELECT count(*) FROM contact WHERE id = %(c)s AND deleted_at IS NULL),"
        " (SELECT count(*) FROM stage WHERE id = %(s)s AND deleted_at IS NULL)",
        {
            "a": values["account_id"],
            "c": values.get("primary_contact_id"),
            "s": values["stage_id"],
        },  # fmt: skip
    ).fetchone()
    accounts, contact_account, contacts, stages = row
    if not accounts:
        errors.append(ValidationError("account_id", "the account is deleted or not visible"))
    if values.get("primary_contact_id"):
        if not contacts:
            errors.append(
                ValidationError("primary_contact_id", "the contact is deleted or not visible")
            )
        elif contact_account != values["account_id"]:
            errors.append(
                ValidationError("primary_contact_id", "must be a contact of the deal's account")
            )
    if not stages:
        errors.append(ValidationError("stage_id", "the stage is deleted"))
    if errors:
        raise ValidationErrors(errors)


def _check_owner(owner_id: int | None, unchanged: int | None) -> None:
    """Only managers and admins give a deal to someone else (the database says so too, but
    a rep would read "permission denied for table opportunity")."""
    if owner_id is None or owner_id == unchanged:
        return
    me, role = database.execute_sql("SELECT current_app_user_id(), sec_role()").fetchone()
    if owner_id != me and role not in ("manager", "admin"):
        raise ValidationErrors(
            [ValidationError("owner_id", "only a manager or an admin may give a deal to someone")]
        )


def _translate(exc: Exception) -> Exception:
    """A database refusal as the error a person can act on."""
    err = _driver_error(exc)
    diag = getattr(err, "diag", None)
    column = getattr(diag, "column_name", None)
    text = getattr(diag, "message_primary", None) or str(exc)
    code = getattr(err, "pgcode", None)
    if code == "23514" and column:
        return ValidationError(column, text)
    if code == "42501":
        if column == "owner_id":
            return ValidationError("owner_id", text)
        return PermissionDenied("you may not change this deal: " + text)
    return exc


def create(form: Mapping[str, Any]) -> int:
    """Validate and insert one deal; returns the new id. Empty probability: the stage's."""
    values = validate_deal(form)
    manual = values["probability"] is not None
    if values["owner_id"] is None:
        values.pop("owner_id")  # the database's default: the person
    try:
        with database.atomic():
            _check_refs(values)
            _check_owner(values.get("owner_id"), None)
            row = database.execute_sql(
                "INSERT INTO opportunity ({cols}, probability_manual) VALUES ({marks}, %s) "
                "RETURNING id".format(
                    cols=", ".join(values), marks=", ".join(["%s"] * len(values))
                ),
                (*values.values(), manual),
            ).fetchone()
    except (ValidationError, ValidationErrors):
        raise
    except Exception as exc:
        raise _translate(exc) from exc
    return int(row[0])


def update(deal_id: int, original: Mapping[str, Any], form: Mapping[str, Any]) -> Saved:
    """Validate and save only what changed since `original` (Conflict if we both changed it).

    A typed probability is the person's (kept on stage moves); an empty one is the stage's."""
    values = validate_deal(form)
    if values["owner_id"] is None:
        values["owner_id"] = original.get("owner_id")
    try:
        with database.atomic():
            _check_refs(values)
            _check_owner(values["owner_id"], original.get("owner_id"))
            if values["probability"] is None:
                values["probability"] = stage_probability(values["stage_id"])
                values["probability_manual"] = False
            else:
                values["probability_manual"] = True
            return update_fields(Opportunity, deal_id, original, values)
    except (ValidationError, ValidationErrors):
        raise
    except Exception as exc:
        raise _translate(exc) from exc


def stage_probability(stage_id: int) -> int:
    row = database.execute_sql(
        "SELECT probability FROM stage WHERE id = %s", (stage_id,)
    ).fetchone()
    return int(row[0]) if row else 0


# One statement: find the next (or previous) open stage of the deal's pipeline and move there
# if the version still matches. The stage it leaves comes back with its exit criteria.
_MOVE = """
WITH d AS (
    SELECT o.id, o.stage_id, s.pipeline_id, s.position, s.name AS left_name,
           s.exit_criteria AS left_criteria
      FROM opportunity o JOIN stage s ON s.id = o.stage_id
     WHERE o.id = %(id)s AND o.version = %(version)s AND NOT o.is_closed
       AND o.deleted_at IS NULL
), t AS (
    SELECT st.id, st.name FROM stage st, d
     WHERE st.pipeline_id = d.pipeline_id AND NOT st.is_won AND NOT st.is_lost
       AND st.deleted_at IS NULL
       AND CASE WHEN %(dir)s > 0 THEN st.position > d.position ELSE st.position < d.position END
     ORDER BY CASE WHEN %(dir)s > 0 THEN st.position ELSE -st.position END
     LIMIT 1
)
UPDATE opportunity o SET stage_id = t.id
  FROM d, t
 WHERE o.id = d.id AND o.version = %(version)s
RETURNING o.version, o.stage_id, t.name, o.probability, d.left_name, d.left_criteria
"""

# Closing: the pipeline's won (or lost) stage.
_CLOSE = """
WITH d AS (
    SELECT o.id, s.pipeline_id, s.name AS left_name, s.exit_criteria AS left_criteria
      FROM opportunity o JOIN stage s ON s.id = o.stage_id
     WHERE o.id = %(id)s AND o.version = %(version)s AND NOT o.is_closed
       AND o.deleted_at IS NULL
), t AS (
    SELECT st.id, st.name FROM stage st, d
     WHERE st.pipeline_id = d.pipeline_id AND st.deleted_at IS NULL
       AND CASE WHEN %(won)s THEN st.is_won ELSE st.is_lost END
     ORDER BY st.position LIMIT 1
)
UPDATE opportunity o SET stage_id = t.id, lost_reason = %(reason)s
  FROM d, t
 WHERE o.id = d.id AND o.version = %(version)s
RETURNING o.version, o.stage_id, t.name, o.probability, d.left_name, d.left_criteria,
          o.is_closed, o.is_won
"""


def _why_not(deal_id: int, version: int, direction: int | None) -> Exception:
    """Why a move matched no row: gone, changed since, closed, at the end, or not yours."""
    row = database.execute_sql(
        "SELECT o.version, o.is_closed, o.deleted_at IS NOT NULL,"
        " EXISTS (SELECT 1 FROM stage st, stage s WHERE s.id = o.stage_id"
        "   AND st.pipeline_id = s.pipeline_id AND NOT st.is_won AND NOT st.is_lost"
        "   AND st.deleted_at IS NULL AND CASE WHEN %s > 0 THEN st.position > s.position"
        "   ELSE st.position < s.position END)"
        " FROM opportunity o WHERE o.id = %s",
        (direction or 0, deal_id),
    ).fetchone()
    if row is None or row[2]:
        return NotFound(f"deal {deal_id} was deleted or is not visible")
    current, closed, _gone, further = row
    if current != version:
        return StaleRecord(f"deal {deal_id} was changed by someone else: the board reloads it")
    if closed:
        return ValidationError("stage_id", "the deal is closed: reopen it in the deal form")
    if direction is not None and not further:
        if direction > 0:
            return ValidationError("stage_id", "is the last open stage: w marks the deal won")
        return ValidationError("stage_id", "is the first stage: there is none before it")
    return PermissionDenied(f"you may see deal {deal_id} but not change it")


def _run_move(sql: str, params: dict[str, Any], direction: int | None) -> Moved:
    try:
        with database.atomic():
            row = database.execute_sql(sql, params).fetchone()
    except (ValidationError, ValidationErrors):
        raise
    except Exception as exc:
        raise _translate(exc) from exc
    if row is None:
        raise _why_not(params["id"], params["version"], direction)
    closed = row[6] if len(row) > 6 else False
    won = row[7] if len(row) > 7 else False
    return Moved(params["id"], row[0], row[1], row[2], row[3], row[4], row[5], closed, won)


def move_stage(deal_id: int, direction: int, version: int) -> Moved:
    """Move an open deal to the next (direction > 0) or previous open stage of its pipeline.

    Raises StaleRecord when the deal changed since `version`, ValidationError at either end,
    PermissionDenied when RLS lets the person see but not change it, NotFound when hidden."""
    return _run_move(
        _MOVE, {"id": deal_id, "version": version, "dir": 1 if direction > 0 else -1}, direction
    )


def close_won(deal_id: int, version: int) -> Moved:
    """Mark an open deal won (its pipeline's won stage; the database closes it)."""
    return _run_move(_CLOSE, {"id": deal_id, "version": version, "won": True, "reason": None}, None)


def close_lost(deal_id: int, version: int, reason: str | None) -> Moved:
    """Mark an open deal lost with its reason (required: ValidationError on lost_reason)."""
    text = validate_lost_reason(reason)
    return _run_move(
        _CLOSE, {"id": deal_id, "version": version, "won": False, "reason": text}, None
    )


def soft_delete(deal_id: int, version: int) -> None:
    """Move a deal to the trash (the trash screen restores it, admins purge it)."""
    with database.atomic():
        row = database.execute_sql(
            "UPDATE opportunity SET deleted_at = now() WHERE id = %s AND version = %s "
            "AND deleted_at IS NULL RETURNING id",
            (deal_id, version),
        ).fetchone()
    if row is None:
        raise _why_not(deal_id, version, None)


@dataclass(frozen=True)
class Choice:
    id: int
    label: str


def search_accounts(text: str, limit: int = 10) -> list[Choice]:
    """Live visible accounts whose name starts with `text` (then contains it), by name."""
    words = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if not words:
        return []
    rows = database.execute_sql(
        "SELECT id, name FROM account WHERE deleted_at IS NULL AND lower(name) LIKE %s "
        "ORDER BY lower(name) LIKE %s DESC, lower(name), id LIMIT %s",
        ("%" + words + "%", words + "%", limit),
    ).fetchall()
    return [Choice(*r) for r in rows]


CONTACTS_CAP = 200


def account_contacts(account_id: int | None) -> list[Choice]:
    """The live contacts of an account by name (the first CONTACTS_CAP)."""
    if account_id is None:
        return []
    rows = database.execute_sql(
        "SELECT id, nullif(btrim(concat_ws(' ', first_name, last_name)), '') FROM contact "
        "WHERE account_id = %s AND deleted_at IS NULL "
        "ORDER BY lower(last_name), lower(first_name), id LIMIT %s",
        (account_id, CONTACTS_CAP),
    ).fetchall()
    return [Choice(r[0], r[1] or f"contact {r[0]}") for r in rows]


def form_choices() -> dict[str, list[Choice]]:
    """Stages (of every pipeline), people who may own a deal, campaigns."""
    from db.services.pipeline import all_stages, pipelines

    several = len(pipelines()) > 1
    names = {p.id: p.name for p in pipelines()}
    stages = [
        Choice(s.id, f"{names.get(s.pipeline_id, '')} › {s.name}" if several else s.name)
        for s in all_stages()
    ]
    users = database.execute_sql(
        "SELECT id, display_name FROM app_user WHERE active AND role <> 'agent' "
        "ORDER BY lower(display_name), id"
    ).fetchall()
    campaigns = database.execute_sql(
        "SELECT id, name FROM campaign WHERE deleted_at IS NULL ORDER BY lower(name), id LIMIT 500"
    ).fetchall()
    return {
        "stage_id": stages,
        "owner_id": [Choice(*r) for r in users],
        "campaign_id": [Choice(*r) for r in campaigns],
    }
