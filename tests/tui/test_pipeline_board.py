"""The pipeline board at 80x24: columns per open stage, compact cards, keys that move a deal
through every stage (stage, probability and history checked in the database), won, lost with
its reason, filters, paging, other people's moves, monochrome."""

from __future__ import annotations

import pytest

from db.connection import configure
from tests import fixtures_crm
from tests.records_data import run
from tests.tui.crm_helpers import screen_text, settle
from tests.tui.waiting import wait_until
from tui.app import SwitchboardApp
from tui.screens.pipeline_board import PipelineBoardScreen
from tui.widgets.pipeline_columns import PipelineColumns


@pytest.fixture
def crm(installer_dsn, admin_dsn):
    data = fixtures_crm.load(installer_dsn)
    configure(admin_dsn, "switchboard")
    return data


async def open_board(app, pilot) -> PipelineColumns:
    await settle(app, pilot, rounds=1)
    await pilot.press("4")
    await wait_until(
        pilot,
        lambda: (
            isinstance(app.screen, PipelineBoardScreen)
            and app.screen.query_one(PipelineColumns).board is not None
        ),
    )
    return app.screen.query_one(PipelineColumns)


async def test_board_shows_columns_and_compact_cards(crm):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_board(app, pilot)
        text = screen_text(app)
        print(text)
        assert view.compact


def deal(dsn: str, name: str) -> dict:
    (row,) = run(dsn, "SELECT o.id, s.name, o.probability, o.is_closed, o.is_won, o.lost_reason "
                 "FROM opportunity o JOIN stage s ON s.id = o.stage_id WHERE o.name = %s",
                 (name,))  # fmt: skip
    return dict(zip(("id", "stage", "probability", "closed", "won", "reason"), row, strict=True))


def history(dsn: str, deal_id: int) -> list[str]:
    rows = run(dsn, "SELECT s.name FROM audit_log l JOIN stage s "
               "ON s.id = (l.new_values->>'stage_id')::bigint WHERE l.table_name = 'opportunity' "
               "AND l.row_id = %s ORDER BY l.id", (deal_id,))  # fmt: skip
    return [r[0] for r in rows]


