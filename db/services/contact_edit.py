"""Create, edit and soft-delete contacts with their phones and emails (the form's services).

A contact's phones and emails are saved in the same transaction as the contact itself, and
take part in the version check as two more fields (`phones`, `emails`): changing only a
phone still moves the contact's version, and two people changing the phones at once is a
conflict on `phones`, never a silent overwrite.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from peewee import SQL

from db.connection import database
from db.errors import NotFound, ValidationError, ValidationErrors
from db.models import Account, Contact, ContactEmail, ContactPhone
from db.services.editing import Extra, Saved, read_fields, update_fields
from db.services.validation import validate_contact, validate_emails, validate_phones

FIELDS = (
    "salutation", "first_name", "last_name", "job_title", "job_role", "department",
    "birthday", "spouse_name", "interests", "city", "country", "do_not_call", "do_not_email",
    "notes",
)  # fmt: skip

Rows = Iterable[tuple[str | None, str | None]]


def read_phones(contact_id: int) -> tuple[tuple, ...]:
    """(kind, raw, e164, is_primary) per phone, in the contact's order."""
    query = (
        ContactPhone.select(
            ContactPhone.kind, ContactPhone.raw, ContactPhone.e164, ContactPhone.is_primary
        )
        .where(ContactPhone.contact == contact_id)
        .order_by(ContactPhone.position, ContactPhone.id)
        .tuples()
    )
    return tuple(tuple(r) for r in query)


def read_emails(contact_id: int) -> tuple[tuple, ...]:
    """(kind, email, is_primary) per address, in the contact's order."""
    query = (
        ContactEmail.select(ContactEmail.kind, ContactEmail.email, ContactEmail.is_primary)
        .where(ContactEmail.contact == contact_id)
        .order_by(ContactEmail.position, ContactEmail.id)
        .tuples()
    )
    return tuple(tuple(r) for r in query)


def write_phones(contact_id: int, rows: tuple[tuple, ...]) -> None:
    # No DELETE privilege on the table (it would allow LOCK TABLE): migration 0009's function.
    database.execute_sql("SELECT delete_contact_details(%s, 'contact_phone')", (contact_id,))
    if rows:
        ContactPhone.insert_many(
            [
                {
                    "contact": contact_id,
                    "kind": k,
                    "raw": raw,
                    "e164": e164,
                    "is_primary": primary,
                    "position": i,
                }
                for i, (k, raw, e164, primary) in enumerate(rows)
            ]  # fmt: skip
        ).execute()


def write_emails(contact_id: int, rows: tuple[tuple, ...]) -> None:
    database.execute_sql("SELECT delete_contact_details(%s, 'contact_email')", (contact_id,))
    if rows:
        ContactEmail.insert_many(
            [
                {
                    "contact": contact_id,
                    "kind": k,
                    "email": email,
                    "is_primary": primary,
                    "position": i,
                }
                for i, (k, email, primary) in enumerate(rows)
            ]  # fmt: skip
        ).execute()


EXTRAS = {
    "phones": Extra(read_phones, write_phones),
    "emails": Extra(read_emails, write_emails),
}


def load(contact_id: int) -> dict[str, Any]:
    """Editable values of a live contact incl. phones, emails, account_id and `version`."""
    values = read_fields(Contact, contact_id, (*FIELDS, "account_id", "phones", "emails"), EXTRAS)
    if values is None or values["deleted_at"] is not None:
        raise NotFound(f"contact {contact_id} was deleted or is not visible")
    return values


def validate(form: Mapping[str, Any], phones: Rows, emails: Rows) -> dict[str, Any]:
    """Contact fields, phones and emails checked together: every broken rule at once."""
    errors: list[ValidationError] = []
    values: dict[str, Any] = {}
    for key, check in (
        (None, lambda: validate_contact(form)),
        ("phones", lambda: validate_phones(phones)),
        ("emails", lambda: validate_emails(emails)),
    ):
        try:
            result = check()
        except ValidationErrors as exc:
            errors.extend(exc.errors)
            continue
        if key is None:
            values.update(result)  # type: ignore[arg-type]
        else:
            values[key] = result
    if errors:
        raise ValidationErrors(errors)
    return values


def create(
    form: Mapping[str, Any], phones: Rows = (), emails: Rows = (), account_id: int | None = None
) -> int:
    """Validate and insert a contact with its phones and emails in one transaction."""
    values = validate(form, phones, emails)
    with database.atomic():
        if account_id is not None:
            account = (
                Account.select(Account.id)
                .where((Account.id == account_id) & Account.deleted_at.is_null())
                .first()
            )
            if account is None:
                raise ValidationErrors(
                    [ValidationError("account_id", "the account is deleted or not visible")]
                )
        new_phones, new_emails = values.pop("phones"), values.pop("emails")
        contact_id = int(Contact.insert(**values, account=account_id).execute())
        write_phones(contact_id, new_phones)
        write_emails(contact_id, new_emails)
    return contact_id


def update(
    contact_id: int,
    original: Mapping[str, Any],
    form: Mapping[str, Any],
    phones: Rows = (),
    emails: Rows = (),
) -> Saved:
    """Validate and save only what changed since `original` (phones/emails as two fields)."""
    values = validate(form, phones, emails)
    return update_fields(Contact, contact_id, original, values, EXTRAS)


def soft_delete(contact_id: int) -> None:
    """Move one contact to the trash (phones, emails, relationships and history stay)."""
    with database.atomic():
        count = (
            Contact.update({Contact.deleted_at: SQL("now()")})
            .where((Contact.id == contact_id) & Contact.deleted_at.is_null())
            .execute()
        )
    if not count:
        raise NotFound(f"contact {contact_id} was deleted or is not visible")
