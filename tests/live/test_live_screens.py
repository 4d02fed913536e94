"""Change notices reach the screens (issue 11 part 1): one app as rita, another person writing
with raw SQL as their own role. A change appears within 1 s with no key pressed; what rita may
not see changes nothing on her screen and reads nothing about it; a flood costs a few re-reads.
"""

from __future__ import annotations

import time

import pytest
from textual.widgets import Input, Static

from db.connection import configure
from tests.live.conftest import set_all_defaults
from tests.security.conftest import SCHEMA
from tests.tui.crm_helpers import counting_queries, screen_text, settle
from tests.tui.waiting import wait_until
from tui.app import SwitchboardApp
from tui.live import MIN_GAP
from tui.screens.account_form import AccountFormScreen
from tui.screens.my_day import MyDayScreen
from tui.screens.timeline import TimelineScreen
from tui.widgets.account_tree import AccountTree
from tui.widgets.record_list import RecordList


@pytest.fixture
def rita(world, pg, db_name):
    set_all_defaults(world, "private")
    configure(pg.dsn(db_name, user=world.users["rita"]), SCHEMA)
    return world


async def live_app(pilot, app) -> None:
    await settle(app, pilot)
    await wait_until(pilot, lambda: app.hub.listener is not None and app.live is True)


async def visible_within(pilot, app, text: str, seconds: float) -> float:
    """Seconds until `text` is on the screen (fails after `seconds`)."""
    start = time.monotonic()
    await wait_until(pilot, lambda: text in screen_text(app), timeout=seconds)
    return time.monotonic() - start


async def test_a_rename_by_someone_else_shows_in_the_tree_and_panel_within_a_second(rita):
    w = rita
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await live_app(pilot, app)
        tree = app.screen.query_one(AccountTree)
        assert "Acme of rita" in screen_text(app)
        line = tree.cursor_line
        w.connect("admin").cursor().execute(
            "UPDATE account SET name = 'Acme of rita AB', city = 'Lund' WHERE id = %s",
            (w.ids["acc_rita"],),
        )
        took = await visible_within(pilot, app, "Acme of rita AB", 1.0)  # no key pressed
        await wait_until(pilot, lambda: "Lund" in screen_text(app), timeout=1.0)  # the panel
        assert took < 1.0
        assert tree.cursor_line == line and tree.current.name == "Acme of rita AB"


async def test_hidden_records_and_a_forged_flood_change_nothing_and_cost_a_few_reads(
    rita, monkeypatch
):
    """sam renames his own (private) account, and sends 1,000 forged notices about it and
    about rita's in one second: rita's screen stays exactly as it was, nothing about sam's
    account is read into the app, and the app re-reads a few times, not a thousand."""
    w = rita
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await live_app(pilot, app)
        before = screen_text(app)
        batches = app.hub.batches
        started = time.monotonic()
        sam = w.connect("sam")
        with counting_queries(monkeypatch) as q:
            with sam.cursor() as cur:
                cur.execute("UPDATE account SET name = 'Sam secret plan' WHERE id = %s",
                            (w.ids["acc_sam"],))  # fmt: skip
                for i in range(1000):  # one transaction each: none merged by the server
                    target = w.ids["acc_sam"] if i % 2 else w.ids["acc_rita"]
                    cur.execute(
                        "SELECT pg_notify(%s, json_build_object('t', 'account', 'op', 'U', "
                        "'id', %s, 'a', %s)::text)", (SCHEMA, target, target),
                    )  # fmt: skip
            await wait_until(pilot, lambda: app.hub.listener.received >= 1001)
            await pilot.pause(0.6)  # the last coalescing window closes
            await settle(app, pilot)
        assert screen_text(app) == before
        assert "Sam secret" not in screen_text(app)
        # 1,001 notices: at most one batch per MIN_GAP while they came, each a re-read or two
        elapsed = time.monotonic() - started
        assert app.hub.batches - batches <= 2 + elapsed / MIN_GAP
        assert 1 <= q.count <= 2 * (2 + elapsed / MIN_GAP), q.statements
        assert q.count < 30  # not one per notice
        found = [n.data for n in app.screen.query_one(AccountTree).account_nodes()]
        assert w.ids["acc_sam"] not in {n.id for n in found}


async def test_my_day_and_the_timeline_follow_without_a_key_and_keep_the_cursor(rita):
    w = rita
    admin = w.connect("admin")

    def add_call(subject: str, due: bool = False) -> None:
        admin.cursor().execute(
            "INSERT INTO activity (kind, subject, account_id, assignee_id, due_at) "
            "VALUES ('call', %s, %s, %s, CASE WHEN %s THEN now() ELSE NULL END)",
            (subject, w.ids["acc_rita"], w.ids["rita"], due),
        )

    add_call("first call")
    app = SwitchboardApp(start_screen="my_day")
    async with app.run_test(size=(80, 24)) as pilot:
        await live_app(pilot, app)
        assert isinstance(app.screen, MyDayScreen)
        add_call("Anna today", due=True)
        assert await visible_within(pilot, app, "Anna today", 1.0) < 1.0
        # the timeline of rita's account: a new call appears on top, the cursor stays put
        from db.services.activities import Scope
        from tui.screens.timeline import open_timeline

        open_timeline(app.screen, Scope("account", w.ids["acc_rita"]))
        await wait_until(pilot, lambda: isinstance(app.screen, TimelineScreen))
        await settle(app, pilot)
        listing = app.screen.query_one(RecordList)
        await pilot.press("down")
        held = listing.item.id
        add_call("brand new")
        assert await visible_within(pilot, app, "brand new", 1.0) < 1.0
        assert listing.item.id == held


async def test_an_open_form_is_never_overwritten_it_says_the_record_changed(rita):
    w = rita
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await live_app(pilot, app)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, AccountFormScreen)
                         and app.screen.ready)  # fmt: skip
        form = app.screen
        name = form.query_one("#name", Input) if form.query("#name") else form.query(Input)[0]
        name.value = "My own new name"
        w.connect("admin").cursor().execute(
            "UPDATE account SET city = 'Malmö' WHERE id = %s", (w.ids["acc_rita"],)
        )
        message = form.query_one("#form-message", Static)
        await wait_until(pilot, lambda: "Changed by someone else" in str(message.content),
                         timeout=2.0)  # fmt: skip
        assert name.value == "My own new name"  # what rita typed stays
        await pilot.press("ctrl+s")  # disjoint fields: the merge saves both
        await wait_until(pilot, lambda: not isinstance(app.screen, AccountFormScreen))
        city, nm = w.installer("SELECT city, name FROM account WHERE id = %s",
                               (w.ids["acc_rita"],))[0]  # fmt: skip
        assert (city, nm) == ("Malmö", "My own new name")
