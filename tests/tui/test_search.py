"""The search screen and the palette at 80x24: a burst of keys ends with the answer to the
final text, an older (slow) answer never paints after a newer one, enter opens the record,
the palette finds records, hostile names show literally."""

from __future__ import annotations

import threading
import time

import psycopg2
import pytest

from db.connection import configure, database
from db.services import search as search_service
from tests import fixtures_crm, hostile
from tests.tui.burst import burst
from tests.tui.crm_helpers import screen_text, settle
from tests.tui.waiting import wait_until
from tui.app import SwitchboardApp
from tui.screens.contact_detail import ContactDetailScreen
from tui.screens.search import SearchScreen


@pytest.fixture
def crm(installer_dsn, admin_dsn):
    data = fixtures_crm.load(installer_dsn)
    configure(admin_dsn, "switchboard")
    return data


def showing(screen: SearchScreen, text: str):
    return lambda: screen.shown is not None and screen.shown.text == text


def shown_labels(screen: SearchScreen) -> list[str]:
    return [h.label for h in screen.hits.values()]


async def open_search(app, pilot) -> SearchScreen:
    await settle(app, pilot)
    await app.switch_mode("my_day")  # / on the account tree is its own filter
    await settle(app, pilot)
    await burst(app, pilot, "slash")
    await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen))
    return app.screen


async def test_a_burst_ends_with_the_answer_to_the_final_text(crm):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_search(app, pilot)
        await burst(app, pilot, *"Ana Lnd")  # typos
        await wait_until(pilot, showing(screen, "Ana Lnd"))
        await settle(app, pilot)
        assert screen.query_one("#search-box").value == "Ana Lnd"
        assert shown_labels(screen)[0] == "Anna Lind"
        text = screen_text(app)
        assert "Contacts (" in text and "Anna Lind" in text and "Volvo Cars Sverige AB" in text
        # typing on refines; deleting everything empties the list
        await burst(app, pilot, *["backspace"] * 7)
        await wait_until(pilot, showing(screen, ""))
        assert screen.hits == {}


async def test_a_slow_older_answer_never_paints_after_the_newer_one(crm):
    release = threading.Event()
    slow_started = threading.Event()

    def search_fn(text, **kw):
        if text == "Volvo":
            slow_started.set()
            release.wait(5)  # the older search is slow (a stuck query, a slow network)
        return search_service.search(text, **kw)

    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.switch_mode("my_day")
        await settle(app, pilot)
        screen = SearchScreen(search_fn=search_fn)
        await app.push_screen(screen)
        await burst(app, pilot, *"Volvo")
        await wait_until(pilot, slow_started.is_set)
        await burst(app, pilot, *" Trucks")
        await wait_until(pilot, lambda: screen.shown is not None
                         and screen.shown.text == "Volvo Trucks")  # fmt: skip
        assert shown_labels(screen)[0] == "Volvo Trucks"
        release.set()  # the older answer arrives now
        await app.workers.wait_for_complete()
        await settle(app, pilot)
        assert screen.shown.text == "Volvo Trucks"
        assert shown_labels(screen)[0] == "Volvo Trucks"
        assert "Volvo Cars Sverige AB" not in screen_text(app).split("Accounts")[1].split("\n")[1]


async def test_enter_opens_the_contact(crm):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_search(app, pilot)
        await burst(app, pilot, *"Maja Holm")
        await wait_until(pilot, showing(screen, "Maja Holm"))
        await burst(app, pilot, "enter")  # into the results; one hit: opens it
        await wait_until(pilot, lambda: isinstance(app.screen, ContactDetailScreen))
        await settle(app, pilot)
        assert app.screen.contact_id == crm.contacts["Maja Holm"]
        assert "Maja Holm" in screen_text(app)


