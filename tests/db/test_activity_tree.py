"""activity_tree (migration 0005): one row per activity and proper ancestor of its account,
kept right by triggers through every change, and the account-with-sub-accounts timeline on it.

Each step compares the table with the truth computed from scratch (a recursive walk over the
live accounts), so a trigger that misses a case fails here."""

from __future__ import annotations

from datetime import timedelta

import psycopg2
import pytest

from db.connection import configure, database
from db.services import activities as acts
from db.services.activities import Scope
from tests.activity_data import add_activities, seed

TRUTH = """
WITH RECURSIVE up(activity_id, occurred_at, ancestor_id) AS (
    SELECT x.id, x.occurred_at, a.parent_id
      FROM activity x JOIN account a ON a.id = x.account_id
     WHERE a.deleted_at IS NULL AND a.parent_id IS NOT NULL
    UNION
    SELECT up.activity_id, up.occurred_at, a.parent_id
      FROM up JOIN account a ON a.id = up.ancestor_id
     WHERE a.parent_id IS NOT NULL
)
SELECT ancestor_id, occurred_at, activity_id FROM up
"""


class Tree:
    def __init__(self, installer_dsn: str) -> None:
        self.conn = psycopg2.connect(installer_dsn, options="-c search_path=switchboard")
        self.conn.autocommit = True

    def run(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def rows(self) -> set[tuple]:
        return set(self.run("SELECT ancestor_id, occurred_at, activity_id FROM activity_tree"))

    def truth(self) -> set[tuple]:
        return set(self.run(TRUTH))

    def check(self) -> set[tuple]:
        rows = self.rows()
        assert rows == self.truth()
        # the activity's own columns its policy reads (0007) match the activity
        assert self.run(
            "SELECT t.activity_id FROM activity_tree t JOIN activity x ON x.id = t.activity_id"
            " WHERE (t.account_id, t.author_id, t.assignee_id)"
            " IS DISTINCT FROM (x.account_id, x.author_id, x.assignee_id)"
        ) == []  # fmt: skip
        return {(a, x) for a, _, x in rows}


@pytest.fixture
def world(installer_dsn, admin_dsn):
    s = seed(installer_dsn)
    tree = Tree(installer_dsn)
    configure(admin_dsn, "switchboard")
    with database.connection_context():
        yield s, tree
    tree.conn.close()


def test_rows_follow_inserts_moves_reparenting_trash_and_purge(world, installer_dsn):
    s, tree = world
    root, (cars, trucks), torslanda = s.root_id, s.child_ids, s.grandchild_id
    t = s.now
    on_root, on_cars, on_torslanda, on_trucks = add_activities(installer_dsn, [
        {"kind": "call", "occurred_at": t, "account_id": root},
        {"kind": "note", "occurred_at": t - timedelta(minutes=1), "account_id": cars},
        {"kind": "email", "occurred_at": t - timedelta(minutes=2), "account_id": torslanda},
        {"kind": "meeting", "occurred_at": t - timedelta(minutes=3), "account_id": trucks},
    ])  # fmt: skip
    assert tree.check() == {(root, on_cars), (cars, on_torslanda), (root, on_torslanda),
                            (root, on_trucks)}  # fmt: skip

    # a later time for an activity: its rows move with it
    tree.run("UPDATE activity SET occurred_at = occurred_at - interval '1 day' WHERE id = %s",
             (on_torslanda,))  # fmt: skip
    tree.check()
    # an activity given to someone else, or credited to another author: rows follow (0007)
    tree.run("UPDATE activity SET assignee_id = %s WHERE id = %s", (s.rita_id, on_torslanda))
    tree.check()
    tree.run("UPDATE activity SET author_id = %s WHERE id = %s", (s.rita_id, on_cars))
    tree.check()
    # an activity moved to another account
    tree.run("UPDATE activity SET account_id = %s WHERE id = %s", (trucks, on_cars))
    assert (root, on_cars) in tree.check()
    # a sub-account moved under another parent: its activities swap their outside ancestors
    tree.run("UPDATE account SET parent_id = %s WHERE id = %s", (trucks, torslanda))
    assert {(trucks, on_torslanda), (root, on_torslanda)} <= tree.check()
    assert (cars, on_torslanda) not in tree.check()
    # ... and to the top: no ancestors left
    tree.run("UPDATE account SET parent_id = NULL WHERE id = %s", (torslanda,))
    assert not {p for p in tree.check() if p[1] == on_torslanda}
    tree.run("UPDATE account SET parent_id = %s WHERE id = %s", (cars, torslanda))
    tree.check()

    # trashing a sub-account (the app stamps its whole subtree) takes its activities out ...
    tree.run("UPDATE account SET deleted_at = now() WHERE id IN (%s, %s)", (cars, torslanda))
    assert not {p for p in tree.check() if p[1] == on_torslanda}
    # ... and restoring brings them back
    tree.run("UPDATE account SET deleted_at = NULL WHERE id IN (%s, %s)", (cars, torslanda))
    assert {(cars, on_torslanda), (root, on_torslanda)} <= tree.check()

    # an account cannot go under its own sub-account
    with pytest.raises(psycopg2.errors.CheckViolation, match="own sub-account"):
        tree.run("UPDATE account SET parent_id = %s WHERE id = %s", (torslanda, root))
    # a purged activity takes its rows along
    tree.run("DELETE FROM activity WHERE id = %s", (on_trucks,))
    assert on_trucks not in {x for _, x in tree.check()}
    # the set-based rebuild (used after bulk loads) agrees with the triggers
    before = tree.rows()
    assert tree.run("SELECT activity_tree_rebuild()")[0][0] == len(before)
    assert tree.rows() == before


def test_tree_timeline_leaves_out_trashed_sub_accounts(world, installer_dsn):
    s, tree = world
    t = s.now
    add_activities(installer_dsn, [
        {"kind": "call", "occurred_at": t, "account_id": s.root_id},
        {"kind": "email", "occurred_at": t - timedelta(minutes=2),
         "account_id": s.grandchild_id},
        {"kind": "meeting", "occurred_at": t - timedelta(minutes=3),
         "account_id": s.child_ids[1]},
    ])  # fmt: skip
    scope = Scope("account_tree", s.root_id)
    assert [a.kind for a in acts.timeline(scope).items] == ["call", "email", "meeting"]
    tree.run("UPDATE account SET deleted_at = now() WHERE id IN (%s, %s)",
             (s.child_ids[0], s.grandchild_id))  # fmt: skip
    assert [a.kind for a in acts.timeline(scope).items] == ["call", "meeting"]
    tree.run("UPDATE account SET deleted_at = NULL WHERE id IN (%s, %s)",
             (s.child_ids[0], s.grandchild_id))  # fmt: skip
    assert [a.kind for a in acts.timeline(scope).items] == ["call", "email", "meeting"]
    # the sub-account's own timeline, with its sub-accounts, is one level down
    assert [a.kind for a in acts.timeline(Scope("account_tree", s.child_ids[0])).items] == [
        "email"
    ]


def test_tree_timeline_is_index_driven_whatever_the_tree_size(world, installer_dsn):
    """A root with 300 sub-accounts: the page reads the two index streams, never the tree."""
    s, tree = world
    tree.run("INSERT INTO account (name, parent_id) SELECT 'Sub ' || g, %s "
             "FROM generate_series(1, 300) g", (s.root_id,))  # fmt: skip
    tree.run("INSERT INTO activity (kind, occurred_at, account_id) "
             "SELECT 'call', %s - g * interval '1 minute', a.id FROM account a, "
             "generate_series(1, 3) g WHERE a.parent_id = %s", (s.now, s.root_id))  # fmt: skip
    tree.run("ANALYZE activity_tree")
    sql, params = acts.timeline_sql(Scope("account_tree", s.root_id))
    plan = "\n".join(r[0] for r in tree.run("EXPLAIN (ANALYZE, COSTS OFF) " + sql, params))
    assert "activity_tree" in plan and "Recursive" not in plan
    page = acts.timeline(Scope("account_tree", s.root_id))
    assert len(page.items) == 50 and page.next_cursor is not None
    stamps = [a.cursor for a in page.items]
    assert stamps == sorted(stamps, reverse=True)
