"""Field rules for the record forms: every rule a person can break, checked before any write.

Each `validate_*` takes what a form holds (strings, booleans, None) and returns typed values
ready for the database, or raises ValidationErrors listing every broken rule at once, each
naming its field (`phones.1` for the second phone row) so a form can show it beside the field.
Choices mirror the CHECK constraints of db/migrations/0001_schema.sql (a test compares them).
Lengths mirror the CHECK constraints too; text columns without one get a generous limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email

from db.errors import ValidationError
from db.phones import display, region_of, to_e164
from db.services.rules import (
    AMOUNT_MAX as AMOUNT_MAX,  # re-exported: the forms and tests name it here
)
from db.services.rules import Rules

ACCOUNT_TIERS = ("A", "B", "C")
ACCOUNT_LIFECYCLES = ("prospect", "customer", "former", "partner")
ACCOUNT_KINDS = (
    "holding", "company", "subsidiary", "division", "school", "household", "public_body",
)  # fmt: skip
JOB_ROLES = (
    "decision_maker", "economic_buyer", "influencer", "champion", "user", "gatekeeper",
    "technical", "other",
)  # fmt: skip
PHONE_KINDS = ("work", "mobile", "home", "fax", "switchboard", "other")
EMAIL_KINDS = ("work", "personal", "other")

MAX_ROWS = 10  # phones or emails per contact
# Name maxima (CHECK constraints of db/migrations/0011_*.sql): long enough for any real name,
# short enough that a name fits a dialog line or two at 80 columns.
ACCOUNT_NAME_MAX = 200
PERSON_NAME_MAX = 100  # a contact's first and last name, each
PLACE_MAX = 200  # city, country
OLDEST_BIRTHDAY = date(1900, 1, 1)
_SIC = re.compile(r"^[0-9]{2,4}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def validate_email_address(raw: str, field: str = "email") -> str:
    """The normalised form of an address (domain lower-cased, IDNA), or ValidationError.

    The messages are ours (email-validator's own sentences are long and cut at 80 columns)."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError(field, "is required")
    if len(text) > 320:
        raise ValidationError(field, "must be at most 320 characters")
    local, at, domain = text.rpartition("@")
    if not at:
        raise ValidationError(field, "needs an @, like name@example.com")
    if any(ch.isspace() for ch in text):
        raise ValidationError(field, "must not contain spaces")
    if "@" in local:
        raise ValidationError(field, "must have only one @")
    if not local:
        raise ValidationError(field, "needs a name before the @, like name@example.com")
    if not domain:
        raise ValidationError(field, "needs a domain after the @, like example.com")
    if "." not in domain:
        raise ValidationError(field, "needs a full domain after the @, like example.com")
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError(field, "is not a valid email address, like name@example.com") from exc


def validate_account(data: Mapping[str, Any], stored_phone: str | None = None) -> dict[str, Any]:
    """Typed account values from a form; ValidationErrors names every broken rule.

    A phone whose text is the stored one (`stored_phone`, as stored or as the form shows it)
    is kept exactly as stored; a changed one is read in the account's country (else the
    default region)."""
    r = Rules()
    out: dict[str, Any] = {
        "name": r.text(data, "name", ACCOUNT_NAME_MAX, required=True),
        "industry": r.text(data, "industry", 200),
        "sic_code": r.text(data, "sic_code", 4),
        "employees": r.integer(data, "employees", 0, 10_000_000),
        "annual_revenue": r.amount(data, "annual_revenue"),
        "currency": (r.text(data, "currency", 10) or "EUR").upper(),
        "website": r.text(data, "website", 2000),
        "phone": None,
        "city": r.text(data, "city", PLACE_MAX),
        "country": r.text(data, "country", PLACE_MAX),
        "tier": r.choice(data, "tier", ACCOUNT_TIERS),
        "lifecycle": r.choice(data, "lifecycle", ACCOUNT_LIFECYCLES) or "prospect",
        "kind": r.choice(data, "kind", ACCOUNT_KINDS) or "company",
        "description": r.text(data, "description", 100_000),
    }
    if out["sic_code"] and not _SIC.match(out["sic_code"]):
        r.fail("sic_code", "must be 2 to 4 digits, like 3711")
    if not _CURRENCY.match(out["currency"]):
        r.fail("currency", "must be a three-letter ISO code, like EUR or SEK")
    if out["website"] and (" " in out["website"] or "." not in out["website"]):
        r.fail("website", "must be a web address without spaces, like example.com")
    phone = r.text(data, "phone", 60)
    if phone and stored_phone and phone in (stored_phone, display(stored_phone, stored_phone)):
        out["phone"] = stored_phone  # untouched: never read again in another region
    elif phone:
        try:
            out["phone"] = to_e164(phone, region_of(out["country"]), field="phone")
        except ValidationError as exc:
            r.fail(exc.field, exc.message)
    r.check()
    return out


def validate_contact(data: Mapping[str, Any], today: date | None = None) -> dict[str, Any]:
    """Typed contact values (without phones and emails) from a form."""
    r = Rules()
    out: dict[str, Any] = {
        "salutation": r.text(data, "salutation", 40),
        "first_name": r.text(data, "first_name", PERSON_NAME_MAX) or "",
        "last_name": r.text(data, "last_name", PERSON_NAME_MAX) or "",
        "job_title": r.text(data, "job_title", 200),
        "job_role": r.choice(data, "job_role", JOB_ROLES),
        "department": r.text(data, "department", 200),
        "birthday": r.day(data, "birthday", OLDEST_BIRTHDAY, today or date.today()),
        "spouse_name": r.text(data, "spouse_name", 200),
        "interests": r.text(data, "interests", 2000),
        "city": r.text(data, "city", PLACE_MAX),
        "country": r.text(data, "country", PLACE_MAX),
        "do_not_call": r.flag(data, "do_not_call"),
        "do_not_email": r.flag(data, "do_not_email"),
        "notes": r.text(data, "notes", 100_000),
    }
    if not out["first_name"] and not out["last_name"]:
        r.fail("last_name", "is required (a first or a last name)")
    r.check()
    return out


def validate_phones(
    rows: Iterable[tuple[str | None, str | None]],
    region: str | None = None,
    known: Mapping[str, str | None] | None = None,
) -> tuple[tuple, ...]:
    """(kind, raw) rows → ((kind, raw, e164, is_primary), ...); blank rows are dropped.

    A row whose text is in `known` (raw text → stored E.164, from the contact as it was read)
    keeps that number untouched; any other is read in `region` (the contact's or account's
    country) or the default region. Errors name the row: `phones.0`, `phones.1` ... (index
    among the rows given).
    """
    known = known or {}
    r = Rules()
    result: list[tuple] = []
    seen: set[str] = set()
    for index, (kind, raw) in enumerate(rows):
        field = f"phones.{index}"
        text = (raw or "").strip()
        if not text:
            continue
        if (kind or "work") not in PHONE_KINDS:
            r.fail(field, "kind must be one of: " + ", ".join(PHONE_KINDS))
            continue
        if text in known:
            e164 = known[text]
        else:
            try:
                e164 = to_e164(text, region, field=field)
            except ValidationError as exc:
                r.fail(field, exc.message)
                continue
        if e164 in seen:
            r.fail(field, "is listed twice")
            continue
        if e164:
            seen.add(e164)
        result.append((kind or "work", text, e164, not result))
    if len(result) > MAX_ROWS:
        r.fail("phones.0", f"at most {MAX_ROWS} phone numbers per contact")
    r.check()
    return tuple(result)


def validate_emails(rows: Iterable[tuple[str | None, str | None]]) -> tuple[tuple, ...]:
    """(kind, address) rows → ((kind, normalised, is_primary), ...); blank rows dropped."""
    r = Rules()
    result: list[tuple] = []
    seen: set[str] = set()
    for index, (kind, raw) in enumerate(rows):
        field = f"emails.{index}"
        if not (raw or "").strip():
            continue
        if (kind or "work") not in EMAIL_KINDS:
            r.fail(field, "kind must be one of: " + ", ".join(EMAIL_KINDS))
            continue
        try:
            address = validate_email_address(raw or "", field=field)
        except ValidationError as exc:
            r.fail(field, exc.message)
            continue
        if address.lower() in seen:
            r.fail(field, "is listed twice")
            continue
        seen.add(address.lower())
        result.append((kind or "work", address, not result))
    if len(result) > MAX_ROWS:
        r.fail("emails.0", f"at most {MAX_ROWS} email addresses per contact")
    r.check()
    return tuple(result)


def validate_relationship(data: Mapping[str, Any], type_keys: Iterable[str]) -> dict[str, Any]:
    """Typed relationship values: the other contact, the type, note, start and end dates."""
    r = Rules()
    other = data.get("to_contact_id")
    to_id: int | None = None
    if other in (None, ""):
        r.fail("to_contact_id", "is required: choose the other contact")
    else:
        try:
            to_id = int(str(other).strip())
        except ValueError:
            r.fail("to_contact_id", "must be a contact number")
    out: dict[str, Any] = {
        "to_contact_id": to_id,
        "type_key": r.choice(data, "type_key", type_keys),
        "note": r.text(data, "note", 2000),
        "starts_on": r.day(data, "starts_on", OLDEST_BIRTHDAY),
        "ends_on": r.day(data, "ends_on", OLDEST_BIRTHDAY),
    }
    if out["type_key"] is None and not any(e.field == "type_key" for e in r.errors):
        r.fail("type_key", "is required")
    if out["starts_on"] and out["ends_on"] and out["ends_on"] < out["starts_on"]:
        r.fail("ends_on", "must be on or after the start date")
    r.check()
    return out


FORECAST_CATEGORIES = ("omitted", "pipeline", "best_case", "commit")  # 'closed' is the stage's
DEAL_NAME_MAX = 500
NEXT_STEP_MAX = 500
LOST_REASON_MAX = 500


def validate_deal(data: Mapping[str, Any]) -> dict[str, Any]:
    """Typed deal values from a form (ids as ints); ValidationErrors names every broken rule.

    `probability` empty means "the stage's" (None); a typed one is the person's."""
    r = Rules()
    out: dict[str, Any] = {
        "account_id": r.integer(data, "account_id", 1, 2**62),
        "primary_contact_id": r.integer(data, "primary_contact_id", 1, 2**62),
        "name": r.text(data, "name", DEAL_NAME_MAX, required=True),
        "amount": r.amount(data, "amount") or 0,
        "currency": (r.text(data, "currency", 10) or "EUR").upper(),
        "stage_id": r.integer(data, "stage_id", 1, 2**62),
        "probability": r.integer(data, "probability", 0, 100),
        "expected_close": r.day(data, "expected_close", date(2000, 1, 1), date(2200, 12, 31)),
        "forecast_category": r.choice(data, "forecast_category", FORECAST_CATEGORIES)
        or "pipeline",
        "owner_id": r.integer(data, "owner_id", 1, 2**62),
        "campaign_id": r.integer(data, "campaign_id", 1, 2**62),
        "next_step": r.text(data, "next_step", NEXT_STEP_MAX),
        "lost_reason": r.text(data, "lost_reason", LOST_REASON_MAX),
    }
    if out["account_id"] is None:
        r.fail("account_id", "is required: pick the account the deal is with")
    if out["stage_id"] is None:
        r.fail("stage_id", "is required: pick a stage")
    if not _CURRENCY.match(out["currency"]):
        r.fail("currency", "must be a three-letter ISO code, like EUR or SEK")
    r.check()
    return out


def validate_lost_reason(raw: str | None) -> str:
    r = Rules()
    reason = r.text({"lost_reason": raw}, "lost_reason", LOST_REASON_MAX, required=True)
    r.check()
    return reason or ""