async def test_enter_opens_a_deal_in_its_form_and_a_case_in_its_timeline(crm):
    from tui.screens.deal_form import DealFormScreen
    from tui.screens.timeline import TimelineScreen

    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_search(app, pilot)
        await burst(app, pilot, *"Fleet renewal")
        await wait_until(pilot, showing(screen, "Fleet renewal"))
        await burst(app, pilot, "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DealFormScreen))
        await settle(app, pilot)
        assert "Fleet renewal" in screen_text(app)
        await pilot.press("escape")
        await settle(app, pilot)
        screen = await open_search(app, pilot)
        await burst(app, pilot, *"invoice copy")
        await wait_until(pilot, showing(screen, "invoice copy"))
        await burst(app, pilot, "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TimelineScreen))
        await settle(app, pilot)
        assert "invoice copy" in screen_text(app)


async def test_down_and_enter_open_an_account_in_the_tree(crm):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_search(app, pilot)
        await burst(app, pilot, *"Erikson")
        await wait_until(pilot, showing(screen, "Erikson"))
        assert shown_labels(screen)[0] == "Ericsson"
        await burst(app, pilot, "down", "enter")
        await settle(app, pilot)
        assert app.current_mode == "accounts"
        assert "Ericsson" in screen_text(app)


async def test_digits_are_text_in_the_box_and_slash_does_not_fire_in_forms(crm):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_search(app, pilot)
        await burst(app, pilot, *"031 66", "/")
        assert app.screen is screen and screen.query_one("#search-box").value == "031 66/"
        assert not app.check_action("search", ())  # a form (or this box) owns "/"


async def test_the_palette_finds_a_record(crm):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.switch_mode("my_day")
        await settle(app, pilot)
        await burst(app, pilot, "ctrl+p")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "CommandPalette")
        await burst(app, pilot, *"Anna Lind")
        await wait_until(pilot, lambda: "Contact: Anna Lind" in screen_text(app))
        await burst(app, pilot, "enter")  # the best hit is highlighted
        await wait_until(pilot, lambda: isinstance(app.screen, ContactDetailScreen))
        assert app.screen.contact_id == crm.contacts["Anna Lind"]


async def test_hostile_names_are_shown_literally(installer_dsn, admin_dsn):
    fixtures_crm.load_hostile(installer_dsn, hostile.ALL)
    configure(admin_dsn, "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_search(app, pilot)
        await burst(app, pilot, *"Smith")
        await wait_until(pilot, showing(screen, "Smith"))
        text = screen_text(app)  # fails on any control character reaching the screen
        assert "Smith [/]" in text
        await burst(app, pilot, *["backspace"] * 5, *"Click")
        await wait_until(pilot, showing(screen, "Click"))
        assert "[@click=app.quit]Click me[/]" in screen_text(app)
        assert app.is_running


def test_the_fixture_contact_is_found_by_the_service(crm):  # what the tests above rely on
    with database.connection_context():
        assert search_service.search("Maja Holm").hits[0].id == crm.contacts["Maja Holm"]


async def test_the_tree_filter_cancels_the_query_it_replaces(crm, monkeypatch):
    from db.services import accounts
    from tui.widgets.account_tree import AccountTree

    started = threading.Event()
    ended: list[float] = []
    real = accounts.roots

    def slow_roots(after=None, limit=100, name_filter=None):
        if name_filter == "v":
            started.set()
            t0 = time.perf_counter()
            try:
                database.execute_sql("SELECT pg_sleep(10)")  # a query the server is busy with
            finally:
                ended.append(time.perf_counter() - t0)
        return real(after=after, limit=limit, name_filter=name_filter)

    monkeypatch.setattr(accounts, "roots", slow_roots)
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        tree = app.screen.query_one(AccountTree)
        await burst(app, pilot, "slash", "v")
        await wait_until(pilot, started.is_set)
        await burst(app, pilot, "o")
        await wait_until(pilot, lambda: bool(ended))
        assert ended[0] < 5, "the superseded filter's query ran on"
        assert tree._filters.cancelled >= 1
        await wait_until(pilot, lambda: tree.query_text == "vo" and bool(tree.account_nodes()))
        await settle(app, pilot)
        assert all("vo" in n.data.name.lower() for n in tree.account_nodes())


async def test_a_renamed_record_shown_is_searched_again(crm, installer_dsn):
    """Through the real change notices: a change to a record not shown costs no search; a
    rename of one shown searches again, no key pressed."""
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_search(app, pilot)
        await burst(app, pilot, *"Maja Holm")
        await wait_until(pilot, showing(screen, "Maja Holm"))
        await wait_until(pilot, lambda: app.hub.listener is not None)

        def rename(contact: str, first: str) -> None:
            conn = psycopg2.connect(installer_dsn)
            with conn, conn.cursor() as cur:
                cur.execute("UPDATE switchboard.contact SET first_name = %s WHERE id = %s",
                            (first, crm.contacts[contact]))  # fmt: skip
            conn.close()

        before, batches = screen.shown_seq, app.hub.batches
        rename("Per Ek", "Peter")  # not shown
        await wait_until(pilot, lambda: app.hub.batches > batches)
        await settle(app, pilot)
        assert screen.shown_seq == before  # not one of ours: nothing to do
        rename("Maja Holm", "Majken")
        await wait_until(pilot, lambda: "Majken Holm" in shown_labels(screen))
        assert screen.shown_seq == before + 1
