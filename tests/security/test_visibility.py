"""The same query as different people returns exactly the rows the sharing rules allow."""

from __future__ import annotations

import pytest

from db.services.activities import Scope, timeline_sql
from tests.security.conftest import World, set_all_defaults


def names(w: World, who: str, sql: str) -> set[str]:
    with w.connect(who).cursor() as cur:
        cur.execute(sql)
        return {r[0] for r in cur.fetchall()}


def accounts(w: World, who: str) -> set[str]:
    return {n.removeprefix("Acme of ") for n in names(w, who, "SELECT name FROM account")}


def contacts(w: World, who: str) -> set[str]:
    return names(w, who, "SELECT last_name FROM contact")


def deals(w: World, who: str) -> set[str]:
    return {n.removeprefix("Deal of ") for n in names(w, who, "SELECT name FROM opportunity")}


ALL = {"rita", "nate", "sam", "mona"}


def test_private_default_owner_and_hierarchy(world: World):
    set_all_defaults(world, "private")
    assert accounts(world, "rita") == {"rita"}
    assert accounts(world, "nate") == {"nate"}
    assert accounts(world, "sam") == {"sam"}
    # the manager of North sees North and its sub-team North-East, not South
    assert accounts(world, "mona") == {"rita", "nate", "mona"}
    assert accounts(world, "aga") == set()
    assert accounts(world, "admin") == ALL
    # children follow the account; the orphan contact follows its own owner
    assert contacts(world, "rita") == {"Secret-rita"}
    assert contacts(world, "sam") == {"Secret-sam", "Orphan"}
    assert contacts(world, "mona") == {"Secret-rita", "Secret-nate", "Secret-mona"}
    assert deals(world, "nate") == {"nate"}
    assert deals(world, "mona") == {"rita", "nate", "mona"}
    assert names(world, "rita", "SELECT subject FROM activity") == {"Call for rita"}
    assert names(world, "rita", "SELECT subject FROM support_case") == {"Case of rita"}
    assert names(world, "rita", "SELECT e164 FROM contact_phone") == {"+46701234567"}
    with world.connect("rita").cursor() as cur:
        cur.execute("SELECT count(*) FROM contact_phone")
        assert cur.fetchone()[0] == 1


@pytest.mark.parametrize("access", ["public_read", "public_read_write"])
def test_public_defaults_show_everything(world: World, access: str):
    set_all_defaults(world, access)
    for who in ("rita", "nate", "sam", "mona", "aga"):
        assert accounts(world, who) == ALL
        assert len(contacts(world, who)) == 5
    assert deals(world, "rita") == ALL


def test_public_read_lets_people_read_but_not_change(world: World):
    set_all_defaults(world, "public_read")
    with world.connect("rita").cursor() as cur:
        cur.execute("UPDATE account SET name = 'mine now' WHERE id = %s", (world.ids["acc_sam"],))
        assert cur.rowcount == 0
        cur.execute("UPDATE account SET industry = 'x' WHERE id = %s", (world.ids["acc_rita"],))
        assert cur.rowcount == 1
    assert (
        world.one("SELECT name FROM account WHERE id = %s", (world.ids["acc_sam"],))
        == "Acme of sam"
    )


def test_public_read_write_lets_reps_edit_others_records(world: World):
    set_all_defaults(world, "public_read_write")
    with world.connect("rita").cursor() as cur:
        cur.execute("UPDATE account SET industry = 'Mining' WHERE id = %s", (world.ids["acc_sam"],))
        assert cur.rowcount == 1
    assert (
        world.one("SELECT industry FROM account WHERE id = %s", (world.ids["acc_sam"],)) == "Mining"
    )


def test_team_override_makes_one_team_private(world: World):
    set_all_defaults(world, "public_read_write")
    world.installer("UPDATE team SET sharing = 'private' WHERE id = %s", (world.ids["south"],))
    assert accounts(world, "rita") == {"rita", "nate", "mona"}
    assert accounts(world, "sam") == ALL
    assert "Secret-sam" not in contacts(world, "nate")


def test_explicit_shares_to_a_person_and_a_team(world: World):
    set_all_defaults(world, "private")
    world.installer(
        "INSERT INTO account_share (account_id, user_id, access) VALUES (%s, %s, 'read')",
        (world.ids["acc_sam"], world.ids["rita"]),
    )
    assert accounts(world, "rita") == {"rita", "sam"}
    assert "Secret-sam" in contacts(world, "rita")
    assert accounts(world, "nate") == {"nate"}
    with world.connect("rita").cursor() as cur:  # read share: no writing
        cur.execute("UPDATE account SET industry = 'x' WHERE id = %s", (world.ids["acc_sam"],))
        assert cur.rowcount == 0
    world.installer(
        "INSERT INTO account_share (account_id, team_id, access) VALUES (%s, %s, 'write')",
        (world.ids["acc_sam"], world.ids["northeast"]),
    )
    assert accounts(world, "nate") == {"nate", "sam"}
    with world.connect("nate").cursor() as cur:
        cur.execute("UPDATE account SET industry = 'Shared' WHERE id = %s", (world.ids["acc_sam"],))
        assert cur.rowcount == 1
    assert (
        world.one("SELECT industry FROM account WHERE id = %s", (world.ids["acc_sam"],)) == "Shared"
    )


