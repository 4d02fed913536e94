"""Support cases: the status workflow and the SLA are the database's; RLS holds for agents and
reps attacking with raw SQL (the database state is checked afterwards)."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg2
import pytest

from db.connection import configure, database
from db.errors import StaleRecord, ValidationError
from db.services import cases
from tests.security.conftest import set_all_defaults, world  # noqa: F401 (the fixture)


def _conn(w, who):
    return w.connect(who)


def test_workflow_sla_and_closed_at(world, pg):  # noqa: F811
    configure(pg.dsn(world.db, user=world.users["rita"]), "switchboard")
    with database.connection_context():
        case = cases.create("invoice copy", contact_id=world.ids["con_rita"], priority="urgent")
        assert case.status == "new" and case.account_id == world.ids["acc_rita"]
        created = world.one("SELECT created_at FROM support_case WHERE id = %s", (case.id,))
        assert case.due_at - created == timedelta(hours=4)
        assert cases.time_left(case.due_at).endswith("left")
        case = cases.change(case.id, case.version, status="waiting")
        assert case.closed_at is None
        with pytest.raises(StaleRecord):
            cases.change(case.id, case.version - 1, status="open")
        case = cases.change(case.id, case.version, priority="low")
        assert case.due_at - created == timedelta(hours=72)
        case = cases.change(case.id, case.version, status="resolved")
        assert case.closed_at is not None
        case = cases.change(case.id, case.version, status="closed")
        with pytest.raises(ValidationError, match="cannot go from closed to waiting"):
            cases.change(case.id, case.version, status="waiting")
        case = cases.change(case.id, case.version, status="open")  # reopen
        assert case.closed_at is None
        with pytest.raises(ValidationError, match="subject"):
            cases.create("  ", contact_id=world.ids["con_rita"])
        with pytest.raises(ValidationError, match="contact"):
            cases.create("no one")
        mine = cases.change(case.id, case.version, assignee_id=world.ids["rita"])
        assert [c.id for c in cases.my_cases(world.ids["rita"])] == [mine.id]
    database.close()
    assert world.one("SELECT status FROM support_case WHERE id = %s", (case.id,)) == "open"


def test_time_left_words():
    now = datetime(2026, 1, 1, 12, 0).astimezone()
    assert cases.time_left(now + timedelta(hours=3, minutes=5), now) == "3h left"
    assert cases.time_left(now + timedelta(minutes=45), now) == "45m left"
    assert cases.time_left(now + timedelta(days=3), now) == "3d left"
    assert cases.time_left(now - timedelta(hours=2), now) == "overdue 2h"
    assert cases.time_left(None, now) == "—"


def test_attacks_as_agent_and_rep(world):  # noqa: F811
    set_all_defaults(world, "private")
    sam_case = world.ids["case_sam"]
    for who in ("aga", "rita"):
        conn = _conn(world, who)
        with conn.cursor() as cur:
            # a case of another team's hidden account: invisible, not changeable
            cur.execute("UPDATE support_case SET status = 'closed' WHERE id = %s", (sam_case,))
            assert cur.rowcount == 0
            # a new case starts new or open, never closed
            with pytest.raises(psycopg2.errors.CheckViolation, match="starts as new or open"):
                cur.execute("INSERT INTO support_case (account_id, subject, status) "
                            "VALUES (%s, 'x', 'closed')", (world.ids["acc_rita"],))
            # a case on an account one cannot see
            with pytest.raises(psycopg2.Error):
                cur.execute("INSERT INTO support_case (account_id, subject) VALUES (%s, 'x')",
                            (world.ids["acc_sam"],))
    assert world.one("SELECT status FROM support_case WHERE id = %s", (sam_case,)) == "new"
    assert world.one("SELECT count(*) FROM support_case WHERE subject = 'x'") == 0
    # an agent may work a case of a visible account, through the workflow only
    set_all_defaults(world, "public_read_write")
    conn = _conn(world, "aga")
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM support_case WHERE id = %s", (world.ids["case_rita"],))
        assert cur.fetchone()[0] == 1
        if True:
            cur.execute("UPDATE support_case SET status = 'open' WHERE id = %s",
                        (world.ids["case_rita"],))
            with pytest.raises(psycopg2.errors.CheckViolation):
                cur.execute("UPDATE support_case SET status = 'new' WHERE id = %s",
                            (world.ids["case_rita"],))
            assert world.one("SELECT status FROM support_case WHERE id = %s",
                             (world.ids["case_rita"],)) == "open"


def test_the_team_queue_is_unassigned_first_then_my_teams(world, pg):  # noqa: F811
    """aga (agent, North): unassigned cases first, then those of North's people or filed for
    North; a case taken by someone of another team is not in North's queue."""
    set_all_defaults(world, "public_read")
    ids = world.ids
    world.installer("UPDATE support_case SET assignee_id = %s WHERE id = %s",
                    (ids["rita"], ids["case_rita"]))  # fmt: skip
    world.installer("UPDATE support_case SET assignee_id = %s, team_id = %s WHERE id = %s",
                    (ids["sam"], ids["south"], ids["case_sam"]))  # fmt: skip
    world.installer("UPDATE support_case SET assignee_id = NULL WHERE id = %s", (ids["case_nate"],))
    configure(pg.dsn(world.db, user=world.users["aga"]), "switchboard")
    with database.connection_context():
        queue = [c.id for c in cases.team_queue()]
    database.close()
    # nate's and mona's are nobody's yet; rita's is taken within North; sam's by South
    assert queue == [ids["case_nate"], ids["case_mona"], ids["case_rita"]]
