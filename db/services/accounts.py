"""Accounts: the tree (roots, children, filter), breadcrumbs, subtree rollups and the panel.

Every page is ONE query: the per-node summary (has children, capped contact count, open deal
value) comes from LATERAL subqueries that stop early (LIMIT), so a node with a million
contacts costs no more than one with ten. Pages are keysets on (lower(name), id), the order of
the indexes `account_roots_idx` and `account_children_idx`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from db.connection import database, settings
from db.errors import NotFound, ValidationError

CONTACT_CAP = 1000  # contact counts stop here: "1,000+"
MAX_PAGE = 500
MAX_DEPTH = 100  # recursion guard: a corrupted parent chain can never loop forever

Keyset = tuple[str, int]


@dataclass(frozen=True)
class AccountNode:
    id: int
    name: str
    parent_id: int | None
    has_children: bool
    contact_count: int  # at most CONTACT_CAP
    contacts_capped: bool  # True: there are more than CONTACT_CAP contacts
    open_value: Decimal
    sort_name: str = ""  # lower(name) as PostgreSQL computes it: the keyset position
    parent_name: str | None = None  # filled by the name filter (where a match sits)

    @property
    def key(self) -> Keyset:
        return (self.sort_name, self.id)


@dataclass(frozen=True)
class NodePage:
    nodes: list[AccountNode]
    next_after: Keyset | None  # pass as `after` for the next page; None: this was the last


@dataclass(frozen=True)
class Crumb:
    id: int
    name: str


@dataclass(frozen=True)
class Rollup:
    accounts: int  # the account itself and every descendant
    contacts: int
    open_value: Decimal


@dataclass(frozen=True)
class AccountFacts:
    id: int
    name: str
    parent_id: int | None
    kind: str
    industry: str | None
    sic_code: str | None
    employees: int | None
    annual_revenue: Decimal | None
    budget: Decimal | None
    currency: str
    owner_name: str | None
    team_name: str | None
    lifecycle: str
    tier: str | None
    website: str | None
    phone: str | None
    city: str | None
    country: str | None
    description: str | None
    version: int


@dataclass(frozen=True)
class ContactRow:
    id: int
    full_name: str
    job_title: str | None
    phone: str | None  # primary (else first) phone, display format
    email: str | None  # primary (else first) email
    key: tuple[str, str, int]  # keyset position


@dataclass(frozen=True)
class ContactPage:
    contacts: list[ContactRow]
    next_after: tuple[str, str, int] | None


@dataclass(frozen=True)
class OpportunityRow:
    id: int
    name: str
    amount: Decimal
    currency: str
    stage: str
    probability: int
    expected_close: date | None
    contact_name: str | None


@dataclass(frozen=True)
class ActivityRow:
    id: int
    kind: str
    direction: str | None
    subject: str  # the subject, or the first line of the notes when there is none
    occurred_at: datetime
    outcome: str | None
    duration_seconds: int | None
    contact_id: int | None
    contact_name: str | None
    author_name: str | None


_NODE_COLUMNS = f"""
    a.id, a.name, a.parent_id, kids.has_children, cc.n, coalesce(ov.total, 0), lower(a.name)
    FROM account a
    CROSS JOIN LATERAL (
        SELECT EXISTS (SELECT 1 FROM account k WHERE k.parent_id = a.id AND k.deleted_at IS NULL)
               AS has_children) kids
    CROSS JOIN LATERAL (
        SELECT count(*) AS n FROM (
            SELECT 1 FROM contact c WHERE c.account_id = a.id AND c.deleted_at IS NULL
            LIMIT {CONTACT_CAP + 1}) capped) cc
    CROSS JOIN LATERAL (
        SELECT sum(o.amount) AS total FROM opportunity o
        WHERE o.account_id = a.id AND NOT o.is_closed AND o.deleted_at IS NULL) ov
