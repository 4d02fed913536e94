"""Contacts: the detail of one person (personal facts apart from company facts), typed
relationships in both directions, their latest activities, open deals and open cases.

`detail()` is two queries (the contact with its phones and emails aggregated, then the account
breadcrumb); every other function is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from db.connection import database
from db.errors import NotFound, ValidationError
from db.phones import display
from db.services import accounts
from db.services.accounts import ActivityRow, Crumb, OpportunityRow

MAX_LIST = 200


@dataclass(frozen=True)
class Phone:
    kind: str
    number: str  # display format (international), or the raw text when unparseable
    e164: str | None
    is_primary: bool


@dataclass(frozen=True)
class Email:
    kind: str
    email: str
    is_primary: bool


@dataclass(frozen=True)
class ContactDetail:
    id: int
    full_name: str
    first_name: str
    last_name: str
    salutation: str | None
    job_title: str | None
    job_role: str | None
    department: str | None
    # personal facts
    birthday: date | None
    spouse_name: str | None
    interests: str | None
    preferred_language: str | None
    city: str | None
    country: str | None
    do_not_call: bool
    do_not_email: bool
    notes: str | None
    owner_name: str | None
    created_at: datetime
    version: int
    # the company layer
    account_id: int | None
    account_name: str | None
    breadcrumb: list[Crumb]  # root first, the contact's account last; [] without an account
    phones: list[Phone]
    emails: list[Email]


@dataclass(frozen=True)
class Relationship:
    id: int
    label: str  # read from this contact: "reports to", or the inverse "manages"
    other_id: int
    other_name: str
    other_title: str | None
    note: str | None
    starts_on: date | None
    ends_on: date | None
    outgoing: bool  # True: this contact is the "from" side


@dataclass(frozen=True)
class CaseRow:
    id: int
    subject: str
    status: str
    priority: str
    due_at: datetime | None
    assignee_name: str | None


def _limit(limit: int) -> int:
    if limit < 1 or limit > MAX_LIST:
        raise ValidationError("limit", f"must be between 1 and {MAX_LIST}")
    return limit


def detail(contact_id: int) -> ContactDetail:
    """One contact with phones (display format), emails and the account breadcrumb."""
    row = database.execute_sql(
        """
        SELECT c.id, c.full_name, c.first_name, c.last_name, c.salutation, c.job_title,
               c.job_role, c.department, c.birthday, c.spouse_name, c.interests,
               c.preferred_language, c.city, c.country, c.do_not_call, c.do_not_email,
               c.notes, u.display_name, c.created_at, c.version, c.account_id, a.name,
               (SELECT coalesce(json_agg(json_build_array(p.kind, p.raw, p.e164, p.is_primary)
                                         ORDER BY p.is_primary DESC, p.position, p.id), '[]')
                  FROM contact_phone p WHERE p.contact_id = c.id),
               (SELECT coalesce(json_agg(json_build_array(e.kind, e.email, e.is_primary)
                                         ORDER BY e.is_primary DESC, e.position, e.id), '[]')
                  FROM contact_email e WHERE e.contact_id = c.id)
        FROM contact c
        LEFT JOIN account a ON a.id = c.account_id AND a.deleted_at IS NULL
        LEFT JOIN app_user u ON u.id = c.owner_id
        WHERE c.id = %s AND c.deleted_at IS NULL
        """,
        [contact_id],
    ).fetchone()
    if row is None:
        raise NotFound(f"contact {contact_id} does not exist or is not visible")
    *fields, phones_json, emails_json = row
    account_id = fields[20] if fields[21] is not None else None
    breadcrumb = accounts.ancestors(account_id) if account_id is not None else []
    phones = [
        Phone(kind, display(e164, raw), e164, bool(primary))
        for kind, raw, e164, primary in phones_json
    ]
    emails = [Email(kind, email, bool(primary)) for kind, email, primary in emails_json]
    fields[20] = account_id
    return ContactDetail(*fields, breadcrumb=breadcrumb, phones=phones, emails=emails)


def relationships(contact_id: int) -> list[Relationship]:
    """Every live relationship of the contact, in both directions, labelled from its side:
    `label` when it is the "from" contact, `inverse_label` when it is the "to" contact."""
    rows = database.execute_sql(
        """
        SELECT r.id, t.label, o.id, o.full_name, o.job_title, r.note, r.starts_on, r.ends_on,
               true
        FROM contact_relationship r
        JOIN relationship_type t ON t.id = r.type_id
        JOIN contact o ON o.id = r.to_contact_id AND o.deleted_at IS NULL
        WHERE r.from_contact_id = %s AND r.deleted_at IS NULL
        UNION ALL
        SELECT r.id, t.inverse_label, o.id, o.full_name, o.job_title, r.note, r.starts_on,
               r.ends_on, false
        FROM contact_relationship r
        JOIN relationship_type t ON t.id = r.type_id
        JOIN contact o ON o.id = r.from_contact_id AND o.deleted_at IS NULL
        WHERE r.to_contact_id = %s AND r.deleted_at IS NULL
        ORDER BY 2, 4, 1
        LIMIT %s
        """,
        [contact_id, contact_id, MAX_LIST],
    ).fetchall()
    return [Relationship(*r) for r in rows]


def latest_activities(contact_id: int, limit: int = 5) -> list[ActivityRow]:
    """The contact's newest activities (served by `activity_contact_time_idx`)."""
    rows = database.execute_sql(
        accounts.ACTIVITY_SELECT.format(where="a.contact_id = %s"), [contact_id, _limit(limit)]
    ).fetchall()
    return [ActivityRow(*r) for r in rows]


def open_opportunities(contact_id: int, limit: int = 10) -> list[OpportunityRow]:
    """Open deals where the contact is the primary contact."""
    rows = database.execute_sql(
        accounts.OPPORTUNITY_SELECT.format(where="o.primary_contact_id = %s"),
        [contact_id, _limit(limit)],
    ).fetchall()
    return [OpportunityRow(*r) for r in rows]


def open_cases(contact_id: int, limit: int = 10) -> list[CaseRow]:
    """The contact's cases that are not resolved or closed, most urgent due first."""
    rows = database.execute_sql(
        """
        SELECT s.id, s.subject, s.status, s.priority, s.due_at, u.display_name
        FROM support_case s
        LEFT JOIN app_user u ON u.id = s.assignee_id
        WHERE s.contact_id = %s AND s.status NOT IN ('resolved', 'closed')
          AND s.deleted_at IS NULL
        ORDER BY s.due_at NULLS LAST, s.id
        LIMIT %s
        """,
        [contact_id, _limit(limit)],
    ).fetchall()
    return [CaseRow(*r) for r in rows]