async def idle(app, pilot, view) -> None:
    """Until the moves are sent and the board read again."""
    screen = app.screen
    await wait_until(pilot, lambda: not screen.ops_running and not view.pending)
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_keys_move_a_deal_through_every_stage_then_win_it(crm, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_board(app, pilot)
        assert view.card.name == "Service deal"  # Qualify, the first card
        seen = []
        for key in ("shift+right", "greater_than_sign", "shift+right"):
            await pilot.press(key)
            await idle(app, pilot, view)
            row = deal(installer_dsn, "Service deal")
            seen.append((row["stage"], row["probability"]))
            assert view.card.name == "Service deal"  # the cursor follows the deal
        assert seen == [("Discover", 25), ("Proposal", 50), ("Negotiate", 75)]
        status = str(app.screen.query_one("#board-status").content)
        assert "Left Proposal (exit: Proposal sent to the decision maker)" in status
        await pilot.press("greater_than_sign")  # the last open stage
        assert "w marks the deal won" in str(app.screen.query_one("#board-status").content)
        await pilot.press("less_than_sign")
        await idle(app, pilot, view)
        assert deal(installer_dsn, "Service deal")["stage"] == "Proposal"
        await pilot.press("w")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmModal")
        await pilot.press("y")
        await idle(app, pilot, view)
        row = deal(installer_dsn, "Service deal")
        assert (row["stage"], row["probability"], row["closed"], row["won"]) == (
            "Won", 100, True, True)  # fmt: skip
        assert history(installer_dsn, row["id"]) == [
            "Qualify", "Discover", "Proposal", "Negotiate", "Proposal", "Won"]  # fmt: skip
        assert "Service deal" not in screen_text(app)  # closed deals leave the board


async def test_a_burst_of_moves_lands_in_order(crm, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_board(app, pilot)
        app.screen.action_refresh()  # a read in flight while the moves go out
        await pilot.press("greater_than_sign", "greater_than_sign", "greater_than_sign")
        app.screen.post_message(RecordsChanged(Changes({"opportunity": {view.card.id}})))
        await idle(app, pilot, view)
        assert view.card.name == "Service deal" and view.column.stage.name == "Negotiate"
        assert "Not moved" not in screen_text(app)
        row = deal(installer_dsn, "Service deal")
        assert (row["stage"], row["probability"]) == ("Negotiate", 75)
        assert history(installer_dsn, row["id"])[-3:] == ["Discover", "Proposal", "Negotiate"]


async def test_lost_asks_the_reason(crm, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_board(app, pilot)
        await pilot.press("right")  # Discover: Plant robots
        assert view.card.name == "Plant robots"
        await pilot.press("x")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "LostReasonPrompt")
        await pilot.press("enter")  # no reason: refused, still asking
        assert "Lost reason is required" in screen_text(app)
        assert deal(installer_dsn, "Plant robots")["closed"] is False
        await pilot.press(*"Price", "enter")
        await idle(app, pilot, view)
        row = deal(installer_dsn, "Plant robots")
        assert (row["stage"], row["closed"], row["won"], row["reason"], row["probability"]) == (
            "Lost", True, False, "Price", 0)  # fmt: skip
        assert isinstance(app.screen, PipelineBoardScreen)


async def test_filters_by_close_range_and_scope(crm, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_board(app, pilot)
        assert view.board.count == 4
        await pilot.press("f")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "BoardFilterModal")
        await pilot.press("tab", *"2030-05-01", "tab", *"2030-12-31", "enter")
        await wait_until(pilot, lambda: view.board.filters.close_to is not None)
        await settle(app, pilot, rounds=1)
        assert view.board.count == 2  # Plant robots (June) and Fleet renewal (December)
        assert "closing 2030-05-01 to 2030-12-31" in screen_text(app)
        await pilot.press("f")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "BoardFilterModal")
        await pilot.press("tab", *"x", "enter")
        assert "Closing from must be a date" in screen_text(app)
        app.screen.query_one("#filter-from").value = ""
        app.screen.query_one("#filter-to").value = ""
        app.screen.query_one("#filter-scope").value = "mine"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: view.board.filters.scope == "mine")
        assert view.board.count == 4  # the admin owns the fixture's deals
        assert "Pipeline Sales · mine" in screen_text(app)


async def test_columns_page_and_scroll_sideways(crm, installer_dsn):
    run(installer_dsn, "INSERT INTO opportunity (account_id, name, amount, stage_id, probability)"
        " SELECT a.id, 'Bulk ' || g, 1000 + g, s.id, 25 FROM generate_series(1, 45) g,"
        " account a, stage s WHERE a.name = 'IKEA' AND s.name = 'Discover'")  # fmt: skip
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_board(app, pilot)
        assert view.compact and view.visible_columns == 3
        await pilot.press("right")
        col = view.column
        assert col.stage.name == "Discover" and col.count == 46 and len(col.cards) == 20
        assert "…" in screen_text(app) and "more" in screen_text(app)
        for _ in range(30):
            await pilot.press("down")
        await wait_until(pilot, lambda: len(view.column.cards) >= 40)
        assert view.card.name == "Bulk 16"  # Plant robots (50k), then 1045, 1044 ... 1016
        assert len({c.id for c in view.column.cards}) == len(view.column.cards)
        await pilot.press("right", "right")
        assert view.column.stage.name == "Negotiate" and view.cursor.first == 1
        assert "Negotiate" in screen_text(app).splitlines()[3]


