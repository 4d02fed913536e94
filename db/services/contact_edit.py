"""Create, edit and soft-delete contacts with their phones and emails (the form's services).

A contact's phones and emails are saved in the same transaction as the contact itself, and
take part in the version check as two more fields (`phones`, `emails`): changing only a
phone still moves the contact's version, and two people changing the phones at once is a
conflict on `phones`, never a silent overwrite.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from peewee import SQL, Model

from db.connection import database
from db.errors import NotFound, ValidationError, ValidationErrors
from db.models import Account, Contact, ContactEmail, ContactPhone
from db.phones import region_for, region_of
from db.services import applied
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


def _sync(model: type[Model], contact_id: int, columns: tuple[str, ...], rows: tuple) -> None:
    """Make the contact's child rows equal `rows` (tuples of `columns`, in order), changing
    only what differs: a row that stays keeps its id and is not written, a changed row is
    updated in place, only the surplus is inserted or deleted. Rows are matched first by the
    number or address they hold (columns[1:3]), then in order."""
    names = (*columns, "position")
    old = [
        (row[0], dict(zip(names, row[1:], strict=True)))
        for row in model.select(model.id, *(getattr(model, n) for n in names))
        .where(model.contact == contact_id)
        .order_by(model.position, model.id)
        .tuples()
    ]
    wanted = [dict(zip(names, (*row, i), strict=True)) for i, row in enumerate(rows)]
    match: dict[int, tuple[int, dict]] = {}
    free = list(old)
    for i, row in enumerate(wanted):
        for candidate in free:
            if _identity(candidate[1], columns) == _identity(row, columns):
                match[i] = candidate
                free.remove(candidate)
                break
    for i in range(len(wanted)):
        if i not in match and free:
            match[i] = free.pop(0)
    if free:
        _delete_rows(model, contact_id, [row_id for row_id, _ in free])
    for i, row in enumerate(wanted):
        if i not in match:
            model.insert(contact=contact_id, **row).execute()
            continue
        row_id, was = match[i]
        changes = {n: v for n, v in row.items() if was[n] != v}
        if changes:
            model.update(changes).where(model.id == row_id).execute()


def _delete_rows(model: type[Model], contact_id: int, ids: list[int]) -> None:
    """Remove the phone or email rows `ids` (only the ones a save no longer lists).

    Logins have no DELETE privilege on these tables (it would let them LOCK TABLE): migration
    0009's function deletes, under the caller's row-level security."""
    database.execute_sql(
        "SELECT delete_contact_details(%s, %s, %s)",
        (contact_id, model._meta.table_name, ids),
    )


def _identity(row: dict, columns: tuple[str, ...]) -> tuple:
    """What makes a phone or email the same one: its number (or text when it has none)."""
    return tuple(str(row[c]).casefold() for c in columns[1:3] if c != "is_primary")


PHONE_COLUMNS = ("kind", "raw", "e164", "is_primary")
EMAIL_COLUMNS = ("kind", "email", "is_primary")


def write_phones(contact_id: int, rows: tuple[tuple, ...]) -> None:
    _sync(ContactPhone, contact_id, PHONE_COLUMNS, rows)


def write_emails(contact_id: int, rows: tuple[tuple, ...]) -> None:
    _sync(ContactEmail, contact_id, EMAIL_COLUMNS, rows)


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


def validate(
    form: Mapping[str, Any],
    phones: Rows,
    emails: Rows,
    account_id: int | None = None,
    original: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Contact fields, phones and emails checked together: every broken rule at once.

    National phone numbers are read in the contact's country, else its account's, else the
    default region; a phone whose text is unchanged since `original` keeps its stored number.
    """
    errors: list[ValidationError] = []
    values: dict[str, Any] = {}
    known = {raw.strip(): e164 for _k, raw, e164, *_ in (original or {}).get("phones") or ()}
    for key, check in (
        (None, lambda: validate_contact(form)),
        ("phones", lambda: validate_phones(phones, phone_region(form, account_id), known)),
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


def phone_region(form: Mapping[str, Any], account_id: int | None) -> str:
    """The region national numbers of this contact are read in (see `validate`)."""
    account_country = None
    if account_id is not None and not region_for(form.get("country")):
        row = Account.select(Account.country).where(Account.id == account_id).tuples().first()
        account_country = row[0] if row else None
    return region_of(form.get("country"), account_country)


def create(
    form: Mapping[str, Any], phones: Rows = (), emails: Rows = (), account_id: int | None = None
) -> int:
    """Validate and insert a contact with its phones and emails in one transaction."""
    values = validate(form, phones, emails, account_id)
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
    client_uuid: str | None = None,
) -> Saved:
    """Validate and save only what changed since `original` (phones/emails as two fields).

    With a `client_uuid` (the offline outbox) the save is applied once: a second call with the
    same UUID writes nothing and returns the contact's version as it is now."""
    values = validate(form, phones, emails, original.get("account_id"), original)
    if not client_uuid:
        return update_fields(Contact, contact_id, original, values, EXTRAS)
    with database.atomic():
        if not applied.claim(client_uuid, "edit_contact", contact_id):
            now = read_fields(Contact, contact_id, ())
            return Saved(contact_id, int(now["version"]) if now else int(original["version"]))
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
