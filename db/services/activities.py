"""Activities: log one from anywhere, read and edit it, timelines with keyset paging, my day.

Every write is one transaction. A logged activity carries a client-made UUID (the column is
UNIQUE), so replaying the same write (a retried save, the offline outbox) can never store it
twice. Edits are version-checked (`UPDATE ... WHERE id AND version`; the touch_row trigger
bumps the version). Timelines are newest first with keyset paging on (occurred_at, id): no
OFFSET, no COUNT, only the rows of one page leave the database.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from db import prepared
from db.connection import database
from db.errors import NotFound, StaleRecord, ValidationError, ValidationErrors
from db.services import applied, users

# The CHECK constraints of db/migrations/0001_schema.sql (tests compare the two).
KINDS = ("call", "email", "meeting", "note", "task", "webinar", "letter", "sms")
DIRECTIONS = ("in", "out")
OUTCOMES = (
    "reached", "voicemail", "no_answer", "busy", "wrong_number", "callback", "completed",
    "cancelled",
)  # fmt: skip
SUBJECT_MAX = 500
BODY_MAX = 100_000
DURATION_MAX = 7 * 24 * 3600  # a week: anything longer is a typo
MY_DAY_CAP = 200
PAGE = 50
EDITABLE = (
    "kind", "direction", "subject", "body", "occurred_at", "duration_seconds", "outcome",
    "due_at", "assignee_id",
)  # fmt: skip

# log()'s keyword arguments that the offline outbox stores (besides the client UUID).
LOG_FIELDS = (
    "kind", "subject", "body", "outcome", "duration_seconds", "occurred_at", "direction",
    "account_id", "contact_id", "opportunity_id", "case_id", "due_at", "assignee_id",
)  # fmt: skip

Cursor = tuple[datetime, int]


class Activity(NamedTuple):
    """One activity as a timeline, my day and the detail view show it.

    A named tuple, not a dataclass: a page builds 50 of them, and a tuple is made in a tenth of
    the time of an object with a 24-key __dict__ (~0.4 us against ~4 us)."""

    id: int
    kind: str
    direction: str | None
    subject: str
    first_line: str
    occurred_at: datetime
    duration_seconds: int | None
    outcome: str | None
    due_at: datetime | None
    completed_at: datetime | None
    author_id: int | None
    author_name: str | None
    assignee_id: int | None
    assignee_name: str | None
    account_id: int | None
    account_name: str | None  # None in timeline pages (rows do not show it); get() fills it
    contact_id: int | None
    contact_name: str | None
    opportunity_id: int | None
    case_id: int | None
    version: int
    client_uuid: str
    body: str | None = None  # only filled by get(); timelines carry the first line

    @property
    def cursor(self) -> Cursor:
        return (self.occurred_at, self.id)

    @property
    def is_open(self) -> bool:
        """A follow-up or task that is due and not done yet."""
        return self.due_at is not None and self.completed_at is None

    def is_overdue(self, today: date | None = None) -> bool:
        """Due on a day before today (local time) and not done."""
        today = today or date.today()
        return self.is_open and self.due_at is not None and local_day(self.due_at) < today

    @property
    def title(self) -> str:
        """The subject, or the first line of the notes when there is no subject."""
        return self.subject or self.first_line


@dataclass(frozen=True)
class Scope:
    """Whose timeline: kind is contact, account, account_tree, opportunity, case or person."""

    kind: str
    id: int

    def __post_init__(self) -> None:
        if self.kind not in _SCOPE_COLUMNS and self.kind not in ("account_tree", "person"):
            raise ValueError(f"unknown timeline scope {self.kind!r}")


@dataclass(frozen=True)
class Page:
    items: list[Activity]
    next_cursor: Cursor | None  # None: this was the last page


@dataclass(frozen=True)
class User:
    id: int
    display_name: str
    username: str


@dataclass(frozen=True)
class MyDay:
    items: list[Activity]  # overdue first, then due today; by due time
    more: bool  # more than MY_DAY_CAP open items: the list is cut


# ---------------------------------------------------------------------------------------------
# Parsing what a person types (the form calls these; errors name the field)

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def local_day(value: datetime) -> date:
    return value.astimezone().date() if value.tzinfo else value.date()


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min).astimezone()


def parse_date(text: str, field: str, today: date | None = None) -> date | None:
    """A day as typed: 2024-12-06, today, tomorrow, yesterday, +3, -2, fri. Blank is None."""
    text = (text or "").strip().lower()
    if not text:
        return None
    today = today or date.today()
    words = {"today": 0, "tod": 0, "tomorrow": 1, "tom": 1, "yesterday": -1}
    if text in words:
        return today + timedelta(days=words[text])
    if re.fullmatch(r"[+-]\d{1,4}d?", text):
        return today + timedelta(days=int(text.rstrip("d")))
    if text[:3] in _WEEKDAYS and len(text) >= 3:
        ahead = (_WEEKDAYS.index(text[:3]) - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            field, "use a date like 2024-12-06, today, tomorrow, +3 or a weekday"
        ) from None


def parse_datetime(text: str, field: str, now: datetime | None = None) -> datetime | None:
    """A moment as typed: blank or 'now', HH:MM (today), a day, or 'YYYY-MM-DD HH:MM'."""
    text = (text or "").strip().lower()
    now = now or datetime.now().astimezone()
    if not text:
        return None
    if text == "now":
        return now
    clock = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if clock:
        return _at(now.date(), clock.group(1), clock.group(2), field)
    both = re.fullmatch(r"(\S+)\s+(\d{1,2}):(\d{2})", text)
    if both:
        day = parse_date(both.group(1), field, today=now.date())
        assert day is not None
        return _at(day, both.group(2), both.group(3), field)
    day = parse_date(text, field, today=now.date())
    assert day is not None
    return local_midnight(day)


def _at(day: date, hour: str, minute: str, field: str) -> datetime:
    try:
        return datetime.combine(day, time(int(hour), int(minute))).astimezone()
    except ValueError:
        raise ValidationError(field, "the time must be HH:MM between 00:00 and 23:59") from None


def parse_duration(text: str, field: str = "duration") -> int | None:
    """Seconds from what a person types: 6 (minutes), 6m, 90s, 1h, 1h30, 1:30. Blank is None."""
    text = (text or "").strip().lower().replace(" ", "")
    if not text:
        return None
    if re.fullmatch(r"\d{1,5}m?", text):
        return int(text.rstrip("m")) * 60
    if re.fullmatch(r"\d{1,6}s", text):
        return int(text[:-1])
    match = re.fullmatch(r"(\d{1,3})(?:h|:)(\d{1,2})?m?", text)
    if match:
        return int(match.group(1)) * 3600 + int(match.group(2) or 0) * 60
    raise ValidationError(field, "use minutes (6), 6m, 90s, 1h30 or 1:30")


# ---------------------------------------------------------------------------------------------
# Validation: every rule of the table, with the field named


def _validate(values: dict[str, Any]) -> list[ValidationError]:
    errors: list[ValidationError] = []

    def bad(field: str, message: str) -> None:
        errors.append(ValidationError(field, message))

    if values.get("kind") not in KINDS:
        bad("kind", f"choose one of: {', '.join(KINDS)}")
    if values.get("direction") not in (None, *DIRECTIONS):
        bad("direction", "must be 'in', 'out' or empty")
    if values.get("outcome") not in (None, *OUTCOMES):
        bad("outcome", f"choose one of: {', '.join(OUTCOMES)} (or none)")
    subject = values.get("subject") or ""
    if not isinstance(subject, str) or len(subject) > SUBJECT_MAX:
        bad("subject", f"at most {SUBJECT_MAX} characters")
    body = values.get("body")
    if body is not None and (not isinstance(body, str) or len(body) > BODY_MAX):
        bad("body", f"at most {BODY_MAX:,} characters")
    if "\x00" in subject or (isinstance(body, str) and "\x00" in body):
        bad("body" if "\x00" not in subject else "subject", "must not contain NUL characters")
    duration = values.get("duration_seconds")
    if duration is not None and (
        not isinstance(duration, int) or isinstance(duration, bool) or duration < 0
    ):
        bad("duration", "must be zero or more")
    elif duration is not None and duration > DURATION_MAX:
        bad("duration", "must be at most a week")
    occurred = values.get("occurred_at")
    if occurred is not None and not isinstance(occurred, datetime):
        bad("occurred_at", "must be a date and time")
    elif occurred is not None and not 1900 <= occurred.year <= date.today().year + 10:
        bad("occurred_at", "must be a real date (1900 to ten years ahead)")
    due = values.get("due_at")
    if due is not None and not isinstance(due, datetime):
        bad("due_at", "must be a date")
    elif due is not None:
        base = occurred if isinstance(occurred, datetime) else datetime.now().astimezone()
        if local_day(due) < local_day(base):
            bad("due_at", "the follow-up cannot be due before the activity happened")
        elif due.year > date.today().year + 10:
            bad("due_at", "must be within ten years")
    if values.get("assignee_id") is not None and due is None and values.get("kind") != "task":
        bad("due_at", "give a due date for the follow-up (or clear the assignee)")
    return errors


def _raise(errors: list[ValidationError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ValidationErrors(errors)


def _one(sql: str, params: tuple | dict) -> tuple | None:
    return database.execute_sql(sql, params).fetchone()


def _check_links(values: dict[str, Any]) -> list[ValidationError]:
    """Linked records must exist and be visible; a contact's account is filled in.

    One query for every link given (a save's round trips are most of its time under load:
    B11): each link is a sub-select that is NULL when the record is missing, trashed or not
    visible, else an array holding the record's account (or the user's active flag)."""
    errors: list[ValidationError] = []
    checks = (
        ("contact", "contact_id", "SELECT ARRAY[account_id] FROM contact"),
        ("opportunity", "opportunity_id", "SELECT ARRAY[account_id] FROM opportunity"),
        ("case", "case_id", "SELECT ARRAY[account_id] FROM support_case"),
        ("account", "account_id", "SELECT ARRAY[id] FROM account"),
        ("assignee", "assignee_id", "SELECT ARRAY[active::int::bigint] FROM app_user"),
    )
    given = [(field, key, select) for field, key, select in checks if values.get(key) is not None]
    if not given:
        return errors
    row = _one(
        "SELECT " + ", ".join(f"({select} WHERE id = %s AND deleted_at IS NULL)"
                              for _f, _k, select in given),
        tuple(values[key] for _f, key, _s in given),
    )  # fmt: skip
    found = dict(zip([key for _f, key, _s in given], row or (), strict=True))
    for field, key, _select in given:
        if key == "assignee_id":
            if not found[key] or not found[key][0]:
                errors.append(ValidationError("assignee", "choose an active user"))
        elif found[key] is None:
            errors.append(ValidationError(field, f"no such {field} (or not visible to you)"))
        elif values.get("account_id") is None and found[key][0] is not None:
            values["account_id"] = found[key][0]
            # The account taken from the link must be there and visible too.
            if _one("SELECT 1 FROM account WHERE id = %s AND deleted_at IS NULL",
                    (values["account_id"],)) is None:  # fmt: skip
                errors.append(ValidationError("account", "no such account (or not visible "
                                              "to you)"))  # fmt: skip
    return errors


# ---------------------------------------------------------------------------------------------
# Writes

_COLUMNS = """
    a.id, a.kind, a.direction, a.subject, split_part(left(a.body, 400), E'\\n', 1),
    a.occurred_at, a.duration_seconds, a.outcome, a.due_at, a.completed_at,
    a.author_id, (SELECT au.display_name FROM app_user au WHERE au.id = a.author_id),
    a.assignee_id, (SELECT asg.display_name FROM app_user asg WHERE asg.id = a.assignee_id),
    a.account_id, acc.name, a.contact_id, c.full_name, a.opportunity_id, a.case_id,
    a.version, a.client_uuid::text