class Changes:
    """What db.live.Changes offers a screen."""

    def __init__(self, ids: dict) -> None:
        self.ids, self.accounts, self.everything = ids, frozenset(), False

    def touches(self, table: str, ids=None, accounts=None) -> bool:
        return table in self.ids and (ids is None or bool(self.ids[table] & set(ids)))


from textual.message import Message  # noqa: E402


class RecordsChanged(Message):
    def __init__(self, changes: Changes) -> None:
        super().__init__()
        self.changes = changes


async def test_another_persons_move_appears_without_a_key(crm, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_board(app, pilot)
        fleet = deal(installer_dsn, "Fleet renewal")
        run(installer_dsn, "UPDATE opportunity SET stage_id = (SELECT id FROM stage WHERE "
            "name = 'Discover') WHERE id = %s", (fleet["id"],))  # fmt: skip
        app.screen.post_message(RecordsChanged(Changes({"opportunity": {fleet["id"]}})))
        await wait_until(pilot, lambda: view.board.columns[1].count == 2)
        await pilot.pause()
        rows = screen_text(app).split("\n")
        assert "Fleet renewal" in rows[4].split("│")[1]  # Discover: the bigger deal first
        assert "Plant robots" in rows[6].split("│")[1]
        assert "Fleet renewal" not in rows[4].split("│")[2]  # gone from Proposal


async def test_monochrome_board(crm, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_board(app, pilot)
        assert app.theme == "switchboard-mono"
        rendered = view.render()
        chosen = [s for s in rendered.spans if "reverse" in str(s.style)]
        assert chosen and "Service deal" in rendered.plain[chosen[0].start : chosen[0].end]
        assert "? Service deal" in screen_text(app)  # none planned: a character, not a colour


def rep_app(pg, db_name, installer_dsn, access: str) -> int:
    """Log the app in as a rep who owns one deal; everything else has `access`."""
    from tests.records_data import add_login

    add_login(installer_dsn, "sb_rep_board", role="rep")
    run(installer_dsn, "UPDATE sharing_default SET access = %s "
        "WHERE object_type IN ('account', 'opportunity')", (access,))  # fmt: skip
    (rep_id,) = run(installer_dsn, "SELECT id FROM app_user WHERE username = 'sb_rep_board'")[0]
    run(installer_dsn, "INSERT INTO account (name, owner_id) VALUES ('Rep Account', %s)",
        (rep_id,))  # fmt: skip
    run(installer_dsn, "INSERT INTO opportunity (account_id, name, amount, stage_id, owner_id) "
        "SELECT a.id, 'Rep deal', 5, s.id, %s FROM account a, stage s "
        "WHERE a.name = 'Rep Account' AND s.name = 'Qualify'", (rep_id,))  # fmt: skip
    configure(pg.dsn(db_name, user="sb_rep_board"), "switchboard")
    return rep_id


async def test_a_reps_board_shows_only_what_she_may_see(crm, pg, db_name, installer_dsn):
    rep_app(pg, db_name, installer_dsn, "private")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_board(app, pilot)
        assert view.board.count == 1 and view.card.name == "Rep deal"
        text = screen_text(app)
        assert "Rep deal" in text and "Service deal" not in text and "Fleet renewal" not in text
        await pilot.press("greater_than_sign")  # her own deal moves
        await idle(app, pilot, view)
        assert deal(installer_dsn, "Rep deal")["stage"] == "Discover"


async def test_a_rep_cannot_move_a_deal_she_may_not_edit(crm, pg, db_name, installer_dsn):
    rep_app(pg, db_name, installer_dsn, "public_read")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_board(app, pilot)
        assert view.board.count == 5
        assert view.card.name == "Service deal"  # the admin's, readable only
        await pilot.press("greater_than_sign")
        await idle(app, pilot, view)
        assert "Not moved: you may see deal" in screen_text(app)
        assert deal(installer_dsn, "Service deal")["stage"] == "Qualify"
        assert "Service deal" in [c.name for c in view.board.columns[0].cards]
        assert view.board.columns[1].count == 1  # back where it was after the reload


async def test_delete_to_the_trash_and_restore_and_history(crm, installer_dsn):
    from db.connection import database
    from db.services import trash
    from tui.screens.history import HistoryScreen

    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_board(app, pilot)
        await pilot.press("greater_than_sign")
        await idle(app, pilot, view)
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await settle(app, pilot, rounds=1)
        assert "Qualify → Discover" in screen_text(app)  # stage names, not ids
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, PipelineBoardScreen))
        assert view.card.name == "Service deal"
        await pilot.press("d")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmModal")
        await pilot.press("y")
        await idle(app, pilot, view)
        assert "Service deal" not in screen_text(app) and "trash" in screen_text(app)
        with database.connection_context():
            items = [i for i in trash.page() if i.kind == "deal"]
            assert [i.title for i in items] == ["Service deal"]
            trash.restore("deal", items[0].id)
        await pilot.press("ctrl+r")
        await settle(app, pilot, rounds=1)
        assert "Service deal" in screen_text(app)


