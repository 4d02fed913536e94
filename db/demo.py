"""Realistic, deterministic demo data: the demo workspace and the benchmark dataset.

`load()` fills an EMPTY migrated database (run as the installer, a superuser). The same seed
gives the same rows: small things (users, accounts, phones, relationships) are generated in
Python from Faker name pools with a seeded `random.Random` and streamed with COPY; the bulk
(contacts, emails, activities, opportunities, cases) is generated set-based in SQL, where every
random choice is a hash of (row key, seed), so it does not depend on execution order.

At `scale=1.0` this is the dataset of BENCHMARKS.md: 100k accounts, 1M contacts, 2M phones,
~1.5M emails, 5M activities (one account with 50k), 200k opportunities (20k open), 20k cases,
50 users in 8 teams. See docs/demo-data.md.

As a superuser the loader sets `session_replication_role = replica` for its one transaction
(skipping foreign-key and audit/notify triggers: the rows are consistent by construction) and
rebuilds the big tables' secondary indexes after the load instead of maintaining them per row.
"""

from __future__ import annotations

import functools
import random
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

import psycopg2
from psycopg2 import sql

from db import migrate
from db.bootstrap import ensure_login
from db.errors import SchemaError, SwitchboardError

DEFAULT_SCALE = 0.01
DEFAULT_SEED = 1984
Progress = Callable[[str], object]

# Tables whose secondary indexes are rebuilt after the load (superuser only).
_BULK_TABLES = ("account", "contact", "contact_phone", "contact_email", "contact_relationship",
                "activity", "opportunity", "support_case", "campaign_member")  # fmt: skip


class DatabaseNotEmpty(SwitchboardError):
    """Demo data goes only into an empty database."""


@dataclass(frozen=True)
class Locale:
    faker: str
    country: str
    language: str
    currency: str
    tld: str
    mail: tuple[str, ...]
    weight: float


LOCALES = (
    Locale("sv_SE", "Sweden", "sv", "SEK", "se", ("telia.com", "gmail.com", "outlook.com"), 0.3),
    Locale("de_DE", "Germany", "de", "EUR", "de", ("web.de", "gmx.de", "gmail.com"), 0.25),
    Locale("en_GB", "United Kingdom", "en", "GBP", "co.uk", ("btinternet.com", "gmail.com"), 0.15),
    Locale("en_US", "United States", "en", "USD", "com", ("gmail.com", "yahoo.com"), 0.2),
    Locale("ja_JP", "Japan", "ja", "JPY", "co.jp", ("yahoo.co.jp", "docomo.ne.jp"), 0.1),
)
SE, DE, GB, US, JP = range(5)
_TEAMS_FULL = [("Global Sales", None), ("Key Accounts", "Global Sales"),
               ("Nordics", "Global Sales"), ("DACH", "Global Sales"),
               ("UK & Ireland", "Global Sales"), ("North America", "Global Sales"),
               ("Japan", "Global Sales"), ("Customer Care", None)]  # fmt: skip
_TEAM_OF_LOCALE = {SE: "Nordics", DE: "DACH", GB: "UK & Ireland", US: "North America",
                   JP: "Japan"}  # fmt: skip
_INDUSTRIES = [("Manufacturing", "3569"), ("Retail", "5311"), ("Software", "7372"),
               ("Banking", "6021"), ("Insurance", "6311"), ("Logistics", "4213"),
               ("Healthcare", "8062"), ("Telecommunications", "4813"), ("Energy", "4911"),
               ("Construction", "1542"), ("Consulting", "8742"), ("Food & Beverage", "2086"),
               ("Automotive", "3711"), ("Pharmaceuticals", "2834"), ("Education", "8211"),
               ("Public sector", "9111")]  # fmt: skip
_UNITS = ["Sales", "Service", "Logistics", "R&D", "Finance", "Procurement", "Retail",
          "Manufacturing", "Marketing", "IT", "Operations", "Legal"]  # fmt: skip
_TITLES = [("Chief Executive Officer", "Management", "decision_maker"),
           ("Chief Financial Officer", "Finance", "economic_buyer"),
           ("Head of Procurement", "Procurement", "economic_buyer"),
           ("Purchasing Manager", "Procurement", "influencer"),
           ("IT Director", "IT", "decision_maker"), ("Systems Engineer", "IT", "technical"),
           ("Sales Manager", "Sales", "champion"), ("Account Executive", "Sales", "user"),
           ("Office Manager", "Administration", "gatekeeper"),
           ("Executive Assistant", "Management", "gatekeeper"),
           ("Marketing Director", "Marketing", "decision_maker"),
           ("Marketing Coordinator", "Marketing", "user"),
           ("Head of Operations", "Operations", "influencer"),
           ("Operations Analyst", "Operations", "user"),
           ("Customer Service Lead", "Service", "champion"),
           ("Controller", "Finance", "influencer"), ("Legal Counsel", "Legal", "influencer"),
           ("HR Business Partner", "HR", "other"), ("Project Manager", "Operations", "user"),
           ("Technical Architect", "IT", "technical")]  # fmt: skip
_PUBLIC = [["{} kommun", "{} stadsbibliotek", "Räddningstjänsten {}", "Vårdcentralen {}"],
           ["Stadtverwaltung {}", "Stadtwerke {}", "Stadtbibliothek {}", "Finanzamt {}"],
           ["{} City Council", "{} Public Library", "{} Fire Service", "{} Health Centre"],
           ["{} City Hall", "{} Public Library", "{} Fire Department", "{} Water Authority"],
           ["{}役所", "{}図書館", "{}消防署", "{}保健所"]]  # fmt: skip
_TRANSLIT = str.maketrans({"ß": "ss", "ø": "o", "æ": "ae", "Ø": "o", "Æ": "ae", "ł": "l"})


def _ascii(text: str) -> str:
    flat = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return re.sub(r"[^a-z]", "", flat.encode("ascii", "ignore").decode().lower()) or "x"


# -- pools of names made by Faker -------------------------------------------------------------


@dataclass
class Pools:
    first: list[list[tuple[str, str]]] = field(default_factory=list)  # per locale: (name, ascii)
    last: list[list[tuple[str, str]]] = field(default_factory=list)
    company: list[list[str]] = field(default_factory=list)
    place: list[list[tuple[str, str, str, str]]] = field(default_factory=list)


