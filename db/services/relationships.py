"""Typed, two-way, dated links between contacts: create, edit, soft-delete.

A relationship is stored once, from → to, with its type ("Anna reports to Per"). Seen from
the other side it reads with the type's inverse label ("Per manages Anna"). The form works
from one contact's point of view, so its type choice is either `key` (this contact is the
"from" side) or `key:inverse` (this contact is the "to" side).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from peewee import SQL

from db.connection import database
from db.errors import NotFound, ValidationError, ValidationErrors
from db.models import Contact, ContactRelationship, RelationshipType
from db.services.editing import Saved, read_fields, update_fields
from db.services.validation import validate_relationship

FIELDS = ("from_contact_id", "to_contact_id", "type_id", "note", "starts_on", "ends_on")
INVERSE = ":inverse"


@dataclass(frozen=True)
class TypeChoice:
    value: str  # "reports_to" or "reports_to:inverse"
    label: str  # "reports to" or "manages"


@dataclass(frozen=True)
class ContactHit:
    id: int
    name: str
    account: str | None


def type_choices() -> list[TypeChoice]:
    """Every way to describe a link from this contact's side, in the types' order."""
    choices: list[TypeChoice] = []
    for t in RelationshipType.select().order_by(RelationshipType.id):
        choices.append(TypeChoice(t.key, t.label))
        if not t.is_symmetric:
            choices.append(TypeChoice(t.key + INVERSE, t.inverse_label))
    return choices


def type_labels() -> dict[int, str]:
    """Type id → its from→to label (for describing stored values)."""
    return {t.id: t.label for t in RelationshipType.select()}


def search_contacts(
    text: str, near_account: int | None = None, limit: int = 10
) -> list[ContactHit]:
    """Live contacts whose name contains `text` (contacts of `near_account` first).

    The ids come from search_contact_ids() (migration 0010): visibility first, then the name."""
    cursor = database.execute_sql(
        "SELECT c.id, c.full_name, a.name FROM contact c "
        "LEFT JOIN account a ON a.id = c.account_id "
        "WHERE c.id = ANY (ARRAY(SELECT search_contact_ids(%s, %s, %s))) "
        "ORDER BY (c.account_id IS NOT DISTINCT FROM %s) DESC, lower(c.full_name), c.id",
        (text.strip(), near_account, limit, near_account),
    )
    return [ContactHit(*row) for row in cursor.fetchall()]


def contact_name(contact_id: int | None) -> str | None:
    if contact_id is None:
        return None
    row = Contact.select(Contact.full_name).where(Contact.id == contact_id).tuples().first()
    return row[0] if row else None


def load(relationship_id: int, seen_from: int) -> dict[str, Any]:
    """The stored values plus the form's view from contact `seen_from`:
    `other_id` and `type_key` (with :inverse when `seen_from` is the "to" side)."""
    values = read_fields(ContactRelationship, relationship_id, FIELDS)
    if values is None or values["deleted_at"] is not None:
        raise NotFound(f"relationship {relationship_id} was deleted or is not visible")
    key = RelationshipType.get_by_id(values["type_id"]).key
    if values["from_contact_id"] == seen_from:
        values["other_id"], values["type_key"] = values["to_contact_id"], key
    else:
        values["other_id"], values["type_key"] = values["from_contact_id"], key + INVERSE
    return values


def _to_row(contact_id: int, form: Mapping[str, Any]) -> dict[str, Any]:
    choices = [c.value for c in type_choices()]
    values = validate_relationship(form, choices)
    other = values["to_contact_id"]
    if other == contact_id:
        raise ValidationErrors(
            [ValidationError("to_contact_id", "must be another contact, not this one")]
        )
    alive = (
        Contact.select(Contact.id).where((Contact.id == other) & Contact.deleted_at.is_null())
    ).first()
    if alive is None:
        raise ValidationErrors(
            [ValidationError("to_contact_id", f"contact {other} is deleted or not visible")]
        )
    key = values["type_key"]
    inverse = key.endswith(INVERSE)
    type_row = RelationshipType.get(RelationshipType.key == key.removesuffix(INVERSE))
    start, end = (other, contact_id) if inverse else (contact_id, other)
    if type_row.is_symmetric:
        start, end = min(start, end), max(start, end)  # one stored form for "spouse of"
    return {
        "from_contact_id": start,
        "to_contact_id": end,
        "type_id": type_row.id,
        "note": values["note"],
        "starts_on": values["starts_on"],
        "ends_on": values["ends_on"],
    }


def _check_unique(row: Mapping[str, Any], exclude: int | None = None) -> None:
    query = ContactRelationship.select(ContactRelationship.id).where(
        (ContactRelationship.from_contact == row["from_contact_id"])
        & (ContactRelationship.to_contact == row["to_contact_id"])
        & (ContactRelationship.type == row["type_id"])
        & ContactRelationship.deleted_at.is_null()
    )
    if exclude is not None:
        query = query.where(ContactRelationship.id != exclude)
    if query.exists():
        raise ValidationErrors([ValidationError("type_key", "this relationship already exists")])


def create(contact_id: int, form: Mapping[str, Any]) -> int:
    """Validate and store a relationship from contact `contact_id`'s point of view."""
    with database.atomic():
        row = _to_row(contact_id, form)
        _check_unique(row)
        return int(
            ContactRelationship.insert(
                from_contact=row["from_contact_id"],
                to_contact=row["to_contact_id"],
                type=row["type_id"],
                note=row["note"],
                starts_on=row["starts_on"],
                ends_on=row["ends_on"],
            ).execute()
        )


def update(
    relationship_id: int, contact_id: int, original: Mapping[str, Any], form: Mapping[str, Any]
) -> Saved:
    """Save only the changed fields of a relationship (version-checked)."""
    row = _to_row(contact_id, form)
    _check_unique(row, exclude=relationship_id)
    return update_fields(ContactRelationship, relationship_id, original, row)


def soft_delete(relationship_id: int) -> None:
    with database.atomic():
        count = (
            ContactRelationship.update({ContactRelationship.deleted_at: SQL("now()")})
            .where(
                (ContactRelationship.id == relationship_id)
                & ContactRelationship.deleted_at.is_null()
            )
            .execute()
        )
    if not count:
        raise NotFound(f"relationship {relationship_id} was deleted or is not visible")