HELPERS = ("sec_is_admin", "sec_hier_user_ids", "sec_hier_team_ids", "sec_default_open",
           "sec_open_team_ids")  # fmt: skip


def helper_calls(world: World, who: str, sql: str) -> dict[str, int]:
    """How often each policy helper ran during `sql` as `who`, counted by PostgreSQL itself
    (track_functions; the transaction's own counters, so nothing else is counted)."""
    world.installer(f"ALTER DATABASE \"{world.db}\" SET track_functions = 'all'")
    conn = world.connect(who, autocommit=False)
    with conn.cursor() as cur:
        cur.execute(sql)
        cur.fetchall()
        cur.execute("SELECT p.proname, coalesce(pg_stat_get_xact_function_calls(p.oid), 0) "
                    "FROM pg_proc p WHERE p.proname = ANY (%s) "
                    "AND p.pronamespace = 'switchboard'::regnamespace",
                    (list(HELPERS),))  # fmt: skip
        calls = dict(cur.fetchall())
    conn.rollback()
    return calls


def plan_nodes(node: dict) -> list[dict]:
    return [node, *(n for child in node.get("Plans", []) for n in plan_nodes(child))]


def helpers_per_row(world: World, who: str, sql: str) -> list[str]:
    """Plan nodes that evaluate a helper for every row: a helper in a scan's filter, or in a
    plan node that runs more than once."""
    with world.connect(who).cursor() as cur:
        cur.execute(f"EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) {sql}")
        plan = cur.fetchone()[0][0]["Plan"]
    found = []
    for node in plan_nodes(plan):
        text = " ".join([node.get("Filter", ""), *node.get("Output", [])])
        for helper in HELPERS:
            if f"{helper}(" not in text:
                continue
            in_filter = f"{helper}(" in node.get("Filter", "")
            if in_filter or node.get("Actual Loops", 0) > 1:
                found.append(f"{helper} in {node['Node Type']} x{node.get('Actual Loops')}")
    return found


def make_rows(world: World, n: int = 30) -> None:
    for i in range(n):
        world.installer("INSERT INTO account (name, owner_id) VALUES (%s, %s)",
                        (f"Filler {i}", world.ids["sam"]))  # fmt: skip


def test_policy_helpers_run_once_per_query(world: World):
    """The helpers are InitPlans (once per query), not evaluated per row: counted by
    PostgreSQL, and checked in the plan."""
    set_all_defaults(world, "private")
    make_rows(world)
    assert world.one("SELECT count(*) FROM account") > 30
    calls = helper_calls(world, "rita", "SELECT * FROM account")
    assert calls["sec_hier_user_ids"] == 1, calls
    assert all(n <= 2 for n in calls.values()), calls  # once each (team ids: also inside user ids)
    assert helpers_per_row(world, "rita", "SELECT * FROM account") == []


def test_a_helper_run_per_row_is_detected(world: World):
    """The counter-test: in this test's own database, the account policy is rewritten to call
    sec_hier_user_ids() directly (per row); both checks above must now fail."""
    set_all_defaults(world, "private")
    make_rows(world)
    qual = world.one("SELECT pg_get_expr(polqual, polrelid) FROM pg_policy "
                     "WHERE polrelid = 'account'::regclass AND polname = 'read'")  # fmt: skip
    wrapped = "( SELECT sec_hier_user_ids() AS sec_hier_user_ids)"
    assert wrapped in qual
    per_row = qual.replace(wrapped, "sec_hier_user_ids()")
    world.installer(f"ALTER POLICY read ON account USING ({per_row})")
    calls = helper_calls(world, "rita", "SELECT * FROM account")
    assert calls["sec_hier_user_ids"] > 30, calls
    assert any(f.startswith("sec_hier_user_ids in") for f in
               helpers_per_row(world, "rita", "SELECT * FROM account"))  # fmt: skip


