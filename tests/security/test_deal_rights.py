"""Deals and stages under attack with raw SQL as each role; the database state is checked after
every attempt. Agents cannot read or write deals; a rep cannot move a deal they may not edit;
the board of a rep holds only what they may see; only admins write stages and pipelines;
nobody writes stage_entered_at by hand."""

from __future__ import annotations

import psycopg2
import pytest

from db.connection import configure, database
from db.errors import PermissionDenied
from db.services import deals, pipeline
from tests.security.conftest import World, set_default
from tests.security.test_attacks import refused


def stage(world: World, name: str) -> int:
    return world.one("SELECT id FROM stage WHERE name = %s", (name,))


def state(world: World, key: str) -> tuple:
    return tuple(world.installer(
        "SELECT stage_id, probability, version, is_closed FROM opportunity WHERE id = %s",
        (world.ids[key],))[0])  # fmt: skip


def test_agents_cannot_read_insert_or_move_deals(world: World):
    before = state(world, "opp_rita")
    conn = world.connect("aga")
    denied = "permission denied for table opportunity"
    refused(conn, "SELECT count(*) FROM opportunity", match=denied)
    refused(conn, "UPDATE opportunity SET stage_id = %s", (stage(world, "Won"),), match=denied)
    refused(conn, "INSERT INTO opportunity (account_id, name, stage_id) VALUES (%s, 'x', %s)",
            (world.ids["acc_rita"], stage(world, "Qualify")), match=denied)  # fmt: skip
    assert state(world, "opp_rita") == before
    assert world.one("SELECT count(*) FROM opportunity") == 4


def test_a_rep_cannot_move_a_deal_they_may_not_edit(world: World):
    set_default(world, "opportunity", "public_read")
    set_default(world, "account", "public_read")
    before = state(world, "opp_sam")
    conn = world.connect("rita")
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM opportunity WHERE id = %s", (world.ids["opp_sam"],))
        assert cur.fetchone() == (1,)  # she may see it...
        cur.execute("UPDATE opportunity SET stage_id = %s WHERE id = %s",
                    (stage(world, "Discover"), world.ids["opp_sam"]))  # fmt: skip
        assert cur.rowcount == 0  # ...but not move it
        cur.execute("UPDATE opportunity SET stage_id = %s, lost_reason = 'x' WHERE id = %s",
                    (stage(world, "Lost"), world.ids["opp_sam"]))  # fmt: skip
        assert cur.rowcount == 0
    assert state(world, "opp_sam") == before
    # through the service: PermissionDenied, nothing written
    configure(world.pg.dsn(world.db, user=world.users["rita"]), "switchboard")
    with database.connection_context(), pytest.raises(PermissionDenied):
        deals.move_stage(world.ids["opp_sam"], +1, before[2])
    assert state(world, "opp_sam") == before
    # her own deal moves, and the database sets the stage's probability
    with database.connection_context():
        moved = deals.move_stage(world.ids["opp_rita"], +1, state(world, "opp_rita")[2])
    assert state(world, "opp_rita")[:2] == (stage(world, "Discover"), 25) == (
        moved.stage_id, moved.probability)  # fmt: skip
    database.close_all()


def test_a_reps_board_shows_only_what_she_may_see(world: World):
    set_default(world, "opportunity", "private")
    set_default(world, "account", "private")
    configure(world.pg.dsn(world.db, user=world.users["rita"]), "switchboard")
    with database.connection_context():
        board = pipeline.board(pipeline.Filters(scope="all"))
        ids = {c.id for col in board.columns for c in col.cards}
        assert ids == {world.ids["opp_rita"]} and board.count == 1
        assert board.total == 1000
    configure(world.pg.dsn(world.db, user=world.users["mona"]), "switchboard")
    with database.connection_context():
        board = pipeline.board(pipeline.Filters(scope="all"))  # the manager: her teams
        ids = {c.id for col in board.columns for c in col.cards}
        assert ids == {world.ids[k] for k in ("opp_rita", "opp_nate", "opp_mona")}
        team = pipeline.board(pipeline.Filters(scope="team"))
        assert team.count == 3
        mine = pipeline.board(pipeline.Filters(scope="mine"))
        assert {c.id for col in mine.columns for c in col.cards} == {world.ids["opp_mona"]}
    database.close_all()


