"""The demo's plan, made in Python: locales, Faker name pools, users and teams, the account
forest, contact blocks, phone numbers whose E.164 is known by construction, and COPY streams.
"""

from __future__ import annotations

import functools
import random
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field


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
TEAM_OF_LOCALE = {SE: "Nordics", DE: "DACH", GB: "UK & Ireland", US: "North America",
                   JP: "Japan"}  # fmt: skip
INDUSTRIES = [("Manufacturing", "3569"), ("Retail", "5311"), ("Software", "7372"),
               ("Banking", "6021"), ("Insurance", "6311"), ("Logistics", "4213"),
               ("Healthcare", "8062"), ("Telecommunications", "4813"), ("Energy", "4911"),
               ("Construction", "1542"), ("Consulting", "8742"), ("Food & Beverage", "2086"),
               ("Automotive", "3711"), ("Pharmaceuticals", "2834"), ("Education", "8211"),
               ("Public sector", "9111")]  # fmt: skip
_UNITS = ["Sales", "Service", "Logistics", "R&D", "Finance", "Procurement", "Retail",
          "Manufacturing", "Marketing", "IT", "Operations", "Legal"]  # fmt: skip
TITLES = [("Chief Executive Officer", "Management", "decision_maker"),
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


def ascii_name(text: str) -> str:
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
            pools.first.append([(k, ascii_name(r)) for k, _kana, r in firsts])
            pools.last.append([(k, ascii_name(r)) for k, _kana, r in lasts])
        else:
            first_names = [fake.first_name() for _ in range(size)]
            last_names = [fake.last_name() for _ in range(size)]
            pools.first.append([(n, ascii_name(n)) for n in first_names])
            pools.last.append([(n, ascii_name(n)) for n in last_names])
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
