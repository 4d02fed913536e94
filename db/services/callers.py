"""Caller lookup: a phone number as dialled (any country, any format) -> the caller card.

`lookup(number)` reads the dialled text with phonenumbers (db/phones.py) into an E.164
candidate and the last 7-10 significant digits, and asks caller_match() (migration 0018: the
caller's visibility first, then the phone indexes) for the contacts, joined under row-level
security with everything the card shows, in ONE query (one round trip). Exact E.164 matches
win; a suffix match (caller ID that gives only the last digits, a national number typed
without its country) is used only when nothing matches exactly. One contact -> CallerCard;
several -> list[CallerMatch] to choose from (then `card(contact_id)`); none -> None.
Deals are read through caller_deals(), which gives NULL to people who may not read deals
(agents): `CallerCard.deals` is then None and the card says "—".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from db import phones, prepared
from db.errors import NotFound, ValidationError

MAX_MATCHES = 10
MIN_DIGITS = 7
_DIGITS = re.compile(r"\D+")


@dataclass(frozen=True)
class CaseLine:
    id: int
    subject: str
    status: str
    priority: str
    due_at: datetime | None


@dataclass(frozen=True)
class DealLine:
    id: int
    name: str
    stage: str
    amount: float
    currency: str


@dataclass(frozen=True)
class RecentLine:
    id: int
    kind: str
    direction: str | None
    outcome: str | None
    subject: str
    occurred_at: datetime
    author: str | None


@dataclass(frozen=True)
class Related:
    label: str
    name: str
    contact_id: int


@dataclass(frozen=True)
class CallerMatch:
    contact_id: int
    name: str
    title: str | None
    account_id: int | None
    account_name: str | None
    e164: str
    exact: bool
    do_not_call: bool = False
    do_not_email: bool = False


@dataclass(frozen=True)
class CallerCard:
    contact_id: int
    name: str
    title: str | None
    account_id: int | None
    account_name: str | None
    e164: str | None  # the phone that matched (None when opened by contact id)
    do_not_call: bool
    do_not_email: bool
    owner: str | None = None
    phones: list[tuple[str, str]] = field(default_factory=list)  # (kind, e164 or raw)
    cases: list[CaseLine] = field(default_factory=list)
    deals: list[DealLine] | None = None  # None: the person may not read deals
    recent: list[RecentLine] = field(default_factory=list)
    related: list[Related] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """For `switchboard lookup --json`: plain values, ids included, times in ISO 8601."""
        def iso(v: datetime | None) -> str | None:
            return v.isoformat() if v else None

        return {
            "contact_id": self.contact_id, "name": self.name, "title": self.title,
            "account_id": self.account_id, "account_name": self.account_name,
            "matched_number": self.e164, "do_not_call": self.do_not_call,
            "do_not_email": self.do_not_email, "owner": self.owner,
            "phones": [{"kind": k, "number": n} for k, n in self.phones],
            "open_cases": [{"case_id": c.id, "subject": c.subject, "status": c.status,
                            "priority": c.priority, "due_at": iso(c.due_at)} for c in self.cases],
            "open_deals": None if self.deals is None else [
                {"opportunity_id": d.id, "name": d.name, "stage": d.stage,
                 "amount": d.amount, "currency": d.currency} for d in self.deals],
            "recent": [{"activity_id": r.id, "kind": r.kind, "direction": r.direction,
                        "outcome": r.outcome, "subject": r.subject,
                        "occurred_at": iso(r.occurred_at), "author": r.author}
                       for r in self.recent],
            "related": [{"label": r.label, "name": r.name, "contact_id": r.contact_id}
                        for r in self.related],
        }  # fmt: skip


def keys(dialled: str, region: str | None = None) -> tuple[list[str], str]:
    """(E.164 candidates, reversed significant suffix) of a number as dialled.

    The suffix is the last 10 digits without leading zeros (a trunk prefix, or the 00 of an
    international call): what is left is always the end of the stored E.164 number. Raises
    ValidationError when there are not enough digits to look anything up."""
    text = (dialled or "").strip()
    if len(text) > phones.MAX_LENGTH:
        raise ValidationError("number", f"must be at most {phones.MAX_LENGTH} characters")
    digits = _DIGITS.sub("", text)
    if len(digits) < MIN_DIGITS:
        raise ValidationError("number", f"needs at least {MIN_DIGITS} digits")
    candidates: list[str] = []
    try:
        candidates.append(phones.to_e164(text, region))
    except ValidationError:
        pass
    suffix = digits[-10:].lstrip("0")
    return candidates, suffix[::-1] if len(suffix) >= MIN_DIGITS else ""


# The card's data: caller_card_json() (0018), as the caller under RLS, its plan kept generic;
# phones and relationships inside it come from caller_details() (visibility checked once per
# contact rather than by each row's policy).
_CARD = "caller_card_json(c.id, c.account_id, c.owner_id)"

LOOKUP_SQL = f"""
SELECT m.contact_id, c.full_name, c.job_title, c.account_id, acc.name, m.e164, m.exact,
       c.do_not_call, c.do_not_email,
       CASE WHEN count(*) OVER () = 1 THEN {_CARD} END
  FROM caller_match(%(e164)s::text[], %(suffix)s::text, %(lim)s::integer) m
  JOIN contact c ON c.id = m.contact_id
  LEFT JOIN account acc ON acc.id = c.account_id
 ORDER BY m.exact DESC, c.full_name, c.id