@pytest.mark.parametrize("who", ["rita", "mona", "aga"])
def test_only_admins_write_stages_and_pipelines(world: World, who: str):
    conn = world.connect(who)
    qualify = stage(world, "Qualify")
    refused(conn, "UPDATE stage SET probability = 99, rotting_days = 1 WHERE id = %s",
            (qualify,), match="permission denied for table stage")  # fmt: skip
    refused(conn, "INSERT INTO stage (pipeline_id, name, position, probability) "
            "SELECT id, 'Mine', 50, 1 FROM pipeline LIMIT 1",
            match="permission denied for table stage")  # fmt: skip
    refused(conn, "INSERT INTO pipeline (name) VALUES ('Mine')",
            match="permission denied for table pipeline")  # fmt: skip
    assert world.installer("SELECT probability, rotting_days FROM stage WHERE id = %s",
                           (qualify,)) == [(10, 14)]  # fmt: skip
    assert world.one("SELECT count(*) FROM pipeline") == 1
    admin = world.connect("admin")
    with admin.cursor() as cur:
        cur.execute("UPDATE stage SET rotting_days = 30 WHERE id = %s", (qualify,))
    assert world.one("SELECT rotting_days FROM stage WHERE id = %s", (qualify,)) == 30


def test_nobody_backdates_the_stage_entry_or_closes_without_the_stage(world: World):
    conn = world.connect("rita")
    refused(conn, "UPDATE opportunity SET stage_entered_at = now() - interval '1 year' "
            "WHERE id = %s", (world.ids["opp_rita"],),
            match="permission denied for table opportunity")  # fmt: skip
    with conn.cursor() as cur:
        cur.execute("UPDATE opportunity SET is_won = true, is_closed = true, probability = 100 "
                    "WHERE id = %s", (world.ids["opp_rita"],))  # fmt: skip
    row = world.installer("SELECT is_closed, is_won, probability FROM opportunity WHERE id = %s",
                          (world.ids["opp_rita"],))  # fmt: skip
    assert row == [(False, False, 100)]  # the stage decides closing; a typed probability stays
    with pytest.raises(psycopg2.errors.CheckViolation), conn.cursor() as cur:
        cur.execute("UPDATE opportunity SET stage_id = %s WHERE id = %s",
                    (stage(world, "Lost"), world.ids["opp_rita"]))  # fmt: skip
    assert world.one("SELECT stage_id FROM opportunity WHERE id = %s",
                     (world.ids["opp_rita"],)) == stage(world, "Qualify")  # fmt: skip


def test_the_trash_lists_deals_only_to_those_who_read_deals(world: World):
    from db.services import trash

    world.installer("UPDATE opportunity SET deleted_at = now() WHERE id = %s",
                    (world.ids["opp_rita"],))  # fmt: skip
    configure(world.pg.dsn(world.db, user=world.users["aga"]), "switchboard")
    with database.connection_context():
        assert [i for i in trash.page() if i.kind == "deal"] == []  # and no permission error
    configure(world.pg.dsn(world.db, user=world.users["rita"]), "switchboard")
    with database.connection_context():
        items = [i for i in trash.page() if i.kind == "deal"]
        assert [(i.id, i.title) for i in items] == [(world.ids["opp_rita"], "Deal of rita")]
        trash.restore("deal", world.ids["opp_rita"])
    assert world.one("SELECT deleted_at FROM opportunity WHERE id = %s",
                     (world.ids["opp_rita"],)) is None  # fmt: skip
    database.close_all()