@functools.lru_cache(maxsize=4)
def make_pools(seed: int, size: int = 300) -> Pools:
    """Names, companies and addresses per locale (Faker, seeded: the same seed, the same pools)."""
    from faker import Faker

    pools = Pools()
    for i, loc in enumerate(LOCALES):
        fake = Faker(loc.faker)
        fake.seed_instance(seed * 10 + i)
        if loc.faker == "ja_JP":
            firsts = [fake.first_name_pair() for _ in range(size)]
            lasts = [fake.last_name_pair() for _ in range(size)]
            pools.first.append([(k, _ascii(r)) for k, _kana, r in firsts])
            pools.last.append([(k, _ascii(r)) for k, _kana, r in lasts])
        else:
            pools.first.append([(n, _ascii(n)) for n in (fake.first_name() for _ in range(size))])
            pools.last.append([(n, _ascii(n)) for n in (fake.last_name() for _ in range(size))])
        pools.company.append([fake.company() for _ in range(size * 2)])
        places = []
        for _ in range(size):
            region = fake.administrative_unit() if hasattr(fake, "administrative_unit") else None
            street = fake.street_address().replace("\n", ", ")
            places.append((street, fake.postcode(), fake.city(), region))
        pools.place.append(places)
    return pools


# -- phone numbers whose E.164 form is known by construction ------------------------------------


def phone_number(loc: int, mobile: bool, k: int, international: bool) -> tuple[str, str]:
    """(raw as typed, E.164) for key k; distinct keys give distinct numbers per locale and kind."""
    if loc == US:
        npa = ("212", "415", "312", "617", "206")[k % 5]
        s = str(2_000_000 + (k * 7919 + 1234) % 8_000_000)
        raw = f"+1 {npa}-{s[:3]}-{s[3:]}" if international else f"({npa}) {s[:3]}-{s[3:]}"
        return raw, f"+1{npa}{s}"
    digits = 7 if loc == SE else 8
    s = str(10 ** (digits - 1) + (k * 7919 + 4321) % (9 * 10 ** (digits - 1)))
    if loc == SE:
        area = "70" if mobile else "8"
        grouped = f"{s[:3]} {s[3:5]} {s[5:]}"
        return (f"+46 {area} {grouped}" if international else f"0{area}-{grouped}"), f"+46{area}{s}"
    if loc == DE:
        area = "151" if mobile else "30"
        return (f"+49 {area} {s}" if international else f"0{area} {s}"), f"+49{area}{s}"
    if loc == GB:
        if mobile:
            raw = f"+44 77{s[:2]} {s[2:]}" if international else f"077{s[:2]} {s[2:]}"
            return raw, f"+4477{s}"
        raw = f"+44 20 {s[:4]} {s[4:]}" if international else f"020 {s[:4]} {s[4:]}"
        return raw, f"+4420{s}"
    area = "90" if mobile else "3"
    grouped = f"{s[:4]}-{s[4:]}"
    return (f"+81 {area}-{grouped}" if international else f"0{area}-{grouped}"), f"+81{area}{s}"


# -- COPY from a generator ---------------------------------------------------------------------


def _copy_value(value: object) -> str:
    if value is None:
        return "\\N"
    text = str(value)
    if any(c in text for c in "\\\t\n\r"):
        text = (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                .replace("\r", "\\r"))  # fmt: skip
    return text


class RowStream:
    """A file-like object over an iterator of tuples in COPY text format (memory bounded)."""

    def __init__(self, rows: Iterable[tuple]) -> None:
        self._rows: Iterator[tuple] = iter(rows)
        self._buf = ""
        self.count = 0

    def read(self, size: int = -1) -> str:
        parts, n = [self._buf], len(self._buf)
        for row in self._rows:
            line = "\t".join(_copy_value(v) for v in row) + "\n"
            parts.append(line)
            n += len(line)
            self.count += 1
            if 0 <= size <= n:
                break
        data = "".join(parts)
        if size < 0:
            self._buf = ""
            return data
        self._buf = data[size:]
        return data[:size]

    readline = read


def copy_rows(cur, table: str, columns: Iterable[str], rows: Iterable[tuple]) -> int:
    stream = RowStream(rows)
    cols = ", ".join(columns)
    cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN", stream, size=1 << 20)
    return stream.count


# -- the plan: users, teams and the account tree, made in Python ------------------------------


@dataclass(slots=True)
class Acc:
    id: int
    parent: int | None
    kind: str
    loc: int
    level: int
    base: str
    name: str = ""
    contacts: int = 0
    c_start: int = 0
    owner: int | None = None
    team: int | None = None
    domain: str | None = None


@dataclass
class Person:
    username: str
    display: str
    role: str
    team: str | None
    email: str
    id: int = 0


def _pick_loc(rng: random.Random) -> int:
    return rng.choices(range(len(LOCALES)), weights=[loc.weight for loc in LOCALES])[0]


def plan_people(scale: float, pools: Pools, rng: random.Random) -> tuple[list, list[Person]]:
    """Teams (name, parent) and users: one admin, a manager per team, agents, reps."""
    n_users = max(6, round(50 * scale))
    teams = _TEAMS_FULL if n_users >= 16 else [
        ("Global Sales", None), ("Nordics", "Global Sales"), ("Customer Care", None)]
    sales = [t for t, _ in teams if t not in ("Customer Care",)]
    roles: list[tuple[str, str | None]] = [("admin", "Global Sales")]
    roles += [("manager", t) for t, _ in teams]
    n_agents = max(1, round(n_users * 0.2))
    roles += [("agent", "Customer Care")] * n_agents
    reps_teams = [t for t in sales if t != "Global Sales"] or sales
    i = 0
    while len(roles) < n_users:
        roles.append(("rep", reps_teams[i % len(reps_teams)]))
        i += 1
    people, seen = [], set()
    for role, team in roles:
        loc = _pick_loc(rng)
        first, last = rng.choice(pools.first[loc]), rng.choice(pools.last[loc])
        username = f"{first[1]}.{last[1]}"[:60]
        while username in seen:
            username = f"{username[:57]}{rng.randrange(10)}"
        seen.add(username)
        display = f"{last[0]} {first[0]}" if loc == JP else f"{first[0]} {last[0]}"
        people.append(Person(username, display, role, team, f"{username}@switchboard.example"))
    return teams, people


