"""Phone numbers: parse what a person typed (or caller ID gave) into E.164.

Uses phonenumbers (Google's libphonenumber metadata). A national number ("(415) 203-7663") is
read in the region the caller names: the contact's or account's country when one is known
(`region_for`), else the default region: SWITCHBOARD_PHONE_REGION, else config.toml
`[phones] default_region`, else SE. Letters are refused ("+46 70 CALLNOW" is not read as
keypad digits); an extension may be written "ext 12" or "x12". Every message is ours and
short enough to stand beside a form field at 80 columns.
"""

from __future__ import annotations

import os
import re
import unicodedata

from db.config import load_config
from db.errors import ValidationError

FALLBACK_REGION = "SE"
MAX_LENGTH = 60  # contact_phone.raw's CHECK
_DIGITS = re.compile(r"\D+")
_EXTENSION = re.compile(r"(?:ext\.?|x|#)\s*\d{1,7}\s*$", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")
_MESSAGES = {  # phonenumbers.NumberParseException.error_type -> our words
    0: "has an unknown country code: write + and the country code",
    1: "is not a phone number: use digits, like +46 31 59 00 00",
    2: "is too short after the international prefix",
    3: "is too short to be a phone number",
    4: "is too long to be a phone number",
}


def default_region() -> str:
    region = os.environ.get("SWITCHBOARD_PHONE_REGION") or load_config().get("phones", {}).get(
        "default_region"
    )
    return (region or FALLBACK_REGION).upper()


def _key(name: str) -> str:
    text = unicodedata.normalize("NFC", name).casefold().strip()
    text = re.sub(r"[.,()']", "", text)
    return re.sub(r"\s+", " ", text).removeprefix("the ")


_REGIONS: dict[str, str] | None = None


def region_for(country: str | None) -> str | None:
    """The region code of a country as written ('United States', 'Sverige', 'us'), or None."""
    global _REGIONS
    if not country or not country.strip():
        return None
    if _REGIONS is None:
        from db.countries import NAMES

        _REGIONS = {_key(name): code for name, code in NAMES.items()}
        _REGIONS.update({code.casefold(): code for code in NAMES.values()})
    return _REGIONS.get(_key(country))


def region_of(*countries: str | None) -> str:
    """The region of the first of `countries` that names one, else the default region."""
    for country in countries:
        region = region_for(country)
        if region:
            return region
    return default_region()


def to_e164(raw: str, region: str | None = None, field: str = "phone") -> str:
    """The E.164 form of `raw`, or ValidationError naming `field` and the rule."""
    import phonenumbers  # its metadata costs ~25 ms: loaded on first use, not at start-up

    text = (raw or "").strip()
    if not text:
        raise ValidationError(field, "is required")
    if len(text) > MAX_LENGTH:
        raise ValidationError(field, f"must be at most {MAX_LENGTH} characters")
    if _LETTER.search(_EXTENSION.sub("", text)):
        raise ValidationError(field, "must be digits, not letters (an extension: ext 12)")
    try:
        number = phonenumbers.parse(text, region or default_region())
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(field, _MESSAGES.get(exc.error_type, _MESSAGES[1])) from exc
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(field, "has the wrong number of digits for its country")
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


def preview(raw: str, region: str | None = None) -> str:
    """What a form shows under a phone before saving: '→ +1 415 203 7663', or the problem."""
    text = (raw or "").strip()
    if not text:
        return ""
    try:
        return "→ " + display(to_e164(text, region))
    except ValidationError as exc:
        return exc.message


def lookup_keys(dialled: str, region: str | None = None) -> tuple[str | None, str]:
    """For caller lookup: (E.164 if parseable, reversed last 7-10 digits for suffix matching)."""
    digits = _DIGITS.sub("", dialled or "")
    try:
        e164: str | None = to_e164(dialled, region)
    except ValidationError:
        e164 = None
    suffix = digits[-10:] if len(digits) >= 10 else digits
    return e164, suffix[::-1]