def test_activity_tree_shows_only_activities_one_may_read(world: World):
    """activity_tree (0005) names an activity, its time and an ancestor account. Sam's account
    under Rita's: Rita sees her account but not Sam's, so neither his call nor its row."""
    set_all_defaults(world, "private")
    world.installer("UPDATE account SET parent_id = %s WHERE id = %s",
                    (world.ids["acc_rita"], world.ids["acc_sam"]))  # fmt: skip
    sams_call = world.ids["act_sam"]
    assert world.one("SELECT count(*) FROM activity_tree WHERE activity_id = %s",
                     (sams_call,)) == 1  # fmt: skip
    with world.connect("rita").cursor() as cur:
        cur.execute("SELECT activity_id FROM activity_tree")
        assert cur.fetchall() == []
        sql, params = timeline_sql(Scope("account_tree", world.ids["acc_rita"]))
        cur.execute(sql, params)
        assert [r[3] for r in cur.fetchall()] == ["Call for rita"]
    with world.connect("sam").cursor() as cur:  # his own call: his to see
        cur.execute("SELECT activity_id FROM activity_tree")
        assert cur.fetchall() == [(sams_call,)]
    # the manager of North sees Rita's account, but Sam is in South: still hidden from her
    with world.connect("mona").cursor() as cur:
        cur.execute("SELECT activity_id FROM activity_tree")
        assert cur.fetchall() == []


@pytest.mark.parametrize("defaults", ["private", "public_read"])
def test_activity_tree_rows_are_visible_exactly_where_their_activity_is(world: World, defaults):
    """0007: activity_tree's policy reads its own copies of the activity's account, author and
    assignee instead of looking the activity up. Person by person, the rows one may read must be
    exactly those whose activity one may read: through the account, as the author (or the
    author's manager), as the assignee, as an admin."""
    set_all_defaults(world, defaults)
    # Every account under Rita's, so every account's activities have rows in activity_tree.
    for owner in ("nate", "sam", "mona"):
        world.installer("UPDATE account SET parent_id = %s WHERE id = %s",
                        (world.ids["acc_rita"], world.ids[f"acc_{owner}"]))  # fmt: skip
    # Sam's call given to Nate, who cannot see Sam's account: his as the assignee.
    world.installer("UPDATE activity SET assignee_id = %s WHERE id = %s",
                    (world.ids["nate"], world.ids["act_sam"]))  # fmt: skip
    rows = world.installer("SELECT ancestor_id, activity_id FROM activity_tree")
    assert {x for _, x in rows} >= {world.ids[f"act_{o}"] for o in ("nate", "sam", "mona")}
    for who in ("admin", "mona", "rita", "nate", "sam", "aga"):
        with world.connect(who).cursor() as cur:
            cur.execute("SELECT id FROM activity")
            readable = {r[0] for r in cur.fetchall()}
            cur.execute("SELECT ancestor_id, activity_id FROM activity_tree")
            assert set(cur.fetchall()) == {r for r in rows if r[1] in readable}, who
    with world.connect("nate").cursor() as cur:
        cur.execute("SELECT activity_id FROM activity_tree")
        assert world.ids["act_sam"] in {r[0] for r in cur.fetchall()}


def test_duplicate_checks_use_their_indexes_and_show_only_visible_records(world: World):
    """Migration 0006: the email key works under RLS (so the check uses its index at 1M
    contacts); plain queries return only what the person may see."""
    set_all_defaults(world, "private")
    world.installer("INSERT INTO contact_email (contact_id, email) VALUES (%s, 'Same@Example.com')",
                    (world.ids["con_sam"],))  # fmt: skip
    with world.connect("rita").cursor() as cur:
        cur.execute("SELECT contact_id FROM contact_email WHERE email_key = 'same@example.com'")
        assert cur.fetchall() == []  # Sam's contact: not hers
        cur.execute("SELECT name FROM account WHERE name OPERATOR(public.%) 'Acme of sam'")
        assert "Acme of sam" not in {r[0] for r in cur.fetchall()}  # same name, not hers
        cur.execute("SELECT name FROM account WHERE name OPERATOR(public.%) 'Acme of rita'")
        assert "Acme of rita" in {r[0] for r in cur.fetchall()}
        for sql in ("SELECT 1 FROM contact_email WHERE email_key = 'same@example.com'",
                    "SELECT 1 FROM account WHERE name OPERATOR(public.%) 'Acme of rita'"):
            cur.execute("SET enable_seqscan = off; EXPLAIN " + sql)
            plan = "\n".join(r[0] for r in cur.fetchall())
            assert "Index" in plan and "Seq Scan on contact_email" not in plan, plan
    with world.connect("sam").cursor() as cur:
        cur.execute("SELECT contact_id FROM contact_email WHERE email_key = 'same@example.com'")
        assert cur.fetchall() == [(world.ids["con_sam"],)]
    # 0010 took the LEAKPROOF mark back (test_no_leakproof.py): the fast name checks are the
    # SECURITY DEFINER functions now; the plain query above stays correct, only slower.
    assert world.one("SELECT proleakproof FROM pg_proc WHERE proname = 'similarity_op'") is False
