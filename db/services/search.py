"""One search over accounts, contacts, deals and cases (docs/search.md).

`search(text)` asks `search_records()` (migration 0017), a SECURITY DEFINER function that finds
candidates through its indexes and keeps only rows the caller may read before it ranks and
limits. What the text is decides how it is matched:

* an email address (one `@`, no spaces): contacts with exactly that address, any case;
* a phone number (only digits and + ( ) - . / and spaces, at least 7 digits): contacts with a
  number that is the same (every E.164 reading of it: national in the default region,
  international with + or 00, or with the country code but no +) or that ends with its last
  7-10 digits (a leading trunk 0 dropped). `phone_keys()` computes both from the text;
* anything else: names (account name, contact full name, deal name, case subject), typo
  tolerant: same name > the name starts with the text > a later word does > similar.

`Searcher` is what a screen holds: each of its searches cancels the one still running
(`connection.cancel()` on the connection the superseded search is using) and a superseded
search returns None instead of results.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

import psycopg2.errors

from db.connection import database
from db.errors import ValidationError
from db.phones import _DIGITS, default_region, to_e164

KINDS = ("account", "contact", "deal", "case")
LIMIT_PER_KIND = 10
MAX_LIMIT = 100
MAX_TEXT = 200
MIN_PHONE_DIGITS = 7
MAX_SUFFIX_DIGITS = 10
_PHONE_TEXT = re.compile(r"^\+?[\d\s()\-./]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")

HOW = {0: "same", 1: "starts with", 2: "word starts with", 3: "similar", 4: "ends with",
       5: "similar"}


@dataclass(frozen=True)
class Hit:
    kind: str  # "account", "contact", "deal", "case"
    id: int
    label: str  # the name (or subject)
    detail: str | None  # account (contact, deal), parent (account), status · account (case),
    # the matched email or number (contact found by email or phone)
    account_id: int | None  # the account to open: the hit itself, or its visible account
    contact_id: int | None  # the contact to open (contact hits; a case's visible contact)
    rank: int  # 0 same, 1 starts with, 2 a word starts with, 3 similar, 4 number ends with,
    # 5 loosely similar
    score: float

    @property
    def how(self) -> str:
        return HOW.get(self.rank, "")


@dataclass(frozen=True)
class Group:
    kind: str
    hits: list[Hit]
    more: bool  # more visible matches than shown


@dataclass(frozen=True)
class SearchResults:
    text: str
    mode: str  # "name", "email", "phone", "empty"
    # only non-empty ones; the one with the best match first, then in KINDS order
    groups: list[Group] = field(default_factory=list)

    @property
    def hits(self) -> list[Hit]:
        return [h for g in self.groups for h in g.hits]

    def group(self, kind: str) -> Group | None:
        return next((g for g in self.groups if g.kind == kind), None)


def is_email(text: str) -> bool:
    return bool(_EMAIL.match(text.strip()))


def is_phone(text: str) -> bool:
    text = text.strip()
    return bool(_PHONE_TEXT.match(text)) and len(_DIGITS.sub("", text)) >= MIN_PHONE_DIGITS


def phone_keys(text: str, region: str | None = None) -> tuple[list[str], list[str]]:
    """(E.164 forms, reversed digit suffixes) under which a typed number may be stored.

    E.164: the text read in `region` (default: the installation's), as international when it
    starts with 00, and as international without the + (country code first). Suffix: the last
    7-10 digits with leading zeros (trunk or international prefix) dropped, reversed, for
    `reverse(e164)` prefix matches (contact_phone_suffix_idx). The console's caller lookup can
    pass the same keys to search_records()."""
    raw = (text or "").strip()
    digits = _DIGITS.sub("", raw)
    forms: list[str] = []
    tries = [raw]
    if raw.startswith("00"):
        tries.append("+" + digits[2:])
    elif not raw.startswith(("+", "0")):
        tries.append("+" + digits)
    for attempt in tries:
        try:
            e164 = to_e164(attempt, region or default_region())
        except ValidationError:
            continue
        if e164 not in forms:
            forms.append(e164)
    core = digits.lstrip("0")
    suffixes = []
    if len(core) >= MIN_PHONE_DIGITS:
        suffixes.append(core[-MAX_SUFFIX_DIGITS:][::-1])
    return forms, suffixes


def _kinds(kinds: tuple[str, ...] | list[str] | None) -> list[str]:
    chosen = list(kinds or KINDS)
    unknown = [k for k in chosen if k not in KINDS]
    if unknown:
        raise ValidationError("kinds", f"unknown: {', '.join(unknown)}; known: {', '.join(KINDS)}")
    return chosen


def _call(text: str, email: str | None, phones: list[str], suffixes: list[str],
          kinds: list[str], limit: int) -> list[tuple]:  # fmt: skip
    cursor = database.execute_sql(
        "SELECT kind, id, label, detail, account_id, contact_id, rank, score "
        "FROM search_records(%s, %s, %s::text[], %s::text[], %s::text[], %s)",
        [text, email, phones, suffixes, kinds, limit],
    )
    return cursor.fetchall()


def search(
    text: str,
    kinds: tuple[str, ...] | list[str] | None = None,
    limit_per_kind: int = LIMIT_PER_KIND,
    region: str | None = None,
) -> SearchResults:
    """Ranked, grouped matches of `text` the caller may read (see the module docstring)."""
    chosen = _kinds(kinds)
    if not 1 <= limit_per_kind <= MAX_LIMIT:
        raise ValidationError("limit", f"must be between 1 and {MAX_LIMIT}")
    needle = " ".join((text or "").split())
    if len(needle) > MAX_TEXT:
        raise ValidationError("search", f"must be at most {MAX_TEXT} characters")
    if not needle:
        return SearchResults(text="", mode="empty")
    if is_email(needle):
        mode, rows = "email", _call("", needle, [], [], chosen, limit_per_kind)
    elif is_phone(needle):
        phones, suffixes = phone_keys(needle, region)
        mode, rows = "phone", _call("", None, phones, suffixes, chosen, limit_per_kind)
    else:
        mode, rows = "name", _call(needle, None, [], [], chosen, limit_per_kind)
    by_kind: dict[str, list[Hit]] = {}
    for r in rows:
        hit = Hit(r[0], r[1], r[2], r[3], r[4], r[5], r[6], float(r[7]))
        by_kind.setdefault(r[0], []).append(hit)
    groups = [
        Group(k, by_kind[k][:limit_per_kind], len(by_kind[k]) > limit_per_kind)
        for k in KINDS
        if by_kind.get(k)
    ]
    # The group with the best match first ("erik berg": the contacts named so before the
    # companies that merely look like it); equal best matches keep the KINDS order.
    groups.sort(key=lambda g: min((h.rank, -h.score) for h in g.hits))
    return SearchResults(text=needle, mode=mode, groups=groups)


def _cancelled(exc: BaseException) -> bool:
    from db.services._pgerrors import original

    return isinstance(original(exc), psycopg2.errors.QueryCanceled)


class Searcher:
    """Searches where only the newest counts (a search box): a new search cancels the one
    still running, and a superseded search returns None.

    Each call runs on the calling thread's pooled connection; `cancel()` sends PostgreSQL a
    cancel request for the statement that connection is running (psycopg2's cancel is safe
    from another thread). The connection is forgotten, under the lock, before the call
    returns, so a late cancel never reaches whatever the connection runs next for someone
    else. Searches that were superseded before they started do not run at all."""

    def __init__(self, search_fn=None) -> None:
        self._lock = threading.Lock()
        self._seq = 0
        self._running: tuple[int, object] | None = None
        self._search = search_fn or search
        self.cancelled = 0  # how many running searches were cancelled (tests, benchmarks)

    def next_seq(self) -> int:
        """Claim the next sequence number and cancel whatever is running (from the UI)."""
        with self._lock:
            self._seq += 1
            self._cancel_running()
            return self._seq

    def _cancel_running(self) -> None:
        if self._running is not None:
            _, conn = self._running
            try:
                conn.cancel()  # type: ignore[attr-defined]
                self.cancelled += 1
            except Exception:  # noqa: BLE001 - the query ended meanwhile: nothing to cancel
                pass

    def current(self, seq: int) -> bool:
        with self._lock:
            return seq == self._seq

    def run(self, seq: int, text: str, **kwargs) -> SearchResults | None:
        """Search as number `seq` (from next_seq); None when a newer search superseded it."""
        conn = database.connection()
        with self._lock:
            if seq != self._seq:
                return None
            self._running = (seq, conn)
        try:
            return self._search(text, **kwargs)
        except Exception as exc:
            if _cancelled(exc) and not self.current(seq):
                return None
            raise
        finally:
            with self._lock:
                if self._running is not None and self._running[0] == seq:
                    self._running = None

    def search(self, text: str, **kwargs) -> SearchResults | None:
        """next_seq() and run() in one (when the caller is the only one searching)."""
        return self.run(self.next_seq(), text, **kwargs)


def filter_account_ids(
    text: str, after: tuple[str, int] | None, limit: int
) -> list[int]:
    """The account tree's filter: visible live accounts whose name contains `text`, in name
    order after the keyset `after` (filter_account_ids(), migration 0017)."""
    after_name, after_id = after if after else (None, None)
    rows = database.execute_sql(
        "SELECT filter_account_ids(%s, %s, %s, %s)", [text, after_name, after_id, limit]
    ).fetchall()
    return [r[0] for r in rows]
