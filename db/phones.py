"""Phone numbers: parse what a person typed (or caller ID gave) into E.164.

Uses phonenumbers (Google's libphonenumber metadata). National numbers are read in the
default region: SWITCHBOARD_PHONE_REGION, else config.toml `[phones] default_region`, else SE.
"""

from __future__ import annotations

import os
import re

from db.config import load_config
from db.errors import ValidationError

FALLBACK_REGION = "SE"
_DIGITS = re.compile(r"\D+")


def default_region() -> str:
    region = os.environ.get("SWITCHBOARD_PHONE_REGION") or load_config().get("phones", {}).get(
        "default_region"
    )
    return (region or FALLBACK_REGION).upper()


def to_e164(raw: str, region: str | None = None, field: str = "phone") -> str:
    """The E.164 form of `raw`, or ValidationError naming `field` and the rule."""
    import phonenumbers  # its metadata costs ~25 ms: loaded on first use, not at start-up

    text = (raw or "").strip()
    if not text:
        raise ValidationError(field, "is required")
    if len(text) > 60:
        raise ValidationError(field, "must be at most 60 characters")
    try:
        number = phonenumbers.parse(text, region or default_region())
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(field, f"is not a phone number ({exc._msg})") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(
            field, "is not a possible phone number for its country (check the digits)"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display(e164: str | None, raw: str | None = None) -> str:
    """International format for display ('+46 31 59 00 00'); the raw text if unparseable."""
    if not e164:
        return raw or ""
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return raw or e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def lookup_keys(dialled: str, region: str | None = None) -> tuple[str | None, str]:
    """For caller lookup: (E.164 if parseable, reversed last 7-10 digits for suffix matching)."""
    digits = _DIGITS.sub("", dialled or "")
    try:
        e164: str | None = to_e164(dialled, region)
    except ValidationError:
        e164 = None
    suffix = digits[-10:] if len(digits) >= 10 else digits
    return e164, suffix[::-1]