"""


# Agents may not read deals (DESIGN.md section 4): for them the tree, the rollup and the panel
# leave the deal value out instead of failing with "permission denied for table opportunity".
_DEALS_JOIN = """
    CROSS JOIN LATERAL (
        SELECT sum(o.amount) AS total FROM opportunity o
        WHERE o.account_id = a.id AND NOT o.is_closed AND o.deleted_at IS NULL) ov
"""
_reads_deals_cache: dict[tuple[str, str], bool] = {}


def reads_deals() -> bool:
    """Whether this login may read deals; asked once per connection target."""
    current = settings()
    key = (current.dsn, current.schema)
    if key not in _reads_deals_cache:
        row = database.execute_sql(
            "SELECT has_table_privilege(current_user, 'opportunity', 'SELECT')"
        ).fetchone()
        _reads_deals_cache[key] = bool(row[0])
    return _reads_deals_cache[key]


def _columns() -> str:
    """The node columns; without deals for a login that may not read them."""
    if reads_deals():
        return _NODE_COLUMNS
    return _NODE_COLUMNS.replace(_DEALS_JOIN, " CROSS JOIN (SELECT NULL::numeric AS total) ov\n")


def _limit(limit: int) -> int:
    if limit < 1 or limit > MAX_PAGE:
        raise ValidationError("limit", f"must be between 1 and {MAX_PAGE}")
    return limit


def _node(row: tuple, parent_name: str | None = None) -> AccountNode:
    count = int(row[4])
    return AccountNode(
        id=row[0],
        name=row[1],
        parent_id=row[2],
        has_children=bool(row[3]),
        contact_count=min(count, CONTACT_CAP),
        contacts_capped=count > CONTACT_CAP,
        open_value=Decimal(row[5]),
        sort_name=row[6],
        parent_name=parent_name,
    )


def _page(rows: list[tuple], limit: int, with_parent: bool = False) -> NodePage:
    nodes = [_node(r, r[7] if with_parent else None) for r in rows[:limit]]
    more = len(rows) > limit
    return NodePage(nodes, nodes[-1].key if more and nodes else None)


def roots(
    after: Keyset | None = None, limit: int = 100, name_filter: str | None = None
) -> NodePage:
    """One keyset page of root accounts by name; with `name_filter`, of matching accounts at
    any depth (case-insensitive substring, served by the trigram index), each with the name of
    its parent so the person sees where the match sits."""
    limit = _limit(limit)
    after_name, after_id = after if after else ("", 0)
    keyset = "(lower(a.name), a.id) > (%s, %s)" if after else "TRUE"
    params: list = [after_name, after_id] if after else []
    needle = (name_filter or "").strip()
    if needle:
        if len(needle) > 200:
            raise ValidationError("filter", "must be at most 200 characters")
        columns = _columns().replace("lower(a.name)\n", "lower(a.name), par.name\n", 1)
        # The matching ids come from filter_account_ids() (migration 0017): visibility first,
        # then a walk in name order (one or two letters) or the trigram index, stopping at the
        # page; the per-node summaries are computed for that page only.
        sql = (
            f"SELECT {columns} LEFT JOIN LATERAL (SELECT p.name FROM account p "
            "WHERE p.id = a.parent_id) par ON TRUE "
            "WHERE a.id = ANY (ARRAY(SELECT filter_account_ids(%s, %s, %s, %s))) "
            "ORDER BY lower(a.name), a.id"
        )
        found = [needle, *(after or (None, None)), limit + 1]
        rows = database.execute_sql(sql, found).fetchall()
        return _page(rows, limit, with_parent=True)
    sql = (
        f"SELECT {_columns()} WHERE a.parent_id IS NULL AND a.deleted_at IS NULL AND {keyset} "
        "ORDER BY lower(a.name), a.id LIMIT %s"
    )
    return _page(database.execute_sql(sql, [*params, limit + 1]).fetchall(), limit)


def children(parent_id: int, after: Keyset | None = None, limit: int = 100) -> NodePage:
    """One keyset page of the children of `parent_id` by name (one query)."""
    limit = _limit(limit)
    keyset = "AND (lower(a.name), a.id) > (%s, %s)" if after else ""
    params: list = [parent_id, *(after or ())]
    sql = (
        f"SELECT {_columns()} WHERE a.parent_id = %s AND a.deleted_at IS NULL {keyset} "
        "ORDER BY lower(a.name), a.id LIMIT %s"
    )
    return _page(database.execute_sql(sql, [*params, limit + 1]).fetchall(), limit)


def nodes(ids: list[int] | set[int] | frozenset[int]) -> dict[int, AccountNode]:
    """The tree nodes of those of `ids` this person can see and that are not deleted (one
    query; at most MAX_PAGE ids). A change notice names ids; this re-reads them under RLS."""
    wanted = sorted({int(i) for i in ids})[:MAX_PAGE]
    if not wanted:
        return {}
    sql = f"SELECT {_columns()} WHERE a.id = ANY(%s) AND a.deleted_at IS NULL"
    return {r[0]: _node(r) for r in database.execute_sql(sql, [wanted]).fetchall()}


def ancestors(account_id: int) -> list[Crumb]:
    """The path from the root down to `account_id` itself (root first, the account last).

    Raises NotFound when the account does not exist, is deleted or is not visible."""
    rows = database.execute_sql(
        f"""
        WITH RECURSIVE up(id, name, parent_id, depth) AS (
            SELECT id, name, parent_id, 0 FROM account WHERE id = %s AND deleted_at IS NULL
            UNION ALL
            SELECT p.id, p.name, p.parent_id, up.depth + 1
            FROM account p JOIN up ON p.id = up.parent_id
            WHERE up.depth < {MAX_DEPTH}
        )
        SELECT id, name FROM up ORDER BY depth DESC
        """,
        [account_id],
    ).fetchall()
    if not rows:
        raise NotFound(f"account {account_id} does not exist or is not visible")
    return [Crumb(r[0], r[1]) for r in rows]


def rollup(account_id: int) -> Rollup:
    """Totals of the subtree under `account_id` (itself included): accounts, contacts and the
    value of open deals. One recursive query."""
    deals = (
        """(SELECT coalesce(sum(o.amount), 0) FROM opportunity o
                 WHERE o.account_id IN (SELECT id FROM sub) AND NOT o.is_closed
                   AND o.deleted_at IS NULL)"""
        if reads_deals()
        else "0"
    )
    row = database.execute_sql(
        f"""
        WITH RECURSIVE sub(id, depth) AS (
            SELECT id, 0 FROM account WHERE id = %s AND deleted_at IS NULL
            UNION ALL
            SELECT a.id, sub.depth + 1 FROM account a JOIN sub ON a.parent_id = sub.id
            WHERE a.deleted_at IS NULL AND sub.depth < {MAX_DEPTH}
        )
        SELECT (SELECT count(*) FROM sub),
               (SELECT count(*) FROM contact c
                 WHERE c.account_id IN (SELECT id FROM sub) AND c.deleted_at IS NULL),
               {deals}
        """,
        [account_id],
    ).fetchone()
    if not row or row[0] == 0:
        raise NotFound(f"account {account_id} does not exist or is not visible")
    return Rollup(int(row[0]), int(row[1]), Decimal(row[2]))


def facts(account_id: int) -> AccountFacts:
    """The company facts of one account, with owner and team names (one query)."""
    row = database.execute_sql(
        """
        SELECT a.id, a.name, a.parent_id, a.kind, a.industry, a.sic_code, a.employees,
               a.annual_revenue, a.budget, a.currency, u.display_name, t.name, a.lifecycle,
               a.tier, a.website, a.phone, a.city, a.country, a.description, a.version
        FROM account a
        LEFT JOIN app_user u ON u.id = a.owner_id
        LEFT JOIN team t ON t.id = a.team_id
        WHERE a.id = %s AND a.deleted_at IS NULL
        """,
        [account_id],
    ).fetchone()
    if row is None:
        raise NotFound(f"account {account_id} does not exist or is not visible")
    return AccountFacts(*row)


def contacts_page(
    account_id: int, after: tuple[str, str, int] | None = None, limit: int = 50
) -> ContactPage:
    """A keyset page of the account's contacts by last name, first name, with the primary (else
    first) phone and email. One query, served by `contact_account_idx`."""
    from db.phones import display

    limit = _limit(limit)
    keyset = "AND (lower(c.last_name), lower(c.first_name), c.id) > (%s, %s, %s)" if after else ""
    rows = database.execute_sql(
        f"""
        SELECT c.id, c.full_name, c.job_title, ph.e164, ph.raw, em.email,
               lower(c.last_name), lower(c.first_name)
        FROM contact c
        LEFT JOIN LATERAL (
            SELECT p.e164, p.raw FROM contact_phone p WHERE p.contact_id = c.id
            ORDER BY p.is_primary DESC, p.position, p.id LIMIT 1) ph ON TRUE
        LEFT JOIN LATERAL (
            SELECT e.email FROM contact_email e WHERE e.contact_id = c.id
            ORDER BY e.is_primary DESC, e.position, e.id LIMIT 1) em ON TRUE
        WHERE c.account_id = %s AND c.deleted_at IS NULL {keyset}
        ORDER BY lower(c.last_name), lower(c.first_name), c.id
        LIMIT %s
        """,
        [account_id, *(after or ()), limit + 1],
    ).fetchall()
    contacts = [
        ContactRow(
            id=r[0],
            full_name=r[1],
            job_title=r[2],
            phone=display(r[3], r[4]) if (r[3] or r[4]) else None,
            email=r[5],
            key=(r[6], r[7], r[0]),
        )
        for r in rows[:limit]
    ]
    more = len(rows) > limit
    return ContactPage(contacts, contacts[-1].key if more and contacts else None)


OPPORTUNITY_SELECT = """
    SELECT o.id, o.name, o.amount, o.currency, s.name, o.probability, o.expected_close,
           c.full_name
    FROM opportunity o
    JOIN stage s ON s.id = o.stage_id
    LEFT JOIN contact c ON c.id = o.primary_contact_id AND c.deleted_at IS NULL
    WHERE {where} AND NOT o.is_closed AND o.deleted_at IS NULL
    ORDER BY o.expected_close NULLS LAST, o.id
    LIMIT %s
