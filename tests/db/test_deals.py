"""Deals: stage moves set the stage's probability unless the person set one, won and lost close
the deal in the database, a lost deal needs its reason, every change is in the history; the
board's totals, filters and paging; stages as data edited by admins."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import psycopg2
import pytest

from db.connection import configure, database
from db.errors import (
    Conflict,
    PermissionDenied,
    StaleRecord,
    ValidationError,
    ValidationErrors,
)
from db.services import deals, pipeline
from tests.records_data import add_login, run, seed


@pytest.fixture
def data(installer_dsn, admin_dsn):
    s = seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    return s


def stage_ids(dsn: str) -> dict[str, int]:
    return dict(run(dsn, "SELECT name, id FROM stage"))


def deal_row(dsn: str, deal_id: int) -> dict:
    cols = ("stage", "probability", "probability_manual", "is_closed", "is_won",
            "forecast_category", "closed_at", "lost_reason", "version")  # fmt: skip
    (row,) = run(
        dsn,
        "SELECT s.name, o.probability, o.probability_manual, o.is_closed, o.is_won, "
        "o.forecast_category, o.closed_at, o.lost_reason, o.version FROM opportunity o "
        "JOIN stage s ON s.id = o.stage_id WHERE o.id = %s",
        (deal_id,),
    )
    return dict(zip(cols, row, strict=True))


def history_stages(dsn: str, deal_id: int) -> list[int]:
    rows = run(
        dsn,
        "SELECT (new_values->>'stage_id')::bigint FROM audit_log WHERE table_name = "
        "'opportunity' AND row_id = %s AND new_values ? 'stage_id' ORDER BY id",
        (deal_id,),
    )
    return [r[0] for r in rows]


def test_move_through_every_open_stage_sets_probability_and_history(data, installer_dsn):
    ids = stage_ids(installer_dsn)
    version = deal_row(installer_dsn, data.deal)["version"]
    seen = []
    with database.connection_context():
        for _ in range(3):
            moved = deals.move_stage(data.deal, +1, version)
            version = moved.version
            seen.append((moved.left_stage, moved.stage, moved.probability))
        with pytest.raises(ValidationError) as end:
            deals.move_stage(data.deal, +1, version)
    assert end.value.field == "stage_id" and "w marks" in end.value.message
    assert seen == [("Qualify", "Discover", 25), ("Discover", "Proposal", 50),
                    ("Proposal", "Negotiate", 75)]  # fmt: skip
    row = deal_row(installer_dsn, data.deal)
    assert (row["stage"], row["probability"], row["is_closed"]) == ("Negotiate", 75, False)
    assert history_stages(installer_dsn, data.deal) == [
        ids["Qualify"], ids["Discover"], ids["Proposal"], ids["Negotiate"]]  # fmt: skip
    # the exit criteria of the stage left come back with the move
    with database.connection_context():
        back = deals.move_stage(data.deal, -1, version)
    assert back.left_stage == "Negotiate" and back.left_exit_criteria == "Terms agreed in principle"
    assert deal_row(installer_dsn, data.deal)["probability"] == 50


def test_a_typed_probability_survives_moves(data, installer_dsn):
    with database.connection_context():
        original = deals.load(data.deal)
        form = {k: ("" if v is None else v) for k, v in original.items() if k in deals.FIELDS}
        deals.update(data.deal, original, form | {"probability": "33"})
        moved = deals.move_stage(data.deal, +1, deals.load(data.deal)["version"])
    assert moved.probability == 33
    row = deal_row(installer_dsn, data.deal)
    assert (row["probability"], row["probability_manual"]) == (33, True)
    with database.connection_context():
        original = deals.load(data.deal)
        form = {k: ("" if v is None else v) for k, v in original.items() if k in deals.FIELDS}
        deals.update(data.deal, original, form | {"probability": ""})  # back to the stage's
    row = deal_row(installer_dsn, data.deal)
    assert (row["stage"], row["probability"], row["probability_manual"]) == ("Discover", 25, False)


def test_won_closes_the_deal(data, installer_dsn):
    with database.connection_context():
        moved = deals.close_won(data.deal, deal_row(installer_dsn, data.deal)["version"])
    assert moved.is_closed and moved.is_won and moved.stage == "Won"
    row = deal_row(installer_dsn, data.deal)
    assert (row["is_closed"], row["is_won"], row["probability"], row["forecast_category"]) == (
        True, True, 100, "closed")  # fmt: skip
    assert row["closed_at"] is not None
    with database.connection_context(), pytest.raises(ValidationError):
        deals.move_stage(data.deal, +1, row["version"])  # closed: no more moves


def test_lost_needs_a_reason_in_the_service_and_in_the_database(data, installer_dsn, admin_dsn):
    version = deal_row(installer_dsn, data.deal)["version"]
    with database.connection_context(), pytest.raises(ValidationErrors) as info:
        deals.close_lost(data.deal, version, "  ")
    assert info.value.errors[0].field == "lost_reason"
    lost = stage_ids(installer_dsn)["Lost"]
    with pytest.raises(psycopg2.errors.CheckViolation, match="lost deal needs a reason"):
        run(admin_dsn, "UPDATE opportunity SET stage_id = %s WHERE id = %s", (lost, data.deal))
    assert deal_row(installer_dsn, data.deal)["stage"] == "Qualify"
    with database.connection_context():
        deals.close_lost(data.deal, version, "Price")
    row = deal_row(installer_dsn, data.deal)
    assert (row["stage"], row["is_closed"], row["is_won"], row["probability"],
            row["lost_reason"], row["forecast_category"]) == (
        "Lost", True, False, 0, "Price", "closed")  # fmt: skip
    # psql cannot make an inconsistent deal either: the stage decides
    run(admin_dsn, "UPDATE opportunity SET is_closed = false, is_won = true WHERE id = %s",
        (data.deal,))  # fmt: skip
    row = deal_row(installer_dsn, data.deal)
    assert (row["is_closed"], row["is_won"]) == (True, False)


def test_a_stale_move_is_refused(data, installer_dsn, admin_dsn):
    version = deal_row(installer_dsn, data.deal)["version"]
    run(admin_dsn, "UPDATE opportunity SET amount = 5 WHERE id = %s", (data.deal,))
    with database.connection_context(), pytest.raises(StaleRecord):
        deals.move_stage(data.deal, +1, version)
    assert deal_row(installer_dsn, data.deal)["stage"] == "Qualify"


def test_create_validates_every_field_and_defaults_the_probability(data, installer_dsn):
    ids = stage_ids(installer_dsn)
    with database.connection_context(), pytest.raises(ValidationErrors) as info:
        deals.create(
            {
                "name": "",
                "amount": "-5",
                "currency": "kronor",
                "probability": "150",
                "expected_close": "2026-02-30",
                "stage_id": str(ids["Proposal"]),
            }
        )
    fields = {e.field: e.message for e in info.value.errors}
    assert set(fields) == {"name", "amount", "currency", "probability", "expected_close",
                           "account_id"}  # fmt: skip
    assert fields["name"] == "is required"
    assert "February 2026 has 28 days" in fields["expected_close"]
    with database.connection_context(), pytest.raises(ValidationErrors) as info:
        deals.create(
            {
                "name": "X",
                "account_id": str(data.globex),
                "primary_contact_id": str(data.anna),
                "stage_id": str(ids["Proposal"]),
            }
        )
    assert info.value.errors[0].field == "primary_contact_id"
    with database.connection_context():
        new = deals.create({"name": "Robots", "account_id": str(data.acme),
                            "primary_contact_id": str(data.anna), "amount": "1 250 000",
                            "stage_id": str(ids["Proposal"]), "expected_close": "2031-01-31",
                            "next_step": "send the quote"})  # fmt: skip
        deal = deals.get(new)
    assert (deal.stage, deal.probability, deal.amount, deal.next_step) == (
        "Proposal", 50, Decimal("1250000.00"), "send the quote")  # fmt: skip
    assert deal.account == "Acme AB" and deal.contact == "Anna Lind"


def test_same_field_edits_conflict(data, admin_dsn):
    with database.connection_context():
        original = deals.load(data.deal)
    run(admin_dsn, "UPDATE opportunity SET name = 'Theirs' WHERE id = %s", (data.deal,))
    form = {k: ("" if v is None else v) for k, v in original.items() if k in deals.FIELDS}
    with database.connection_context(), pytest.raises(Conflict) as info:
        deals.update(data.deal, original, form | {"name": "Mine"})
    assert info.value.fields["name"].theirs == "Theirs"


def test_board_totals_filters_and_paging(data, installer_dsn):
    ids = stage_ids(installer_dsn)
    run(installer_dsn,
        "INSERT INTO opportunity (account_id, name, amount, stage_id, probability, expected_close,"
        " owner_id) SELECT %s, 'Deal ' || g, g * 100, %s, 25, DATE '2031-01-01' + g,"
        " (SELECT id FROM app_user WHERE username = 'sb_admin') FROM generate_series(1, 45) g",
        (data.acme, ids["Discover"]))  # fmt: skip
    with database.connection_context():
        board = pipeline.board(pipeline.Filters(scope="all"))
        names = [c.stage.name for c in board.columns]
        discover = board.columns[1]
        assert names == ["Qualify", "Discover", "Proposal", "Negotiate"]
        assert (discover.count, discover.total) == (45, Decimal(45 * 46 // 2 * 100))
        assert discover.weighted == Decimal(45 * 46 // 2 * 25)
        assert [c.amount for c in discover.cards[:2]] == [Decimal(4500), Decimal(4400)]
        assert len(discover.cards) == pipeline.PAGE and discover.more
        page2 = pipeline.cards(board.filters, discover.stage.id, discover.after())
        page3 = pipeline.cards(board.filters, discover.stage.id, (page2[-1].amount, page2[-1].id))
        seen = [c.id for c in discover.cards + page2 + page3]
        assert len(seen) == len(set(seen)) == 45
        card = discover.cards[0]
        assert card.account == "Acme AB" and card.next_state(board.today) == "none"
        assert board.count == 46 and board.attention == 46  # none has a follow-up planned
        ranged = pipeline.board(pipeline.Filters(close_from=date(2031, 1, 2),
                                                 close_to=date(2031, 1, 11)))  # fmt: skip
        assert ranged.columns[1].count == 10 and ranged.columns[0].count == 0
        mine = pipeline.board(pipeline.Filters(scope="mine"))
        assert mine.count == 45  # the seeded deal has no owner


def test_stages_are_data_edited_by_admins_only(data, installer_dsn, pg, db_name):
    ids = stage_ids(installer_dsn)
    with database.connection_context():
        pipe = pipeline.pipelines()[0]
        new = pipeline.add_stage(pipe.id, {"name": "Trial", "probability": "60",
                                           "exit_criteria": "Trial signed off",
                                           "rotting_days": "7"})  # fmt: skip
        names = [s.name for s in pipeline.stages(pipe.id)]
        assert names == ["Qualify", "Discover", "Proposal", "Negotiate", "Trial", "Won", "Lost"]
        pipeline.reorder_stage(new, -1)
        names = [s.name for s in pipeline.stages(pipe.id)]
        assert names[3:5] == ["Trial", "Negotiate"]
        trial = next(s for s in pipeline.stages(pipe.id) if s.id == new)
        pipeline.save_stage(new, trial.version, {"name": "Pilot", "probability": "65",
                                                 "rotting_days": "5"})  # fmt: skip
        with pytest.raises(ValidationErrors) as info:
            pipeline.save_stage(
                new,
                trial.version + 1,
                {"name": "", "probability": "101", "is_won": True, "is_lost": True},
            )
        assert {e.field for e in info.value.errors} == {"name", "probability", "is_lost"}
        other = pipeline.add_pipeline("Partners")
        assert [s.name for s in pipeline.stages(other)] == ["Qualify", "Won", "Lost"]
    assert run(installer_dsn, "SELECT count(*) FROM audit_log WHERE table_name = 'stage' "
               "AND row_id = %s", (new,))[0][0] >= 3  # fmt: skip
    add_login(installer_dsn, "sb_rep_stage", role="rep")
    configure(pg.dsn(db_name, user="sb_rep_stage"), "switchboard")
    with database.connection_context(), pytest.raises(Exception, match="permission denied"):
        pipeline.save_stage(ids["Qualify"], 1, {"name": "Mine now", "probability": "1"})
    assert run(installer_dsn, "SELECT name FROM stage WHERE id = %s", (ids["Qualify"],)) == [
        ("Qualify",)]  # fmt: skip


def test_a_rep_cannot_move_a_deal_they_may_not_edit(data, installer_dsn, pg, db_name):
    add_login(installer_dsn, "sb_rep_move", role="rep")
    # deals are readable by everybody but writable by the owner only
    run(installer_dsn, "UPDATE sharing_default SET access = 'public_read' "
        "WHERE object_type IN ('account', 'opportunity')")  # fmt: skip
    version = deal_row(installer_dsn, data.deal)["version"]
    configure(pg.dsn(db_name, user="sb_rep_move"), "switchboard")
    with database.connection_context():
        assert deals.get(data.deal).name == "Fleet renewal"
        with pytest.raises(PermissionDenied):
            deals.move_stage(data.deal, +1, version)
        with pytest.raises(PermissionDenied):
            deals.close_won(data.deal, version)
    row = deal_row(installer_dsn, data.deal)
    assert (row["stage"], row["version"]) == ("Qualify", version)


def test_a_rep_may_not_give_a_deal_away(data, installer_dsn, pg, db_name):
    add_login(installer_dsn, "sb_rep_owner", role="rep")
    (rep,) = run(installer_dsn, "SELECT id FROM app_user WHERE username = 'sb_rep_owner'")[0]
    (admin,) = run(installer_dsn, "SELECT id FROM app_user WHERE username = 'sb_admin'")[0]
    run(installer_dsn, "UPDATE opportunity SET owner_id = %s WHERE id = %s", (rep, data.deal))
    configure(pg.dsn(db_name, user="sb_rep_owner"), "switchboard")
    with database.connection_context():
        original = deals.load(data.deal)
        form = {k: ("" if v is None else v) for k, v in original.items() if k in deals.FIELDS}
        with pytest.raises(ValidationErrors) as info:
            deals.update(data.deal, original, form | {"owner_id": str(admin)})
        assert info.value.errors[0].field == "owner_id"
        deals.update(data.deal, original, form | {"name": "Kept mine"})  # the rest works
    assert run(installer_dsn, "SELECT name, owner_id FROM opportunity WHERE id = %s",
               (data.deal,)) == [("Kept mine", rep)]  # fmt: skip


def test_idle_rotting_and_next_activity_on_cards(data, installer_dsn):
    ids = stage_ids(installer_dsn)
    owner = "(SELECT id FROM app_user WHERE username = 'sb_admin')"
    for name, days in (("Stale", 30), ("Fresh", 2), ("Busy", 40), ("Late", 1)):
        run(installer_dsn, "INSERT INTO opportunity (account_id, name, amount, stage_id, "
            f"created_at, owner_id) VALUES (%s, %s, 100, %s, now() - make_interval(days => %s), "
            f"{owner})", (data.acme, name, ids["Qualify"], days))  # fmt: skip
    deal_id = dict(run(installer_dsn, "SELECT name, id FROM opportunity"))
    run(installer_dsn, "INSERT INTO activity (kind, subject, occurred_at, opportunity_id, "
        "account_id) VALUES ('call', 'talked', now() - interval '1 day', %s, %s)",
        (deal_id["Busy"], data.acme))  # fmt: skip
    run(installer_dsn, "INSERT INTO activity (kind, subject, due_at, opportunity_id, account_id)"
        " VALUES ('task', 'send quote', now() + interval '3 days', %s, %s),"
        " ('task', 'call back', now() - interval '2 days', %s, %s)",
        (deal_id["Busy"], data.acme, deal_id["Late"], data.acme))  # fmt: skip
    with database.connection_context():
        board = pipeline.board(pipeline.Filters(scope="mine"))
    cards = {c.name: c for c in board.columns[0].cards}
    stale, fresh, busy, late = (cards[n] for n in ("Stale", "Fresh", "Busy", "Late"))
    assert (stale.idle_days, stale.rotting_days, stale.rotting) == (30, 14, True)
    assert (fresh.idle_days, fresh.rotting) == (2, False)
    assert (busy.idle_days, busy.rotting) == (1, False)  # its last activity, not its age
    assert [c.next_state(board.today) for c in (stale, busy, late)] == ["none", "later", "overdue"]
    # needing attention: Stale (rotting, none planned), Fresh (none planned), Late (overdue);
    # not Busy (called yesterday, a follow-up planned). (The seeded deal has no owner: not mine.)
    assert board.columns[0].attention == 3