"""
_JOINS = """
    LEFT JOIN account acc ON acc.id = a.account_id
    LEFT JOIN contact c ON c.id = a.contact_id
"""
# A timeline page carries what its rows show (timeline_row): people's names come from
# users.display_names (a per-process cache), not a sub-select per row; the account's name is
# not read (a row does not show it, and the detail view reads the whole activity with get()).
# Each name read under RLS is a policy check per row: ~0.7 ms for the two people and ~0.3 ms
# for the account, of a 4 ms page (docs/performance.md).
_PAGE_COLUMNS = (
    _COLUMNS.replace("(SELECT au.display_name FROM app_user au WHERE au.id = a.author_id)", "NULL")
    .replace("(SELECT asg.display_name FROM app_user asg WHERE asg.id = a.assignee_id)", "NULL")
    .replace("acc.name", "NULL::text")
)
assert _PAGE_COLUMNS.count("NULL") == 3
_PAGE_JOINS = """
    LEFT JOIN contact c ON c.id = a.contact_id
"""


_FIELDS = Activity._fields[:-1]  # the query's columns: all but body
_AUTHOR, _AUTHOR_NAME = _FIELDS.index("author_id"), _FIELDS.index("author_name")
_ASSIGNEE, _ASSIGNEE_NAME = _FIELDS.index("assignee_id"), _FIELDS.index("assignee_name")
assert (_AUTHOR_NAME, _ASSIGNEE, _ASSIGNEE_NAME) == (_AUTHOR + 1, _AUTHOR + 2, _AUTHOR + 3)
_new = tuple.__new__


def _row(row: tuple, body: str | None = None) -> Activity:
    if len(row) != len(_FIELDS):
        raise ValueError(f"an activity row has {len(_FIELDS)} columns, not {len(row)}")
    return _new(Activity, (*row, body))


def _named_row(row: tuple, names: dict[int, str]) -> Activity:
    """_row for a timeline page, whose people's names come from `names` (users.display_names)."""
    return _new(Activity, (
        *row[:_AUTHOR_NAME], names.get(row[_AUTHOR]),
        row[_ASSIGNEE], names.get(row[_ASSIGNEE]), *row[_ASSIGNEE_NAME + 1:], None,
    ))  # fmt: skip


