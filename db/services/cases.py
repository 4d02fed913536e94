"""Support cases: create, change status, priority and assignee; my cases and the team queue.

The workflow lives in the database (migration 0018, trigger case_workflow): allowed status
changes, closed_at on resolved/closed, and the SLA due time from the priority when none is
given (SLA_HOURS). Every write is version-checked. A case's timeline is the activities that
name it (activities.timeline(Scope("case", id))).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import peewee

from db.connection import database
from db.errors import NotFound, StaleRecord, ValidationError
from db.services._pgerrors import translate

STATUSES = ("new", "open", "waiting", "resolved", "closed")
STATUS_WORDS = {
    "new": "new", "open": "open", "waiting": "waiting on customer", "resolved": "resolved",
    "closed": "closed",
}  # fmt: skip
PRIORITIES = ("low", "normal", "high", "urgent")
SLA_HOURS = {"urgent": 4, "high": 8, "normal": 24, "low": 72}  # the same as case_sla() in SQL
TRANSITIONS = {
    "new": ("open", "waiting", "resolved", "closed"),
    "open": ("waiting", "resolved", "closed"),
    "waiting": ("open", "resolved", "closed"),
    "resolved": ("open", "closed"),
    "closed": ("open",),
}
SUBJECT_MAX = 500
PAGE = 200


@dataclass(frozen=True)
class Case:
    id: int
    subject: str
    status: str
    priority: str
    due_at: datetime | None
    assignee_id: int | None
    assignee_name: str | None
    account_id: int | None
    account_name: str | None
    contact_id: int | None
    contact_name: str | None
    closed_at: datetime | None
    version: int
    description: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status not in ("resolved", "closed")


def time_left(due_at: datetime | None, now: datetime | None = None) -> str:
    """The SLA as a person reads it: '3h left', '2d left', '45m left', 'overdue 2h', '—'."""
    if due_at is None:
        return "—"
    now = now or datetime.now().astimezone()
    delta = due_at - now
    late = delta < timedelta(0)
    minutes = int(abs(delta).total_seconds() // 60)
    if minutes >= 48 * 60:
        text = f"{minutes // 1440}d"
    elif minutes >= 60:
        text = f"{minutes // 60}h"
    else:
        text = f"{minutes}m"
    return f"overdue {text}" if late else f"{text} left"


_COLUMNS = """s.id, s.subject, s.status, s.priority, s.due_at, s.assignee_id,
    (SELECT u.display_name FROM app_user u WHERE u.id = s.assignee_id),
    s.account_id, a.name, s.contact_id, c.full_name, s.closed_at, s.version"""
_JOINS = """LEFT JOIN account a ON a.id = s.account_id
    LEFT JOIN contact c ON c.id = s.contact_id"""


def _fail(exc: Exception) -> Exception:
    error = translate(exc)
    if isinstance(error, ValidationError) and error.field in ("value", "support_case_check"):
        return ValidationError("contact", "a case needs a contact or an account")
    return error


def get(case_id: int) -> Case:
    row = database.execute_sql(
        f"SELECT {_COLUMNS}, s.description FROM support_case s {_JOINS} "
        "WHERE s.id = %s AND s.deleted_at IS NULL",
        (case_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"case {case_id} does not exist or is not visible to you")
    return Case(*row)


def create(
    subject: str,
    contact_id: int | None = None,
    account_id: int | None = None,
    priority: str = "normal",
    assignee_id: int | None = None,
    description: str | None = None,
    due_at: datetime | None = None,
) -> Case:
    """Open a new case for a contact and/or an account; the SLA comes from the priority."""
    subject = (subject or "").strip()
    if not subject:
        raise ValidationError("subject", "is required")
    if len(subject) > SUBJECT_MAX:
        raise ValidationError("subject", f"at most {SUBJECT_MAX} characters")
    if priority not in PRIORITIES:
        raise ValidationError("priority", f"choose one of: {', '.join(PRIORITIES)}")
    if contact_id is None and account_id is None:
        raise ValidationError("contact", "a case needs a contact or an account")
    try:
        with database.atomic():
            if contact_id is not None and account_id is None:
                row = database.execute_sql(
                    "SELECT account_id FROM contact WHERE id = %s AND deleted_at IS NULL",
                    (contact_id,),
                ).fetchone()
                if row is None:
                    raise ValidationError("contact", "no such contact (or not visible to you)")
                account_id = row[0]
            row = database.execute_sql(
                "INSERT INTO support_case (subject, contact_id, account_id, priority, "
                "assignee_id, description, due_at) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "RETURNING id",
                (subject, contact_id, account_id, priority, assignee_id, description or None,
                 due_at),
            ).fetchone()  # fmt: skip
            return get(row[0])
    except peewee.DatabaseError as exc:
        raise _fail(exc) from exc


def change(case_id: int, version: int, **values: object) -> Case:
    """Change status, priority, assignee_id, due_at, subject or resolution if nobody saved
    since `version`. The database refuses a status change the workflow does not allow."""
    allowed = {"status", "priority", "assignee_id", "due_at", "subject", "resolution",
               "description"}  # fmt: skip
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"not changeable: {', '.join(sorted(unknown))}")
    if "status" in values and values["status"] not in STATUSES:
        raise ValidationError("status", f"choose one of: {', '.join(STATUSES)}")
    if "priority" in values and values["priority"] not in PRIORITIES:
        raise ValidationError("priority", f"choose one of: {', '.join(PRIORITIES)}")
    if not values:
        return get(case_id)
    sets = ", ".join(f"{k} = %s" for k in values)
    try:
        with database.atomic():
            row = database.execute_sql(
                f"UPDATE support_case SET {sets} WHERE id = %s AND version = %s "
                "AND deleted_at IS NULL RETURNING id",
                (*values.values(), case_id, version),
            ).fetchone()
            if row is None:
                current = get(case_id)  # NotFound when not visible
                raise StaleRecord(
                    f"someone else changed this case (version {current.version}, you had "
                    f"{version}): reload it and try again"
                )
            return get(case_id)
    except peewee.DatabaseError as exc:
        raise _fail(exc) from exc


def my_cases(user_id: int, include_closed: bool = False) -> list[Case]:
    """Cases assigned to the person: open ones first by SLA due time."""
    closed = "" if include_closed else "AND s.status NOT IN ('resolved', 'closed')"
    rows = database.execute_sql(
        f"SELECT {_COLUMNS} FROM support_case s {_JOINS} WHERE s.assignee_id = %s "
        f"AND s.deleted_at IS NULL {closed} ORDER BY s.due_at NULLS LAST, s.id LIMIT %s",
        (user_id, PAGE),
    ).fetchall()
    return [Case(*r) for r in rows]


def team_queue() -> list[Case]:
    """The team's open cases that the person can see: those nobody has taken yet first, then
    those of the team's people or filed for the team, each part by SLA due time."""
    rows = database.execute_sql(
        f"SELECT {_COLUMNS} FROM support_case s {_JOINS} "
        "LEFT JOIN (SELECT team_id FROM app_user WHERE id = current_app_user_id()) mine ON true "
        "WHERE s.status NOT IN ('resolved', 'closed') AND s.deleted_at IS NULL "
        "AND (s.assignee_id IS NULL OR s.team_id = mine.team_id OR s.assignee_id IN "
        "     (SELECT u.id FROM app_user u WHERE u.team_id = mine.team_id)) "
        "ORDER BY s.assignee_id IS NOT NULL, s.due_at NULLS LAST, s.id LIMIT %s",
        (PAGE,),
    ).fetchall()
    return [Case(*r) for r in rows]