async def test_hostile_deal_and_account_names_stay_text(installer_dsn, admin_dsn):
    from tests import hostile

    fixtures_crm.load_hostile(installer_dsn, hostile.ALL)
    configure(admin_dsn, "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_board(app, pilot)
        assert view.board.count >= len(hostile.ALL)
        for _ in range(4):
            text = screen_text(app)  # fails on any row holding a control character
            assert "PWNED" not in app.title
            assert "\x1b" not in text and "\u202e" not in text
            await pilot.press("right")
        assert "Smith [/]" in "".join(c.name for col in view.board.columns for c in col.cards)
        await pilot.press("e")  # the form shows them as text too
        await settle(app, pilot, rounds=1)
        assert "\x1b" not in screen_text(app)


async def test_p_shows_the_next_pipeline(crm, installer_dsn):
    from db.connection import database
    from db.services import pipeline

    with database.connection_context():
        other = pipeline.add_pipeline("Partners")
    run(installer_dsn, "INSERT INTO opportunity (account_id, name, amount, stage_id) "
        "SELECT a.id, 'Reseller deal', 7, s.id FROM account a, stage s "
        "WHERE a.name = 'IKEA' AND s.pipeline_id = %s AND s.name = 'Qualify'",
        (other,))  # fmt: skip
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_board(app, pilot)
        assert view.board.pipeline.name == "Sales" and view.board.count == 4
        await pilot.press("p")
        await wait_until(pilot, lambda: view.board.pipeline.name == "Partners")
        assert view.board.count == 1 and view.card.name == "Reseller deal"
        assert "Pipeline Partners" in screen_text(app)
        await pilot.press("greater_than_sign")  # Qualify is its only open stage
        assert "w marks the deal won" in screen_text(app)


async def test_ctrl_e_writes_the_board_as_filtered(crm, installer_dsn, tmp_path, monkeypatch):
    """Every card of every open column, formula injection neutralised (a deal named `=...`)."""
    import csv

    from tui.screens.export_prompt import ExportPrompt

    run(installer_dsn, "UPDATE switchboard.opportunity SET name = '=HYPERLINK(1)' "
                       "WHERE name = 'Plant robots'")  # fmt: skip
    monkeypatch.chdir(tmp_path)
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_board(app, pilot)
        await pilot.press("ctrl+e")
        assert isinstance(app.screen, ExportPrompt)
        path = app.screen.query_one("#export-path").value
        assert path.startswith(str(tmp_path)) and "switchboard-board-" in path
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PipelineBoardScreen))
        await settle(app, pilot)
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    assert sorted(r["deal"] for r in rows) == ["'=HYPERLINK(1)", "Fleet renewal",
                                               "Service deal", "Trucks EU"]  # fmt: skip
    assert {r["stage"] for r in rows} and all(r["next_activity"] for r in rows)