def log(
    kind: str,
    subject: str = "",
    body: str | None = None,
    outcome: str | None = None,
    duration_seconds: int | None = None,
    occurred_at: datetime | None = None,
    direction: str | None = None,
    account_id: int | None = None,
    contact_id: int | None = None,
    opportunity_id: int | None = None,
    case_id: int | None = None,
    due_at: datetime | None = None,
    assignee_id: int | None = None,
    client_uuid: str | uuid.UUID | None = None,
) -> Activity:
    """Store one activity (and its optional follow-up) in one transaction; return it.

    The follow-up lives on the same row (due_at, assignee): it shows in the assignee's My day
    until completed. Without an assignee a follow-up is the author's own. Replaying the same
    `client_uuid` returns the row stored the first time and writes nothing.
    """
    values: dict[str, Any] = {
        "kind": kind, "subject": (subject or "").strip(), "body": body or None,
        "outcome": outcome or None, "duration_seconds": duration_seconds,
        "occurred_at": occurred_at, "direction": direction or None, "account_id": account_id,
        "contact_id": contact_id, "opportunity_id": opportunity_id, "case_id": case_id,
        "due_at": due_at, "assignee_id": assignee_id,
    }  # fmt: skip
    key = str(uuid.UUID(str(client_uuid))) if client_uuid else str(uuid.uuid4())
    # One statement stores and reads back the row (an INSERT is its own transaction): three
    # round trips with the link checks instead of seven (BEGIN, a look-up by UUID, the links,
    # INSERT, a re-read, COMMIT). Under 200 agents' load that halved the write's p95 (B11).
    errors = _validate(values) + _check_links(values)
    if errors:
        stored = _one("SELECT id FROM activity WHERE client_uuid = %s", (key,))
        if stored:  # a replay of a write stored before its links changed: it is there
            return get(stored[0])
        _raise(errors)
    columns = [k for k, v in values.items() if v is not None]
    placeholders = ", ".join(["%s"] * (len(columns) + 1))
    if due_at is not None and assignee_id is None:
        columns_sql = ", ".join(["client_uuid", *columns, "assignee_id"])
        placeholders += ", current_app_user_id()"
    else:
        columns_sql = ", ".join(["client_uuid", *columns])
    row = _one(
        f"WITH a AS (INSERT INTO activity ({columns_sql}) VALUES ({placeholders}) "
        "ON CONFLICT (client_uuid) DO NOTHING RETURNING *) "
        f"SELECT {_COLUMNS}, a.body FROM a {_JOINS}",
        (key, *[values[c] for c in columns]),
    )
    if row is not None:
        return _row(row[:-1], body=row[-1])
    # Stored before (a retried save, a replay, or a concurrent one that won): return that.
    stored = _one("SELECT id FROM activity WHERE client_uuid = %s", (key,))
    if stored is None:
        raise NotFound("the activity was stored by a replay but is not visible to you")
    return get(stored[0])