"""

CARD_SQL = f"""
SELECT c.id, c.full_name, c.job_title, c.account_id, acc.name, NULL::text, true,
       c.do_not_call, c.do_not_email, {_CARD}
  FROM contact c LEFT JOIN account acc ON acc.id = c.account_id
 WHERE c.id = %(cid)s::bigint AND c.deleted_at IS NULL
"""


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _card(row: tuple) -> CallerCard:
    data = row[9]
    if isinstance(data, str):
        data = json.loads(data)
    deals = data.get("deals")
    details = data.get("details") or {}
    return CallerCard(
        contact_id=row[0], name=row[1], title=row[2], account_id=row[3], account_name=row[4],
        e164=row[5], do_not_call=row[7], do_not_email=row[8], owner=data.get("owner"),
        phones=[(p["kind"], p["n"]) for p in details.get("phones") or []],
        cases=[CaseLine(c["id"], c["subject"], c["status"], c["priority"], _when(c["due_at"]))
               for c in data.get("cases") or []],
        deals=None if deals is None else [
            DealLine(d["id"], d["name"], d["stage"], float(d["amount"]), d["currency"])
            for d in deals],
        recent=[RecentLine(r["id"], r["kind"], r["direction"], r["outcome"], r["subject"] or "",
                           _when(r["occurred_at"]), r["author"]) for r in data.get("recent") or []],
        related=[Related(r["label"], r["name"], r["id"]) for r in details.get("related") or []],
    )  # fmt: skip


def lookup_params(dialled: str, region: str | None = None) -> dict[str, Any]:
    candidates, suffix = keys(dialled, region)
    return {"e164": candidates, "suffix": suffix, "lim": MAX_MATCHES + 1}


def lookup(
    dialled: str, region: str | None = None
) -> CallerCard | list[CallerMatch] | None:
    """The caller card of the one contact whose phone matches, the matches when several do
    (at most MAX_MATCHES), or None when nobody visible to the caller has the number."""
    rows = prepared.execute(LOOKUP_SQL, lookup_params(dialled, region)).fetchall()
    if not rows:
        return None
    if len(rows) == 1:
        return _card(rows[0])
    return [CallerMatch(*r[:9]) for r in rows[:MAX_MATCHES]]


def card(contact_id: int) -> CallerCard:
    """The caller card of one contact (chosen from several matches); NotFound if not visible."""
    row = prepared.execute(CARD_SQL, {"cid": contact_id}).fetchone()
    if row is None:
        raise NotFound(f"contact {contact_id} does not exist or is not visible to you")
    return _card(row)