"""


def open_opportunities(account_id: int, limit: int = 10) -> list[OpportunityRow]:
    """The account's open deals, soonest expected close first (none for an agent)."""
    if not reads_deals():
        return []
    rows = database.execute_sql(
        OPPORTUNITY_SELECT.format(where="o.account_id = %s"), [account_id, _limit(limit)]
    ).fetchall()
    return [OpportunityRow(*r) for r in rows]


ACTIVITY_SELECT = """
    SELECT a.id, a.kind, a.direction,
           -- a quick log often has notes and no subject: show the notes' first line then
           left(coalesce(nullif(a.subject, ''), split_part(a.body, E'\n', 1), ''), 200),
           a.occurred_at, a.outcome, a.duration_seconds,
           a.contact_id, c.full_name, u.display_name
    FROM activity a
    LEFT JOIN contact c ON c.id = a.contact_id
    LEFT JOIN app_user u ON u.id = a.author_id
    WHERE {where} AND a.deleted_at IS NULL
    ORDER BY a.occurred_at DESC, a.id DESC
    LIMIT %s
"""


def latest_activities(account_id: int, limit: int = 5) -> list[ActivityRow]:
    """The account's newest activities (served by `activity_account_time_idx`)."""
    rows = database.execute_sql(
        ACTIVITY_SELECT.format(where="a.account_id = %s"), [account_id, _limit(limit)]
    ).fetchall()
    return [ActivityRow(*r) for r in rows]