def get(activity_id: int) -> Activity:
    """One activity with its whole body; NotFound when missing, deleted or not visible."""
    row = _one(
        f"SELECT {_COLUMNS}, a.body FROM activity a {_JOINS} "
        "WHERE a.id = %s AND a.deleted_at IS NULL",
        (activity_id,),
    )
    if row is None:
        raise NotFound(f"activity {activity_id} does not exist or is not visible to you")
    return _row(row[:-1], body=row[-1])


def _versioned_update(activity_id: int, version: int, sets: dict[str, Any], raw: str = "") -> None:
    """UPDATE only `sets` (plus a raw SQL assignment) if the row is still at `version`."""
    assignments = [f"{column} = %s" for column in sets]
    if raw:
        assignments.append(raw)
    if not assignments:
        return
    row = _one(
        f"UPDATE activity SET {', '.join(assignments)} "
        "WHERE id = %s AND version = %s AND deleted_at IS NULL RETURNING version",
        (*sets.values(), activity_id, version),
    )
    if row is None:
        current = _one(
            "SELECT version FROM activity WHERE id = %s AND deleted_at IS NULL", (activity_id,)
        )
        if current is None:
            raise NotFound(f"activity {activity_id} does not exist or is not visible to you")
        raise StaleRecord(
            f"someone else changed this activity (version {current[0]}, you had {version}): "
            "reload it and try again"
        )


