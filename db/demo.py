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

import random
import time
from collections.abc import Callable, Iterator
from datetime import date

import psycopg2
from psycopg2 import sql

from db import migrate
from db.bootstrap import ensure_login, is_own_login
from db.demo_plan import (
    INDUSTRIES,
    LOCALES,
    TEAM_OF_LOCALE,
    TITLES,
    Acc,
    ascii_name,
    assign_contacts,
    copy_rows,
    make_pools,
    phone_number,
    plan_accounts,
    plan_people,
)
from db.demo_sql import (
    ACTIVITY_BIG_ACCOUNT,
    ACTIVITY_PER_CONTACT,
    ACTIVITY_SELECT,
    CASES,
    CONTACTS,
    EMAILS,
    FUNCTIONS,
    MEMBERS,
    OPPORTUNITIES,
)
from db.errors import SchemaError, SwitchboardError

DEFAULT_SCALE = 0.01
DEFAULT_SEED = 1984
Progress = Callable[[str], object]

# Tables whose secondary indexes are rebuilt after the load (superuser only).
_BULK_TABLES = ("account", "contact", "contact_phone", "contact_email", "contact_relationship",
                "activity", "activity_tree", "opportunity", "support_case",
                "campaign_member")  # fmt: skip


NOT_EMPTY = "the database already holds data; demo data goes only into an empty database"


class DatabaseNotEmpty(SwitchboardError):
    """Demo data goes only into an empty database."""


def _team_of(acc: Acc, roots: list[Acc], teams: dict[str, int], big_roots: int) -> int:
    root = roots[acc.id - 1]
    if root.id <= big_roots and "Key Accounts" in teams:
        return teams["Key Accounts"]
    return teams.get(TEAM_OF_LOCALE[root.loc], teams.get("Nordics", teams["Global Sales"]))


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
        self.execute(FUNCTIONS.replace("{seed}", str(self.seed)))
        self.copy_pools()
        self.step("users and teams")
        self.people(schema)
        self.step("accounts")
        self.accounts()
        self.step("contacts")
        params = {"anchor": self.anchor, "nf": len(self.pools.first[0]),
                  "nl": len(self.pools.last[0]), "nt": len(TITLES),
                  "np": len(self.pools.place[0])}  # fmt: skip
        self.execute(CONTACTS, params)
        self.step("emails")
        self.execute(EMAILS, params)
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
        self.execute(CASES, {"anchor": self.anchor, "n": max(20, round(20_000 * self.scale)),
                              "n_acc": len(self.accs), "agents": self.agents,
                              "n_agents": len(self.agents), "team": self.care_team})  # fmt: skip
        self.step("activities")
        self.activities()
        self.step("activity tree (timelines of accounts with their sub-accounts)")
        self.execute("SELECT activity_tree_rebuild()")
        self.step("search terms (names for the search, migration 0017)")
        self.execute("SELECT search_term_rebuild()")
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
                  ((i, *t) for i, t in enumerate(TITLES)))
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
        prefix = migrate.installed_prefix(self.cur, schema)
        for person in self.persons:
            person.username = _own_name(self.cur, schema, prefix, person.username)
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
                acc.domain = f"{ascii_name(root.base)[:30]}.{LOCALES[root.loc].tld}"
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
                         ascii_name(family) if family else None))  # fmt: skip
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
                industry, sic = INDUSTRIES[random.Random(root.id * 97 + self.seed).randrange(14)]
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
            self.execute(MEMBERS, {
                "campaign": campaign, "offset": rng.randrange(self.n_contacts), "stride": stride,
                "n_contacts": self.n_contacts, "starts": f"{starts.isoformat()} 09:00:00+00",
                "members": min(self.n_contacts, max(5, round(rng.randint(200, 5000) * self.scale))),
            })  # fmt: skip

    def opportunities(self) -> None:
        self.execute("SELECT id FROM pipeline WHERE is_default ORDER BY id LIMIT 1")
        pipeline = self.cur.fetchone()[0]
        self.execute(OPPORTUNITIES, {
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
        self.execute(ACTIVITY_SELECT.replace("{source}", ACTIVITY_BIG_ACCOUNT),
                     {**common, "n_big": n_big, "c_start": big.c_start, "c_count": big.contacts})
        self.execute(ACTIVITY_SELECT.replace("{source}", ACTIVITY_PER_CONTACT),
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


def _own_name(cur, schema: str, prefix: str, username: str) -> str:
    """`username`, or `username.2`, `.3`... when another installation's login has that name.

    Login roles are server-wide: a second demo on the server must not adopt the first one's
    people (disabling one would disable both).
    """
    name, n = username, 1
    while True:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
        if cur.fetchone() is None:
            return name
        cur.execute(
            sql.SQL("SELECT 1 FROM {}.app_user WHERE username = %s").format(
                sql.Identifier(schema)
            ),
            (name,),
        )
        if cur.fetchone() is not None or is_own_login(cur, prefix, name):
            return name
        n += 1
        name = f"{username[:60]}.{n}"


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
    role_prefix: str | None = None,
) -> str:
    """Fill the empty database at `dsn` (installer/superuser) with demo data; one-line summary.

    Applies pending migrations first. Everything happens in one transaction: a failure leaves
    the database as it was. Raises DatabaseNotEmpty when any account or contact exists.
    `today` anchors the two years of history (default: the current date). `role_prefix` names
    the roles of a new installation (db/migrate.py); demo logins another installation holds
    are never adopted: the demo names its own person `first.last.2` instead.
    """
    if not 0 < scale <= 10:
        from db.errors import ValidationError

        raise ValidationError("scale", "must be greater than 0 and at most 10")
    seed = DEFAULT_SEED if seed is None else int(seed)
    started = time.perf_counter()
    conn = psycopg2.connect(dsn)
    try:  # refuse before touching anything, migrations included
        with conn, conn.cursor() as cur:
            if migrate.current_version(cur, schema) > 0 and holds_data(cur, schema):
                raise DatabaseNotEmpty(NOT_EMPTY)
    finally:
        conn.close()
    migrate.migrate(dsn, schema, role_prefix=role_prefix)
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"sb-demo:{schema}",))
            if migrate.current_version(cur, schema) == 0:
                raise SchemaError("the database has no Switchboard schema")
            if holds_data(cur, schema):
                raise DatabaseNotEmpty(NOT_EMPTY)
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