def plan_accounts(scale: float, pools: Pools, rng: random.Random) -> list[Acc]:
    """The account forest: 3 holdings with 1,000+ children at scale 1, a ~5,000-account group,
    chains 6 levels deep, many small groups and standalone companies, schools, households."""
    n_total = max(40, round(100_000 * scale))
    accs: list[Acc] = []
    used: set[str] = set()
    schools: dict[str, int] = {}

    def add(parent: int | None, kind: str, loc: int, base: str | None = None) -> int:
        up = accs[parent - 1] if parent else None
        acc = Acc(len(accs) + 1, parent, kind, loc, up.level + 1 if up else 1,
                  base or (up.base if up else rng.choice(pools.company[loc])))  # fmt: skip
        city = rng.choice(pools.place[loc])[2]
        if up is None:
            acc.name = acc.base + (" Holding" if kind == "holding" else "")
            if acc.name in used:  # a second firm of that name: real ones add their town
                acc.base = f"{acc.base} {city}"
                acc.name = acc.base + (" Holding" if kind == "holding" else "")
            used.add(acc.name)
        elif kind == "subsidiary":
            acc.name = f"{acc.base} {city}"
        else:
            acc.name = f"{acc.base} {rng.choice(_UNITS)} {city}"
        accs.append(acc)
        return acc.id

    for count in (1500, 1200, 1050):  # holdings with 1,000+ children at scale 1
        root = add(None, "holding", _pick_loc(rng))
        for _ in range(max(3, round(count * scale))):
            add(root, "subsidiary", _pick_loc(rng), accs[root - 1].base)
    target = max(15, int(5011 * scale))  # one group of ~5,000 accounts for rollups
    b1 = max(2, round(10 * scale ** (1 / 3)))
    b3 = max(1, (target - 1 - b1 - b1 * b1) // (b1 * b1))
    root = add(None, "holding", SE)
    for _ in range(b1):
        sub = add(root, "subsidiary", _pick_loc(rng))
        for _ in range(b1):
            reg = add(sub, "subsidiary", accs[sub - 1].loc)
            for _ in range(b3):
                add(reg, "division", accs[reg - 1].loc)
    for _ in range(max(2, round(40 * scale))):  # chains 6 levels deep
        parent = None
        for kind in ("holding", "subsidiary", "subsidiary", "division", "division", "division"):
            loc = accs[parent - 1].loc if parent else _pick_loc(rng)
            node = add(parent, kind, loc)
            for _ in range(rng.randrange(3) if parent else 0):
                add(parent, "division", loc)
            parent = node
    while len(accs) < 0.35 * n_total:  # ordinary groups
        loc = _pick_loc(rng)
        root = add(None, "holding", loc)
        for _ in range(rng.randint(2, 25)):
            sub = add(root, "subsidiary", loc)
            if rng.random() < 0.2:
                for _ in range(rng.randint(1, 6)):
                    add(sub, "division", loc)
    kinds = ["company", "school", "public_body", "household"]
    while len(accs) < n_total:
        loc = _pick_loc(rng)
        kind = rng.choices(kinds, weights=[85, 5, 4, 6])[0]
        place = rng.choice(pools.place[loc])
        if kind == "company":
            add(None, kind, loc)
            continue
        last = rng.choice(pools.last[loc])[0]
        name = {
            "school": {SE: f"{place[2]} skola", DE: f"Gymnasium {place[2]}",
                       JP: f"{place[2]}高等学校"}.get(loc, f"{place[2]} Academy"),
            "public_body": rng.choice(_PUBLIC[loc]).format(place[2]),
            "household": {SE: f"Familjen {last}", DE: f"Familie {last}",
                          JP: f"{last}家"}.get(loc, f"The {last} family"),
        }[kind]  # fmt: skip
        if kind == "school":  # schools of one town are numbered
            schools[name] = schools.get(name, 0) + 1
            name = f"{name} {schools[name]}" if schools[name] > 1 else name
        add(None, kind, loc, name)
        accs[-1].name = name
    return accs


def assign_contacts(accs: list[Acc], n_contacts: int, rng: random.Random) -> list[tuple]:
    """Contacts per account (contiguous id blocks) and the individuals without an account.

    Returns the blocks of individuals as (loc, c_start, count)."""
    spans = {"holding": (5, 25), "company": (2, 20), "subsidiary": (2, 15),
             "division": (1, 8), "school": (5, 15), "public_body": (3, 12)}  # fmt: skip
    weights = [rng.randint(*spans.get(a.kind, (2, 4))) for a in accs]
    fixed = sum(w for a, w in zip(accs, weights, strict=True) if a.kind == "household")
    big = max(20, round(n_contacts * 0.002))  # the account with the 50k activities
    scalable = sum(w for a, w in zip(accs, weights, strict=True) if a.kind != "household")
    factor = max(0.1, (0.97 * n_contacts - fixed - big) / max(1, scalable))
    start = 1
    for acc, w in zip(accs, weights, strict=True):
        acc.contacts = w if acc.kind == "household" else max(1, round(w * factor))
        if acc.id == 1:
            acc.contacts = big
        acc.c_start = start
        start += acc.contacts
    left = max(len(LOCALES), n_contacts - (start - 1))
    blocks = []
    for loc in range(len(LOCALES)):
        count = left // len(LOCALES) + (1 if loc < left % len(LOCALES) else 0)
        blocks.append((loc, start, count))
        start += count
    return blocks


def _team_of(acc: Acc, roots: list[Acc], teams: dict[str, int], big_roots: int) -> int:
    root = roots[acc.id - 1]
    if root.id <= big_roots and "Key Accounts" in teams:
        return teams["Key Accounts"]
    return teams.get(_TEAM_OF_LOCALE[root.loc], teams.get("Nordics", teams["Global Sales"]))


# -- SQL, set-based: every choice is pg_temp.rnd(row key, salt), a hash of (key, salt, seed) ---

_FUNCTIONS = """
CREATE FUNCTION pg_temp.rnd(k bigint, salt int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $f$
    SELECT ((hashint8extended(k, salt::bigint * 1000003 + {seed}) >> 11)
            & 9007199254740991)::float8 / 9007199254740992.0
$f$;
CREATE FUNCTION pg_temp.ri(k bigint, salt int, n int) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $f$ SELECT floor(pg_temp.rnd(k, salt) * n)::int $f$;
CREATE TEMP TABLE demo_loc (loc int PRIMARY KEY, country text, language text, mail text[])
    ON COMMIT DROP;
CREATE TEMP TABLE demo_first (loc int, i int, name text, ascii text, PRIMARY KEY (loc, i))
    ON COMMIT DROP;
CREATE TEMP TABLE demo_last (loc int, i int, name text, ascii text, PRIMARY KEY (loc, i))
    ON COMMIT DROP;
CREATE TEMP TABLE demo_place (loc int, i int, street text, postal text, city text, region text,
    PRIMARY KEY (loc, i)) ON COMMIT DROP;
CREATE TEMP TABLE demo_title (i int PRIMARY KEY, title text, department text, job_role text)
    ON COMMIT DROP;
CREATE TEMP TABLE demo_acc (an int, sn int, acc_id bigint, loc int, kind text, owner_id bigint,
    team_id bigint, c_start bigint, c_count int, domain text, family text, family_ascii text)
    ON COMMIT DROP;
"""

_CONTACT_FROM = """
FROM demo_acc a
CROSS JOIN LATERAL generate_series(a.c_start, a.c_start + a.c_count - 1) g
CROSS JOIN LATERAL (SELECT CASE WHEN a.kind = 'household' THEN a.c_start ELSE g END AS hk) h
JOIN demo_loc loc ON loc.loc = a.loc
JOIN demo_first f ON f.loc = a.loc AND f.i = pg_temp.ri(g, 1, %(nf)s)
JOIN demo_last l ON l.loc = a.loc AND l.i = pg_temp.ri(h.hk, 2, %(nl)s)
"""

_CONTACTS = """
INSERT INTO contact (id, account_id, first_name, last_name, job_title, job_role, department,
    birthday, spouse_name, interests, street, postal_code, city, region, country,
    preferred_language, do_not_call, do_not_email, owner_id, team_id, created_at, updated_at)
OVERRIDING SYSTEM VALUE
SELECT g, a.acc_id, f.name, coalesce(a.family, l.name),
    CASE WHEN a.domain IS NOT NULL THEN t.title END,
    CASE WHEN a.domain IS NOT NULL THEN t.job_role END,
    CASE WHEN a.domain IS NOT NULL THEN t.department END,
    CASE WHEN pg_temp.rnd(g, 5) < 0.4 THEN date '1950-01-01' + pg_temp.ri(g, 6, 18000) END,
    CASE WHEN a.domain IS NOT NULL AND pg_temp.rnd(g, 7) < 0.1 THEN sp.name END,
    CASE WHEN pg_temp.rnd(g, 8) < 0.15 THEN (ARRAY['golf', 'sailing', 'football', 'opera',
        'hiking', 'wine', 'chess', 'running', 'photography', 'jazz'])[1 + pg_temp.ri(g, 9, 10)]
    END,
    p.street, p.postal, p.city, p.region, loc.country, loc.language,
    pg_temp.rnd(g, 10) < 0.02, pg_temp.rnd(g, 11) < 0.03, a.owner_id, a.team_id,
    %(anchor)s::timestamptz - make_interval(days => 730 + pg_temp.ri(g, 13, 1500)),
    %(anchor)s::timestamptz - make_interval(days => pg_temp.ri(g, 14, 700))
""" + _CONTACT_FROM + """
JOIN demo_first sp ON sp.loc = a.loc AND sp.i = pg_temp.ri(g, 12, %(nf)s)
JOIN demo_title t ON t.i = pg_temp.ri(g, 3, %(nt)s)
JOIN demo_place p ON p.loc = a.loc AND p.i = pg_temp.ri(h.hk, 4, %(np)s)
"""

_EMAILS = """
INSERT INTO contact_email (contact_id, kind, email, is_primary, position, created_at)
SELECT g, e.kind, e.email, e.pos = 0 OR a.domain IS NULL,
    CASE WHEN a.domain IS NULL THEN 0 ELSE e.pos END, %(anchor)s::timestamptz
""" + _CONTACT_FROM + """
CROSS JOIN LATERAL (VALUES
    (0, 'work', CASE WHEN a.domain IS NOT NULL
        THEN f.ascii || '.' || coalesce(a.family_ascii, l.ascii) || '@' || a.domain END),
    (1, 'personal', CASE WHEN a.domain IS NULL OR pg_temp.rnd(g, 20) < 0.5
        THEN f.ascii || '.' || coalesce(a.family_ascii, l.ascii) || pg_temp.ri(g, 21, 100)
             || '@' || loc.mail[1 + pg_temp.ri(g, 22, cardinality(loc.mail))] END)
) e(pos, kind, email)
WHERE e.email IS NOT NULL
"""

_ACTIVITY_SELECT = """
INSERT INTO activity (client_uuid, kind, direction, subject, body, occurred_at,
    duration_seconds, outcome, due_at, completed_at, author_id, assignee_id, account_id,
    contact_id, created_at, updated_at)
SELECT md5(%(seed)s || ':' || k)::uuid, kind,
    CASE WHEN kind IN ('call', 'email', 'sms')
         THEN CASE WHEN pg_temp.rnd(k, 36) < 0.5 THEN 'in' ELSE 'out' END END,
    CASE kind
        WHEN 'call' THEN (ARRAY['Intro call', 'Follow-up call', 'Pricing question',
            'Renewal call', 'Support callback', 'Check-in'])[1 + pg_temp.ri(k, 40, 6)]
        WHEN 'email' THEN (ARRAY['Proposal sent', 'Meeting notes', 'Quote request',
            'Contract draft', 'Newsletter reply', 'Invoice query'])[1 + pg_temp.ri(k, 40, 6)]
        WHEN 'meeting' THEN (ARRAY['Quarterly review', 'Product demo', 'Kick-off',
            'Site visit', 'Workshop'])[1 + pg_temp.ri(k, 40, 5)]
        WHEN 'task' THEN (ARRAY['Send proposal', 'Call back', 'Prepare demo',
            'Update contract', 'Book meeting'])[1 + pg_temp.ri(k, 40, 5)]
        WHEN 'note' THEN (ARRAY['Budget approved for Q3', 'New decision maker',
            'Prefers email', 'Competitor evaluation'])[1 + pg_temp.ri(k, 40, 4)]
        ELSE initcap(kind) END,
    CASE WHEN pg_temp.rnd(k, 41) < 0.4 THEN (ARRAY[
        'Discussed the renewal; they want a multi-year price.',
        'Asked for references in their industry.',
        'Left a voicemail, will try again on Thursday.',
        'Interested in the new reporting module.',
        'Escalated a delivery problem to logistics.',
        'Agreed next steps and a date for the demo.',
        'Needs approval from finance before signing.',
        'Happy with the service, open to an upsell.'])[1 + pg_temp.ri(k, 42, 8)] END,
    occurred,
    CASE WHEN kind = 'call' AND r < 0.55 THEN 30 + pg_temp.ri(k, 38, 1800)
         WHEN kind = 'meeting' THEN 1800 + 900 * pg_temp.ri(k, 39, 5) END,
    CASE WHEN kind = 'call' THEN CASE WHEN r < 0.55 THEN 'reached' WHEN r < 0.75 THEN 'voicemail'
        WHEN r < 0.9 THEN 'no_answer' WHEN r < 0.95 THEN 'busy' WHEN r < 0.99 THEN 'callback'
        ELSE 'wrong_number' END
         WHEN kind = 'meeting' THEN 'completed' END,
    CASE WHEN kind = 'task' THEN occurred + make_interval(days => 1 + pg_temp.ri(k, 43, 14)) END,
    CASE WHEN kind = 'task' AND occurred + make_interval(days => 1 + pg_temp.ri(k, 43, 14))
              < %(anchor)s::timestamptz AND r < 0.9
         THEN occurred + make_interval(days => 1 + pg_temp.ri(k, 43, 14))
         WHEN kind <> 'task' THEN occurred END,
    author, CASE WHEN kind = 'task' THEN author END, account_id, contact_id, occurred, occurred
FROM (
    SELECT k, contact_id, account_id, pg_temp.rnd(k, 37) AS r,
        %(anchor)s::timestamptz - make_interval(secs => pg_temp.rnd(k, 35) * 730 * 86400)
            AS occurred,
        CASE WHEN pg_temp.rnd(k, 33) < 0.7 AND owner_id IS NOT NULL THEN owner_id
             ELSE (%(agents)s::bigint[])[1 + pg_temp.ri(k, 34, %(n_agents)s)] END AS author,
        CASE WHEN r1 < 0.40 THEN 'call' WHEN r1 < 0.65 THEN 'email'
             WHEN r1 < 0.75 THEN 'meeting' WHEN r1 < 0.85 THEN 'note' WHEN r1 < 0.95 THEN 'task'
             WHEN r1 < 0.98 THEN 'sms' WHEN r1 < 0.99 THEN 'letter' ELSE 'webinar' END AS kind
    FROM (SELECT *, pg_temp.rnd(k, 31) AS r1 FROM ({source}) s0) s1
) x
"""

_ACTIVITY_PER_CONTACT = """
    SELECT c.id * 64 + s AS k, c.id AS contact_id, c.account_id, c.owner_id
    FROM contact c CROSS JOIN LATERAL generate_series(1, pg_temp.ri(c.id, 30, %(span)s)) s
"""

_ACTIVITY_BIG_ACCOUNT = """
    SELECT 1000000000000 + g AS k, c.id AS contact_id, c.account_id, c.owner_id
    FROM generate_series(1, %(n_big)s) g
    JOIN contact c ON c.id = %(c_start)s + pg_temp.ri(g, 32, %(c_count)s)
"""

_OPPORTUNITIES = """
INSERT INTO opportunity (account_id, primary_contact_id, name, amount, currency, stage_id,
    probability, expected_close, forecast_category, is_closed, is_won, closed_at, lost_reason,
    campaign_id, owner_id, team_id, created_at, updated_at)
SELECT a.acc_id, a.c_start + pg_temp.ri(g, 41, a.c_count),
    ac.name || ' – ' || (ARRAY['Platform licence', 'Support renewal', 'Consulting', 'Training',
        'Hardware refresh', 'Expansion', 'Pilot project', 'Managed service'])
        [1 + pg_temp.ri(g, 46, 8)],
    round((500 * exp(pg_temp.rnd(g, 44) * 6))::numeric, -1), ac.currency, st.id,
    st.probability, o.close_on,
    CASE WHEN NOT o.open THEN 'closed' WHEN st.position <= 2 THEN 'pipeline'
         WHEN st.position = 3 THEN 'best_case' ELSE 'commit' END,
    NOT o.open, st.is_won, CASE WHEN NOT o.open THEN o.close_on::timestamptz END,
    CASE WHEN st.is_lost THEN (ARRAY['Price', 'Lost to competitor', 'No budget', 'No decision',
        'Timing'])[1 + pg_temp.ri(g, 47, 5)] END,
    CASE WHEN pg_temp.rnd(g, 48) < 0.15
         THEN (%(campaigns)s::bigint[])[1 + pg_temp.ri(g, 49, %(n_campaigns)s)] END,
    a.owner_id, a.team_id,
    o.close_on - make_interval(days => 30 + pg_temp.ri(g, 45, 170)),
    o.close_on - make_interval(days => pg_temp.ri(g, 45, 30))
FROM generate_series(1, %(n)s) g
CROSS JOIN LATERAL (SELECT mod(g, 10) = 0 AS open,
    CASE WHEN mod(g, 10) = 0 THEN %(anchor)s::date + pg_temp.ri(g, 43, 180)
         ELSE %(anchor)s::date - pg_temp.ri(g, 43, 730) END AS close_on) o
JOIN demo_acc a ON a.sn = 1 + pg_temp.ri(g, 40, %(n_acc)s)
JOIN account ac ON ac.id = a.acc_id
JOIN stage st ON st.pipeline_id = %(pipeline)s AND st.position = CASE
    WHEN o.open THEN 1 + pg_temp.ri(g, 42, 4) WHEN pg_temp.rnd(g, 42) < 0.4 THEN 5 ELSE 6 END
"""

_CASES = """
INSERT INTO support_case (account_id, contact_id, subject, status, priority, assignee_id,
    due_at, resolution, closed_at, owner_id, team_id, created_at, updated_at)
SELECT a.acc_id, a.c_start + pg_temp.ri(g, 51, a.c_count),
    (ARRAY['Cannot log in', 'Invoice is wrong', 'Delivery is late', 'Product arrived damaged',
        'Question about the contract', 'Request for a callback', 'Password reset',
        'Change of address', 'Feature request', 'Outage report'])[1 + pg_temp.ri(g, 54, 10)],
    x.status,
    (ARRAY['low', 'normal', 'normal', 'normal', 'high', 'urgent'])[1 + pg_temp.ri(g, 55, 6)],
    x.agent, x.created + interval '3 days',
    CASE WHEN x.status IN ('resolved', 'closed') THEN 'Solved on the phone' END,
    CASE WHEN x.status IN ('resolved', 'closed')
         THEN x.created + make_interval(hours => 1 + pg_temp.ri(g, 56, 200)) END,
    x.agent, %(team)s, x.created, x.created
FROM generate_series(1, %(n)s) g
JOIN demo_acc a ON a.an = 1 + pg_temp.ri(g, 50, %(n_acc)s)
CROSS JOIN LATERAL (SELECT
    %(anchor)s::timestamptz - make_interval(mins => pg_temp.ri(g, 52, 730 * 24 * 60)) AS created,
    (%(agents)s::bigint[])[1 + pg_temp.ri(g, 57, %(n_agents)s)] AS agent,
    CASE WHEN pg_temp.rnd(g, 53) < 0.1 THEN 'new' WHEN pg_temp.rnd(g, 53) < 0.25 THEN 'open'
         WHEN pg_temp.rnd(g, 53) < 0.33 THEN 'waiting' WHEN pg_temp.rnd(g, 53) < 0.6
         THEN 'resolved' ELSE 'closed' END AS status) x
"""

_MEMBERS = """
INSERT INTO campaign_member (campaign_id, contact_id, status, responded_at, created_at, updated_at)
SELECT %(campaign)s, 1 + mod(%(offset)s + i * %(stride)s, %(n_contacts)s), m.status,
    CASE WHEN m.status IN ('responded', 'attended') THEN %(starts)s::timestamptz
        + make_interval(days => pg_temp.ri(%(campaign)s * 10000000 + i, 61, 30)) END,
    %(starts)s::timestamptz, %(starts)s::timestamptz
FROM generate_series(0, %(members)s - 1) i
CROSS JOIN LATERAL (SELECT (ARRAY['invited', 'sent', 'sent', 'responded', 'attended',
    'declined', 'unsubscribed'])[1 + pg_temp.ri(%(campaign)s * 10000000 + i, 60, 7)] AS status) m
"""


class _Loader:
    """One load, inside the caller's transaction."""

    def __init__(self, cur, scale: float, seed: int, today: date, progress: Progress) -> None:
        self.cur, self.scale, self.seed, self.progress = cur, scale, seed, progress
        self.anchor = f"{today.isoformat()} 12:00:00+00"
        self.today = today
        self.rng = random.Random(seed)
        self.started = time.perf_counter()

    def step(self, text: str) -> None:
        self.progress(f"  [{time.perf_counter() - self.started:6.1f} s] {text}")

    def execute(self, query: str, params: dict | None = None) -> None:
        self.cur.execute(query, params)

    # -- steps --------------------------------------------------------------------------------

    def run(self, schema: str) -> None:
        self.step("making name pools (Faker: sv_SE, de_DE, en_GB, en_US, ja_JP)")
        self.pools = make_pools(self.seed)
        self.execute(_FUNCTIONS.replace("{seed}", str(self.seed)))
        self.copy_pools()
        self.step("users and teams")
        self.people(schema)
        self.step("accounts")
        self.accounts()
        self.step("contacts")
        params = {"anchor": self.anchor, "nf": len(self.pools.first[0]),
                  "nl": len(self.pools.last[0]), "nt": len(_TITLES),
                  "np": len(self.pools.place[0])}  # fmt: skip
        self.execute(_CONTACTS, params)
        self.step("emails")
        self.execute(_EMAILS, params)
        self.step("phones")
        copy_rows(self.cur, "contact_phone",
                  ("contact_id", "kind", "raw", "e164", "is_primary", "position", "created_at"),
                  self.phone_rows())  # fmt: skip
        self.step("relationships")
        self.relationships()
        self.step("campaigns")
        self.campaigns()
        self.step("opportunities")
        self.opportunities()
        self.step("support cases")
        self.execute(_CASES, {"anchor": self.anchor, "n": max(20, round(20_000 * self.scale)),
                              "n_acc": len(self.accs), "agents": self.agents,
                              "n_agents": len(self.agents), "team": self.care_team})  # fmt: skip
        self.step("activities")
        self.activities()
        for table in ("account", "contact"):
            self.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT max(id) FROM {table}))")  # fmt: skip

    def copy_pools(self) -> None:
        p = self.pools
        copy_rows(self.cur, "demo_loc", ("loc", "country", "language", "mail"),
                  ((i, loc.country, loc.language, "{" + ",".join(loc.mail) + "}")
                   for i, loc in enumerate(LOCALES)))  # fmt: skip
        for table, pool in (("demo_first", p.first), ("demo_last", p.last)):
            copy_rows(self.cur, table, ("loc", "i", "name", "ascii"),
                      ((loc, i, n, a) for loc, names in enumerate(pool)
                       for i, (n, a) in enumerate(names)))  # fmt: skip
        copy_rows(self.cur, "demo_place", ("loc", "i", "street", "postal", "city", "region"),
                  ((loc, i, *place) for loc, places in enumerate(p.place)
                   for i, place in enumerate(places)))  # fmt: skip
        copy_rows(self.cur, "demo_title", ("i", "title", "department", "job_role"),
                  ((i, *t) for i, t in enumerate(_TITLES)))
        self.execute("ANALYZE demo_loc; ANALYZE demo_first; ANALYZE demo_last; "
                     "ANALYZE demo_place; ANALYZE demo_title")

    def people(self, schema: str) -> None:
        team_plan, self.persons = plan_people(self.scale, self.pools, self.rng)
        self.teams: dict[str, int] = {}
        for name, parent in team_plan:
            self.execute("SELECT id FROM team WHERE lower(name) = lower(%(n)s) "
                         "AND deleted_at IS NULL", {"n": name})  # fmt: skip
            row = self.cur.fetchone()
            if row is None:
                self.execute("INSERT INTO team (name, parent_id) VALUES (%(n)s, %(p)s) "
                             "RETURNING id", {"n": name, "p": self.teams.get(parent)})  # fmt: skip
                row = self.cur.fetchone()
            self.teams[name] = row[0]
        for person in self.persons:
            ensure_login(self.cur, schema, person.username, role=person.role,
                         display_name=person.display)  # fmt: skip
            self.execute("UPDATE app_user SET team_id = %(t)s, email = %(e)s, display_name = %(d)s,"
                         " role = %(r)s WHERE username = %(u)s RETURNING id",
                         {"t": self.teams.get(person.team or ""), "e": person.email,
                          "d": person.display, "r": person.role, "u": person.username})  # fmt: skip
            person.id = self.cur.fetchone()[0]
        for name, team_id in self.teams.items():
            manager = next(p.id for p in self.persons if p.role == "manager" and p.team == name)
            self.execute("UPDATE team SET manager_id = %(m)s WHERE id = %(t)s",
                         {"m": manager, "t": team_id})
        self.agents = [p.id for p in self.persons if p.role == "agent"]
        self.care_team = self.teams["Customer Care"]
        self.sellers: dict[int, list[int]] = {}
        for p in self.persons:
            if p.role in ("rep", "manager") and p.team in self.teams:
                self.sellers.setdefault(self.teams[p.team], []).append(p.id)

    def accounts(self) -> None:
        rng = self.rng
        self.accs = accs = plan_accounts(self.scale, self.pools, rng)
        self.individuals = assign_contacts(accs, max(100, round(1_000_000 * self.scale)), rng)
        self.n_contacts = self.individuals[-1][1] + self.individuals[-1][2] - 1
        roots: list[Acc] = []
        for acc in accs:
            roots.append(roots[acc.parent - 1] if acc.parent else acc)
        big_roots = 4  # three holdings with 1,000+ children and the ~5,000-account group
        owners: dict[int, int] = {}
        for acc in accs:
            acc.team = _team_of(acc, roots, self.teams, big_roots)
            team_sellers = self.sellers.get(acc.team) or self.sellers[self.teams["Global Sales"]]
            root_owner = owners.setdefault(roots[acc.id - 1].id, rng.choice(team_sellers))
            acc.owner = root_owner if rng.random() < 0.8 else rng.choice(team_sellers)
            if acc.kind != "household":
                root = roots[acc.id - 1]
                acc.domain = f"{_ascii(root.base)[:30]}.{LOCALES[root.loc].tld}"
        copy_rows(self.cur, "account", ("id", "name", "parent_id", "industry", "sic_code",
                  "employees", "annual_revenue", "currency", "website", "phone", "street",
                  "postal_code", "city", "region", "country", "tier", "lifecycle", "kind",
                  "owner_id", "team_id", "created_at", "updated_at"),
                  self.account_rows(roots))  # fmt: skip
        rows, an, sn = [], 0, 0
        for acc in accs:
            an += 1
            family = None
            if acc.kind == "household":
                family = acc.name.removeprefix("Familjen ").removeprefix("Familie ")
                family = family.removeprefix("The ").removesuffix(" family").removesuffix("家")
            sn += acc.kind != "household"
            rows.append((an, sn if acc.kind != "household" else None, acc.id, acc.loc, acc.kind,
                         acc.owner, acc.team, acc.c_start, acc.contacts, acc.domain, family,
                         _ascii(family) if family else None))  # fmt: skip
        self.n_sales_accounts = sn
        all_sellers = [i for ids in self.sellers.values() for i in ids]
        for loc, start, count in self.individuals:
            rows.append((None, None, None, loc, "individual", rng.choice(all_sellers), None,
                         start, count, None, None, None))  # fmt: skip
        copy_rows(self.cur, "demo_acc", ("an", "sn", "acc_id", "loc", "kind", "owner_id",
                  "team_id", "c_start", "c_count", "domain", "family", "family_ascii"), rows)
        self.execute("CREATE INDEX ON demo_acc (an); CREATE INDEX ON demo_acc (sn); "
                     "ANALYZE demo_acc")

    def account_rows(self, roots: list[Acc]) -> Iterator[tuple]:
        rng = random.Random(self.seed * 31 + 7)
        for acc in self.accs:
            loc = LOCALES[acc.loc]
            street, postal, city, region = rng.choice(self.pools.place[acc.loc])
            industry = sic = website = None
            employees = revenue = None
            if acc.kind == "school":
                industry, sic = "Education", "8211"
            elif acc.kind == "public_body":
                industry, sic = "Public sector", "9111"
            elif acc.kind != "household":
                root = roots[acc.id - 1]
                industry, sic = _INDUSTRIES[random.Random(root.id * 97 + self.seed).randrange(14)]
            if acc.kind != "household":
                website = f"https://www.{acc.domain}"
                employees = int(rng.lognormvariate(4, 1.6)) + 1
                revenue = f"{employees * rng.randint(80, 300) * 1000}.00"
            created = self.today.toordinal() - rng.randint(400, 3000)
            created_at = f"{date.fromordinal(created).isoformat()} 09:00:00+00"
            yield (acc.id, acc.name, acc.parent, industry, sic, employees, revenue,
                   loc.currency, website, phone_number(acc.loc, False, 4_000_000 + acc.id,
                                                       rng.random() < 0.5)[0],
                   street, postal, city, region, loc.country,
                   rng.choices(["A", "B", "C", None], weights=[1, 3, 5, 2])[0],
                   rng.choices(["prospect", "customer", "former", "partner"],
                               weights=[4, 5, 1, 0.5])[0],
                   acc.kind, acc.owner, acc.team, created_at, created_at)  # fmt: skip

    def _blocks(self) -> Iterator[tuple[int, int, int, str]]:
        for acc in self.accs:
            yield acc.loc, acc.c_start, acc.contacts, acc.kind
        for loc, start, count in self.individuals:
            yield loc, start, count, "individual"

    def phone_rows(self) -> Iterator[tuple]:
        """1-3 numbers per contact (2 on average), half typed nationally, half internationally."""
        rng = random.Random(self.seed * 7 + 1)
        created = self.anchor
        for loc, start, count, kind in self._blocks():
            private = kind in ("household", "individual")
            for cid in range(start, start + count):
                for pos in range(1 + rng.randrange(3)):
                    mobile = pos == 1 or (private and pos == 0)
                    label = "mobile" if mobile else ("home" if private or pos == 2 else "work")
                    raw, e164 = phone_number(loc, mobile, cid * 3 + pos, rng.random() < 0.5)
                    yield cid, label, raw, e164, pos == 0, pos, created

    def relationships(self) -> None:
        self.execute("SELECT key, id FROM relationship_type")
        types = dict(self.cur.fetchall())
        rng = random.Random(self.seed * 13 + 5)
        children: list[int] = []
        for acc in self.accs:
            if acc.kind == "household" and acc.contacts >= 3:
                children.extend(range(acc.c_start + 2, acc.c_start + acc.contacts))

        def rows() -> Iterator[tuple]:
            for acc in self.accs:
                s, n = acc.c_start, acc.contacts
                if acc.kind == "household":
                    if n >= 2:
                        yield s, s + 1, types["spouse_of"], None
                    for child in range(s + 2, s + n):
                        yield s, child, types["parent_of"], None
                        yield s + 1, child, types["parent_of"], None
                    continue
                if acc.kind == "school" and children:
                    for teacher in range(s, s + n):
                        for _ in range(rng.randrange(4)):
                            pupil = rng.choice(children)
                            yield teacher, pupil, types["teacher_of"], "Class teacher"
                    continue
                for j in range(1, n):
                    if rng.random() < 0.5:
                        yield s + j, s + rng.randrange(j), types["reports_to"], None
                if n >= 5 and rng.random() < 0.3:
                    yield s + n - 1, s, types["assistant_of"], None
                if n >= 3 and rng.random() < 0.1:
                    yield s + 1, s + 2, types["colleague_of"], "Worked together before"
            for _ in range(max(2, len(children) // 50)):
                if children:
                    guardian = rng.randrange(1, self.n_contacts + 1)
                    child = rng.choice(children)
                    if guardian != child:
                        yield guardian, child, types["guardian_of"], None
            for _ in range(max(2, self.n_contacts // 200)):
                a, b = rng.randrange(1, self.n_contacts + 1), rng.randrange(1, self.n_contacts + 1)
                if a != b:
                    yield a, b, types["referred_by"], None

        copy_rows(self.cur, "contact_relationship",
                  ("from_contact_id", "to_contact_id", "type_id", "note"), rows())

    def campaigns(self) -> None:
        rng = random.Random(self.seed * 17 + 3)
        themes = ["Spring webinar", "Nordic roadshow", "Customer summit", "Renewal drive",
                  "Product launch", "Partner day", "Holiday mailing", "Trade fair follow-up"]
        kinds = ["webinar", "event", "event", "call", "email", "event", "direct_mail", "email"]
        self.campaign_ids: list[int] = []
        for i in range(max(3, round(40 * self.scale))):
            t = rng.randrange(len(themes))
            starts = date.fromordinal(self.today.toordinal() - rng.randint(-60, 700))
            ends = date.fromordinal(starts.toordinal() + rng.randint(1, 60))
            status = ("planned" if starts > self.today else
                      "active" if ends >= self.today else "completed")  # fmt: skip
            budget = rng.randint(5, 200) * 1000
            self.execute(
                "INSERT INTO campaign (name, kind, status, starts_on, ends_on, budget, cost, "
                "owner_id, team_id, created_at, updated_at) VALUES (%(n)s, %(k)s, %(s)s, "
                "%(a)s, %(b)s, %(bu)s, %(c)s, %(o)s, %(t)s, %(a)s, %(a)s) RETURNING id",
                {"n": f"{themes[t]} {starts.year} #{i + 1}", "k": kinds[t], "s": status,
                 "a": starts, "b": ends, "bu": budget,
                 "c": None if status == "planned" else int(budget * rng.uniform(0.5, 1.1)),
                 "o": rng.choice(self.sellers[self.teams["Global Sales"]]),
                 "t": self.teams["Global Sales"]})  # fmt: skip
            campaign = self.cur.fetchone()[0]
            self.campaign_ids.append(campaign)
            stride = next(p for p in (7919, 7907, 7901, 104729) if self.n_contacts % p)
            self.execute(_MEMBERS, {
                "campaign": campaign, "offset": rng.randrange(self.n_contacts), "stride": stride,
                "n_contacts": self.n_contacts, "starts": f"{starts.isoformat()} 09:00:00+00",
                "members": min(self.n_contacts, max(5, round(rng.randint(200, 5000) * self.scale))),
            })  # fmt: skip

    def opportunities(self) -> None:
        self.execute("SELECT id FROM pipeline WHERE is_default ORDER BY id LIMIT 1")
        pipeline = self.cur.fetchone()[0]
        self.execute(_OPPORTUNITIES, {
            "anchor": self.anchor, "n": max(20, round(200_000 * self.scale)),
            "n_acc": self.n_sales_accounts, "pipeline": pipeline,
            "campaigns": self.campaign_ids, "n_campaigns": len(self.campaign_ids)})  # fmt: skip

    def activities(self) -> None:
        total = max(200, round(5_000_000 * self.scale))
        big = self.accs[0]  # the holding with the most activity (50k at scale 1)
        n_big = max(50, round(50_000 * self.scale))
        span = max(2, round(2 * (total - n_big) / self.n_contacts + 1))
        common = {"seed": str(self.seed), "anchor": self.anchor, "agents": self.agents,
                  "n_agents": len(self.agents)}  # fmt: skip
        self.execute(_ACTIVITY_SELECT.replace("{source}", _ACTIVITY_BIG_ACCOUNT),
                     {**common, "n_big": n_big, "c_start": big.c_start, "c_count": big.contacts})
        self.execute(_ACTIVITY_SELECT.replace("{source}", _ACTIVITY_PER_CONTACT),
                     {**common, "span": span})


def _secondary_indexes(cur, schema: str) -> list[tuple[str, str]]:
    """(qualified name, CREATE INDEX statement) of the bulk tables' non-constraint indexes."""
    cur.execute(
        "SELECT format('%%I.%%I', n.nspname, ic.relname), pg_get_indexdef(i.indexrelid) "
        "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
        "JOIN pg_class ic ON ic.oid = i.indexrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE n.nspname = %s AND t.relname = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
        "ORDER BY t.relname, ic.relname",
        (schema, list(_BULK_TABLES)),
    )
    return list(cur.fetchall())


_COUNTED = ("account", "contact", "contact_phone", "contact_email", "contact_relationship",
            "activity", "opportunity", "support_case", "campaign", "campaign_member",
            "app_user", "team")  # fmt: skip


def holds_data(cur, schema: str) -> bool:
    cur.execute(
        sql.SQL("SELECT EXISTS (SELECT 1 FROM {}.account) OR EXISTS (SELECT 1 FROM {}.contact)")
        .format(sql.Identifier(schema), sql.Identifier(schema))
    )
    return bool(cur.fetchone()[0])


def load(
    dsn: str,
    schema: str,
    scale: float = DEFAULT_SCALE,
    seed: int | None = None,
    progress: Progress = print,
    *,
    today: date | None = None,
) -> str:
    """Fill the empty database at `dsn` (installer/superuser) with demo data; one-line summary.

    Applies pending migrations first. Everything happens in one transaction: a failure leaves
    the database as it was. Raises DatabaseNotEmpty when any account or contact exists.
    `today` anchors the two years of history (default: the current date).
    """
    if not 0 < scale <= 10:
        from db.errors import ValidationError

        raise ValidationError("scale", "must be greater than 0 and at most 10")
    seed = DEFAULT_SEED if seed is None else int(seed)
    started = time.perf_counter()
    migrate.migrate(dsn, schema)
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"sb-demo:{schema}",))
            if migrate.current_version(cur, schema) == 0:
                raise SchemaError("the database has no Switchboard schema")
            if holds_data(cur, schema):
                raise DatabaseNotEmpty(
                    "the database already holds data; demo data goes only into an empty database"
                )
            cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            superuser = bool(cur.fetchone()[0])
            cur.execute(
                sql.SQL("SET LOCAL search_path = {}, public").format(sql.Identifier(schema))
            )
            cur.execute("SET LOCAL synchronize_seqscans = off; SET LOCAL jit = off; "
                        "SET LOCAL work_mem = '64MB'; SET LOCAL synchronous_commit = off")
            indexes: list[tuple[str, str]] = []
            if superuser:
                # Consistent by construction: skip FK checks and audit/notify triggers.
                cur.execute("SET LOCAL session_replication_role = replica; "
                            "SET LOCAL maintenance_work_mem = '512MB'")  # fmt: skip
                indexes = _secondary_indexes(cur, schema)
                for name, _ in indexes:
                    cur.execute(f"DROP INDEX {name}")
            progress(f"Loading demo data (scale {scale:g}, seed {seed}) ...")
            loader = _Loader(cur, scale, seed, today or date.today(), progress)
            loader.run(schema)
            if indexes:
                loader.step(f"rebuilding {len(indexes)} indexes")
                for _, create in indexes:
                    cur.execute(create)
        loader.step("committed")
        conn.autocommit = True
        with conn.cursor() as cur:
            loader.step("ANALYZE")
            for table in _COUNTED:
                cur.execute(sql.SQL("ANALYZE {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(table)))  # fmt: skip
            counts = {}
            for table in _COUNTED:
                cur.execute(sql.SQL("SELECT count(*) FROM {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(table)))  # fmt: skip
                counts[table] = cur.fetchone()[0]
    finally:
        conn.close()
    return (
        f"demo data loaded in {time.perf_counter() - started:.1f} s "
        f"(scale {scale:g}, seed {seed}): "
        f"{counts['account']:,} accounts, {counts['contact']:,} contacts, "
        f"{counts['contact_phone']:,} phones, {counts['contact_email']:,} emails, "
        f"{counts['contact_relationship']:,} relationships, {counts['activity']:,} activities, "
        f"{counts['opportunity']:,} opportunities, {counts['support_case']:,} cases, "
        f"{counts['campaign']:,} campaigns ({counts['campaign_member']:,} members), "
        f"{counts['app_user']:,} users in {counts['team']:,} teams"
    )