def update(activity_id: int, version: int, **changes: Any) -> Activity:
    """Write only the given fields if nobody saved since `version`; return the new row.

    Raises StaleRecord on a version conflict, ValidationError(s) on bad values.
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    with database.atomic():
        current = get(activity_id)
        merged = {
            "kind": current.kind, "direction": current.direction, "subject": current.subject,
            "body": current.body, "occurred_at": current.occurred_at,
            "duration_seconds": current.duration_seconds, "outcome": current.outcome,
            "due_at": current.due_at, "assignee_id": current.assignee_id,
        }  # fmt: skip
        if "subject" in changes:
            changes["subject"] = (changes["subject"] or "").strip()
        for empty in ("body", "outcome", "direction"):
            if empty in changes and not changes[empty]:
                changes[empty] = None
        merged.update(changes)
        errors = _validate(merged)
        if "assignee_id" in changes:
            errors += _check_links({"assignee_id": changes["assignee_id"]})
        _raise(errors)
        if changes.get("occurred_at") is None and "occurred_at" in changes:
            del changes["occurred_at"]  # the column is NOT NULL: blank keeps the old time
        _versioned_update(activity_id, version, changes)
        return get(activity_id)


def complete(
    activity_id: int, version: int, done: bool = True, client_uuid: str | None = None
) -> Activity:
    """Mark a follow-up or task done (or open again).

    With a `client_uuid` (the offline outbox) a second call with the same UUID writes nothing
    and returns the activity as it is (db/services/applied.py)."""
    with database.atomic():
        if client_uuid and not applied.claim(client_uuid, "complete_followup", activity_id):
            return get(activity_id)
        _versioned_update(
            activity_id, version, {},
            raw="completed_at = now()" if done else "completed_at = NULL",
        )  # fmt: skip
        return get(activity_id)


def reschedule(
    activity_id: int, version: int, due: date | datetime, client_uuid: str | None = None
) -> Activity:
    """Move a follow-up to a new due date (today or later); `client_uuid` as in complete()."""
    due_at = due if isinstance(due, datetime) else local_midnight(due)
    with database.atomic():
        if client_uuid and not applied.claim(client_uuid, "reschedule_followup", activity_id):
            return get(activity_id)
        if local_day(due_at) < date.today():
            raise ValidationError("due_at", "the new due date cannot be in the past")
        current = get(activity_id)
        _raise(_validate({**_values_of(current), "due_at": due_at}))
        _versioned_update(activity_id, version, {"due_at": due_at})
        return get(activity_id)


def reassign(activity_id: int, version: int, assignee_id: int) -> Activity:
    """Give a follow-up to another (active) user."""
    with database.atomic():
        _raise(_check_links({"assignee_id": assignee_id}))
        _versioned_update(activity_id, version, {"assignee_id": assignee_id})
        return get(activity_id)


def _values_of(a: Activity) -> dict[str, Any]:
    return {
        "kind": a.kind, "direction": a.direction, "subject": a.subject, "body": a.body,
        "occurred_at": a.occurred_at, "duration_seconds": a.duration_seconds,
        "outcome": a.outcome, "due_at": a.due_at, "assignee_id": a.assignee_id,
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Reads: timelines and my day

_SCOPE_COLUMNS = {
    "contact": "contact_id",
    "account": "account_id",
    "opportunity": "opportunity_id",
    "case": "case_id",
}


def _filters(
    p: dict[str, Any],
    before: Cursor | None,
    kinds: list[str] | tuple[str, ...] | None,
    author_id: int | None,
    since: date | None,
    until: date | None,
    alias: str = "a",
    id_column: str = "id",
) -> str:
    """The WHERE conditions shared by every branch of a timeline query (alias a).

    With another alias (activity_tree t) only the time conditions, on its own columns."""
    x = alias
    parts = ["a.deleted_at IS NULL"] if x == "a" else []
    if before is not None:
        parts.append(f"({x}.occurred_at, {x}.{id_column}) < (%(b_at)s, %(b_id)s)")
        p["b_at"], p["b_id"] = before
    if kinds:
        bad = [k for k in kinds if k not in KINDS]
        if bad:
            raise ValidationError("kind", f"choose from: {', '.join(KINDS)}")
        parts.append("a.kind = ANY(%(kinds)s)")
        p["kinds"] = list(kinds)
    if author_id is not None:
        parts.append("a.author_id = %(author)s")
        p["author"] = author_id
    if since is not None:
        parts.append(f"{x}.occurred_at >= %(since)s")
        p["since"] = local_midnight(since)
    if until is not None:
        parts.append(f"{x}.occurred_at < %(until)s")
        p["until"] = local_midnight(until + timedelta(days=1))
    if since is not None and until is not None and until < since:
        raise ValidationError("until", "the end date is before the start date")
    return " AND ".join(parts) or "true"


_ORDER = "ORDER BY a.occurred_at DESC, a.id DESC"
# What a timeline page picks from activity, under the names _COLUMNS reads (body cut short).
_PICKED = (
    "a.id, a.kind, a.direction, a.subject, left(a.body, 400) AS body, a.occurred_at, "
    "a.duration_seconds, a.outcome, a.due_at, a.completed_at, a.author_id, a.assignee_id, "
    "a.account_id, a.contact_id, a.opportunity_id, a.case_id, a.version, a.client_uuid"
)
# The same through activity_tree t, with the order keys taken from t: the planner then sees
# that the branch comes out in page order and merges it lazily instead of sorting it whole.
_PICKED_VIA_TREE = _PICKED.replace("a.id,", "t.activity_id AS id,").replace(
    "a.occurred_at,", "t.occurred_at AS occurred_at,"
)


def timeline_sql(
    scope: Scope,
    before: Cursor | None = None,
    limit: int = PAGE,
    kinds: list[str] | tuple[str, ...] | None = None,
    author_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
) -> tuple[str, dict[str, Any]]:
    """The one query of a timeline page (also used raw by the B5 benchmark as its floor).

    It fetches limit + 1 rows so the caller knows whether there is a next page. The newest rows
    are picked through an index in (occurred_at, id) order (activity is read, and its policy
    checked, once), then joined for the contact's name, so the join touches one page only.
    """
    p: dict[str, Any] = {"sid": scope.id, "lim": limit + 1}
    where = _filters(p, before, kinds, author_id, since, until)
    if scope.kind in _SCOPE_COLUMNS:
        col = _SCOPE_COLUMNS[scope.kind]
        picked = (
            f"SELECT {_PICKED} FROM activity a WHERE a.{col} = %(sid)s AND {where} "
            f"{_ORDER} LIMIT %(lim)s"
        )
    elif scope.kind == "person":
        # Authored by or assigned to the person: two index-ordered branches, merged.
        picked = (
            f"SELECT * FROM ((SELECT {_PICKED} FROM activity a "
            f"WHERE a.author_id = %(sid)s AND {where} {_ORDER} LIMIT %(lim)s) "
            f"UNION ALL (SELECT {_PICKED} FROM activity a WHERE a.assignee_id = %(sid)s "
            f"AND a.author_id IS DISTINCT FROM %(sid)s AND {where} {_ORDER} LIMIT %(lim)s)) a "
            f"{_ORDER} LIMIT %(lim)s"
        )
    else:  # account_tree: the account and every sub-account, any depth
        # Two index-ordered streams merged: the account's own activities, and those of its
        # sub-accounts through activity_tree (one row per activity and proper ancestor,
        # migration 0005). Each stream stops at lim rows, whatever the size of the tree.
        # Sub-accounts in the trash have no rows there: their activities stay out.
        tree_where = _filters(
            p, before, None, None, since, until, alias="t", id_column="activity_id"
        )
        picked = (
            f"SELECT * FROM ((SELECT {_PICKED} FROM activity a"
            f" WHERE a.account_id = %(sid)s AND {where} {_ORDER} LIMIT %(lim)s)"
            f" UNION ALL (SELECT {_PICKED_VIA_TREE} FROM activity_tree t"
            " JOIN activity a ON a.id = t.activity_id"
            f" WHERE t.ancestor_id = %(sid)s AND {tree_where} AND {where}"
            " ORDER BY t.occurred_at DESC, t.activity_id DESC LIMIT %(lim)s)) a"
            f" {_ORDER} LIMIT %(lim)s"
        )
    # The page is picked (and checked by the activity policy) once, then joined for the
    # contact's name (people's names come from users.display_names, in timeline()).
    sql = f"SELECT {_PAGE_COLUMNS} FROM ({picked}) a {_PAGE_JOINS} {_ORDER}"
    return sql, p


def timeline(
    scope: Scope,
    before: Cursor | None = None,
    limit: int = PAGE,
    kinds: list[str] | tuple[str, ...] | None = None,
    author_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Page:
    """One page of a timeline, newest first; pass `next_cursor` back as `before` for more."""
    if not 1 <= limit <= 500:
        raise ValueError("limit must be between 1 and 500")
    sql, params = timeline_sql(scope, before, limit, kinds, author_id, since, until)
    rows = prepared.execute(sql, params).fetchall()
    names = users.display_names({r[i] for r in rows for i in (_AUTHOR, _ASSIGNEE)})
    items = [_named_row(r, names) for r in rows[:limit]]
    return Page(items, items[-1].cursor if len(rows) > limit else None)


def my_day(user_id: int, today: date | None = None) -> MyDay:
    """Open follow-ups and tasks assigned to `user_id` due today or before, overdue first."""
    today = today or date.today()
    rows = database.execute_sql(
        f"SELECT {_COLUMNS} FROM activity a {_JOINS} "
        "WHERE a.assignee_id = %s AND a.due_at IS NOT NULL AND a.completed_at IS NULL "
        "AND a.deleted_at IS NULL AND a.due_at < %s ORDER BY a.due_at, a.id LIMIT %s",
        (user_id, local_midnight(today + timedelta(days=1)), MY_DAY_CAP + 1),
    ).fetchall()
    return MyDay([_row(r) for r in rows[:MY_DAY_CAP]], len(rows) > MY_DAY_CAP)


def assignable_users(limit: int = 500) -> list[User]:
    """Active people to give a follow-up to, by name (bounded)."""
    rows = database.execute_sql(
        "SELECT id, display_name, username FROM app_user WHERE active AND deleted_at IS NULL "
        "ORDER BY lower(display_name), id LIMIT %s",
        (limit,),
    ).fetchall()
    return [User(*r) for r in rows]


def current_user_id() -> int | None:
    row = _one("SELECT current_app_user_id()", ())
    return row[0] if row else None


def scope_name(scope: Scope) -> str:
    """What a timeline is of, for its title: a contact's, account's or person's name."""
    sql = {
        "contact": "SELECT full_name FROM contact WHERE id = %s",
        "account": "SELECT name FROM account WHERE id = %s",
        "account_tree": "SELECT name FROM account WHERE id = %s",
        "opportunity": "SELECT name FROM opportunity WHERE id = %s",
        "case": "SELECT subject FROM support_case WHERE id = %s",
        "person": "SELECT display_name FROM app_user WHERE id = %s",
    }[scope.kind]
    row = _one(sql, (scope.id,))
    if row is None:
        raise NotFound(f"this {scope.kind.replace('_tree', '')} does not exist or is not visible")
    return row[0]
