"""The record keys on the account tree and the contact detail: n, s, e, d, a, x lead to the
forms and the trash, and what was saved shows on the screen and in the database."""

from __future__ import annotations

import psycopg2
import pytest

from db.connection import configure
from tests import fixtures_crm
from tests.tui.crm_helpers import screen_text, settle
from tui.app import SwitchboardApp
from tui.screens.account_form import AccountFormScreen
from tui.screens.account_tree import AccountTreeScreen
from tui.screens.confirm import DeleteConfirmModal
from tui.screens.contact_detail import ContactDetailScreen
from tui.screens.contact_form import ContactFormScreen
from tui.screens.relationship_form import RelationshipFormScreen
from tui.widgets.account_tree import AccountTree


@pytest.fixture
def crm(installer_dsn, admin_dsn, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_PHONE_REGION", "SE")
    data = fixtures_crm.load(installer_dsn)
    configure(admin_dsn, "switchboard")
    return data


def query(dsn: str, sql: str, params: tuple = ()) -> list[tuple]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SET search_path = switchboard")
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


async def test_n_creates_an_account_that_appears_in_the_tree(crm, admin_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, AccountFormScreen)
        await pilot.press(*"Aardvark Consulting", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, AccountTreeScreen)
        await settle(app, pilot)
        tree = app.screen.query_one(AccountTree)
        assert [n.data.name for n in tree.account_nodes()][0] == "Aardvark Consulting"
    assert query(admin_dsn, "SELECT parent_id FROM account WHERE name = 'Aardvark Consulting'") \
        == [(None,)]


async def test_s_creates_a_sub_account_and_e_edits_the_selected_one(jump_clock, crm, admin_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("I")  # jump to IKEA
        await settle(app, pilot)
        jump_clock.advance(1.1)  # letters typed within a second extend the jump
        await pilot.press("s")
        await settle(app, pilot)
        assert "IKEA" in str(app.screen.query_one("#account-parent").content)
        await pilot.press(*"IKEA Retail", "enter")
        await settle(app, pilot)
        await pilot.press("I")
        await settle(app, pilot)
        jump_clock.advance(1.1)
        await pilot.press("e")
        await settle(app, pilot)
        assert isinstance(app.screen, AccountFormScreen)
        await pilot.press("tab", "ctrl+u", *"Furniture", "ctrl+s")
        await settle(app, pilot)
    ikea = query(admin_dsn, "SELECT id, industry FROM account WHERE name = 'IKEA'")[0]
    assert ikea[1] == "Furniture"
    assert query(admin_dsn, "SELECT parent_id FROM account WHERE name = 'IKEA Retail'") \
        == [(ikea[0],)]


async def test_d_moves_an_account_to_the_trash_after_saying_what_goes_with_it(
    jump_clock, crm, admin_dsn
):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("V")  # Volvo Group
        await settle(app, pilot)
        jump_clock.advance(1.1)
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, DeleteConfirmModal)
        assert "sub-account" in screen_text(app)
        await pilot.press("y")
        await settle(app, pilot)
        assert "Volvo Group" not in [n.data.name
                                     for n in app.screen.query_one(AccountTree).account_nodes()]
    assert query(admin_dsn, "SELECT deleted_at IS NOT NULL FROM account "
                 "WHERE name = 'Volvo Group'") == [(True,)]  # fmt: skip


async def test_contact_keys_edit_relate_and_delete(crm, admin_dsn):
    anna = query(admin_dsn, "SELECT id FROM contact WHERE last_name = 'Lind' "
                 "AND first_name = 'Anna'")[0][0]  # fmt: skip
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.push_screen(ContactDetailScreen(anna))
        await settle(app, pilot)
        await pilot.press("e")
        await settle(app, pilot)
        assert isinstance(app.screen, ContactFormScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, ContactDetailScreen)
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, RelationshipFormScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, DeleteConfirmModal)
        await pilot.press("y")
        await settle(app, pilot)
        assert isinstance(app.screen, AccountTreeScreen)
    assert query(admin_dsn, "SELECT deleted_at IS NOT NULL FROM contact WHERE id = %s",
                 (anna,)) == [(True,)]  # fmt: skip


async def test_quick_call_log_from_a_contact_is_three_keys_plus_the_text(crm, admin_dsn):
    anna = query(admin_dsn, "SELECT id, account_id FROM contact WHERE last_name = 'Lind' "
                 "AND first_name = 'Anna'")[0]  # fmt: skip
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.push_screen(ContactDetailScreen(anna[0]))
        await settle(app, pilot)
        await pilot.press("l", "c", *"asked for a second quote", "ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ContactDetailScreen)
        assert "asked for a second quote" in screen_text(app)
        await pilot.press("t")
        await settle(app, pilot)
        from tui.screens.timeline import TimelineScreen

        assert isinstance(app.screen, TimelineScreen)
        assert "asked for a second quote" in screen_text(app)
    rows = query(admin_dsn, "SELECT kind, contact_id, account_id, author_id IS NOT NULL "
                 "FROM activity WHERE body = 'asked for a second quote' "
                 "OR subject = 'asked for a second quote'")  # fmt: skip
    assert rows == [("call", anna[0], anna[1], True)]


async def test_log_and_timeline_keys_on_the_account_tree(jump_clock, crm, admin_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("I")
        await settle(app, pilot)
        jump_clock.advance(1.1)
        await pilot.press("l", "n", *"store visit planned", "ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, AccountTreeScreen)
        await pilot.press("t")  # the tree's timeline key (3 is My day everywhere)
        await settle(app, pilot)
        assert "store visit planned" in screen_text(app)
    ikea = query(admin_dsn, "SELECT id FROM account WHERE name = 'IKEA'")[0][0]
    assert query(admin_dsn, "SELECT kind, account_id FROM activity "
                 "WHERE body = 'store visit planned' OR subject = 'store visit planned'") \
        == [("note", ikea)]  # fmt: skip


async def test_n_and_l_still_type_into_the_filter(crm):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"lind nl")
        from textual.widgets import Input

        assert app.screen.query_one("#account-filter", Input).value == "lind nl"
        assert isinstance(app.screen, AccountTreeScreen)


async def test_after_a_save_the_tree_keeps_what_was_open_and_the_cursor(jump_clock, crm, admin_dsn):
    """Saving an account refills the tree (labels may change); what was open opens again and
    the cursor comes back to the saved account."""
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("V")  # Volvo Group
        await settle(app, pilot)
        jump_clock.advance(1.1)
        await pilot.press("enter")  # open it: Volvo Cars Sverige AB, Volvo Trucks
        await settle(app, pilot)
        await pilot.press("down", "enter")  # open Volvo Cars: its plants
        await settle(app, pilot)
        tree = app.screen.query_one(AccountTree)
        assert tree.cursor_node.data.name == "Volvo Cars Sverige AB"
        before = [n.data.name for n in tree.account_nodes()]
        assert "Torslanda R&D" in before
        await pilot.press("e")
        await settle(app, pilot)
        assert isinstance(app.screen, AccountFormScreen)
        await pilot.press("tab", "ctrl+u", *"Cars", "ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, AccountTreeScreen)
        await settle(app, pilot)
        assert [n.data.name for n in tree.account_nodes()] == before
        assert tree.cursor_node.data.name == "Volvo Cars Sverige AB"
    assert query(admin_dsn, "SELECT industry FROM account WHERE name = 'Volvo Cars Sverige AB'") \
        == [("Cars",)]
