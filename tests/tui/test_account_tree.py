"""The account tree at 80x24: lazy loading, paging, filter, type-to-jump, opening contacts."""

from __future__ import annotations

import pytest

from db.connection import configure
from tests import fixtures_crm
from tests.tui.crm_helpers import counting_queries, screen_text, settle
from tui.app import SwitchboardApp
from tui.screens.account_tree import AccountTreeScreen
from tui.screens.contact_detail import ContactDetailScreen
from tui.widgets.account_tree import AccountTree, MoreNode


@pytest.fixture
def crm(installer_dsn, admin_dsn):
    data = fixtures_crm.load(installer_dsn)
    configure(admin_dsn, "switchboard")
    return data


def names(tree: AccountTree) -> list[str]:
    return [n.data.name for n in tree.account_nodes()]


def cursor_name(tree: AccountTree) -> str:
    return tree.cursor_node.data.name


def child_pages(q) -> list[str]:
    """The statements that loaded a page of children (accounts.children)."""
    return [sql for sql in q.statements if "a.parent_id = %s" in sql]


async def test_roots_show_with_summaries_and_panel(crm):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, AccountTreeScreen)
        tree = app.screen.query_one(AccountTree)
        assert names(tree) == ["Big Holding", "Deep 00", "Ericsson", "H&M Group", "IKEA",
                               "Volvo Group"]  # fmt: skip
        assert cursor_name(tree) == "Big Holding"
        text = screen_text(app)
        assert len(text.splitlines()) == 24  # one line per row: no row carries a newline
        assert "Big Holding  0 · —" in text
        assert "Gone AB" not in text
        assert "Subtree: 251 accounts" in text


async def test_expand_collapse_and_panel_of_a_child(crm, monkeypatch):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        tree = app.screen.query_one(AccountTree)
        tree.focus()
        await pilot.press("end")  # Volvo Group, the last root
        await settle(app, pilot)
        assert cursor_name(tree) == "Volvo Group"
        with counting_queries(monkeypatch) as q:
            await pilot.press("enter")
            await settle(app, pilot)
        assert q.count == 1  # one page of children, nothing else
        assert names(tree)[-3:] == ["Volvo Group", "Volvo Cars Sverige AB", "Volvo Trucks"]
        await pilot.press("j")
        await settle(app, pilot)
        assert cursor_name(tree) == "Volvo Cars Sverige AB"
        text = screen_text(app)
        assert "Volvo Cars Sverige AB  4 · 500k" in text
        assert "Volvo Group › Volvo Cars Sverige AB" in text
        assert "Automotive · SIC 3711 · 43,000 staff" in text
        # collapse from the child: go up, enter again
        await pilot.press("k", "enter")
        await settle(app, pilot)
        assert "Volvo Cars Sverige AB" not in names(tree)
        # expanding again reuses the loaded children: no query
        with counting_queries(monkeypatch) as q:
            await pilot.press("enter")
            await settle(app, pilot)
        assert q.count == 0
        assert "Volvo Trucks" in names(tree)


async def test_expand_of_250_children_is_one_query_and_pages(crm, monkeypatch):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        tree = app.screen.query_one(AccountTree)
        assert cursor_name(tree) == "Big Holding"
        with counting_queries(monkeypatch) as q:
            await pilot.press("enter")
            await settle(app, pilot)
        assert q.count == 1
        big = tree.cursor_node
        assert len(big.children) == 101  # 100 accounts and "…more"
        assert isinstance(big.children[-1].data, MoreNode)
        # walking onto "…more" loads the next page by itself, one query per page (the panel
        # then follows the cursor onto the page's first account with its own queries)
        with counting_queries(monkeypatch) as q:
            tree.move_cursor(big.children[-1])
            await settle(app, pilot)
        assert len(child_pages(q)) == 1
        assert len(big.children) == 201
        assert panel_name(app) == cursor_name(tree) == "Sub 101"
        with counting_queries(monkeypatch) as q:
            tree.move_cursor(big.children[-1])
            await pilot.press("enter")
            await settle(app, pilot)
        assert len(child_pages(q)) == 1
        subs = [c.data.name for c in big.children]
        assert subs == [f"Sub {i:03d}" for i in range(1, 251)]


async def test_deep_chain_expands_level_by_level(crm):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        tree = app.screen.query_one(AccountTree)
        await pilot.press("j")  # Deep 00
        for _ in range(11):
            await pilot.press("enter")
            await settle(app, pilot, rounds=1)
            await pilot.press("j")
        await settle(app, pilot)
        assert cursor_name(tree) == "Deep 11"
        assert "Deep 00 › Deep 01 › Deep 02" in screen_text(app)


async def test_filter_replaces_roots_and_escape_clears(crm):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        tree = app.screen.query_one(AccountTree)
        await pilot.press("slash")
        await pilot.press(*"plant")
        await pilot.press("enter")
        await settle(app, pilot)
        assert names(tree) == ["Göteborg plant"]
        assert app.focused is tree
        assert "in Volvo Cars Sverige AB" in screen_text(app)
        await pilot.press("escape")
        await settle(app, pilot)
        assert names(tree)[0] == "Big Holding" and len(names(tree)) == 6
        await pilot.press("slash", *"zzz", "enter")
        await settle(app, pilot)
        assert names(tree) == [] and "no accounts match" in screen_text(app)


async def test_type_to_jump(jump_clock, crm):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        tree = app.screen.query_one(AccountTree)
        await pilot.press("v")
        assert cursor_name(tree) == "Volvo Group"
        await pilot.press("o")  # "vo" within a second: still Volvo Group
        assert cursor_name(tree) == "Volvo Group"
        await pilot.press("l")  # "vol": l (log) is a jump letter here, no form opens
        assert cursor_name(tree) == "Volvo Group"
        assert isinstance(app.screen, AccountTreeScreen)
        jump_clock.advance(1.1)
        await pilot.press("I")
        assert cursor_name(tree) == "IKEA"
        jump_clock.advance(1.1)
        await pilot.press("g")  # not a key of this screen: a jump (no account starts so)
        assert cursor_name(tree) == "IKEA"
        jump_clock.advance(1.1)
        await pilot.press("D")  # d is delete; upper case always jumps
        assert cursor_name(tree) == "Deep 00"
        jump_clock.advance(1.1)
        await pilot.press("H", "&")  # "H&" within a second: H&M Group
        assert cursor_name(tree) == "H&M Group"
        jump_clock.advance(1.1)
        await pilot.press("j")  # j is a key, not a jump: one down
        assert cursor_name(tree) == "IKEA"
        await pilot.press("V", "down", "k")  # "down" ends the jump: k moves up, no "Vk" jump
        assert cursor_name(tree) == "IKEA"


async def test_open_contact_from_the_panel_and_walk_the_list(crm):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("V", "enter")  # Volvo Group, expand
        await settle(app, pilot)
        await pilot.press("j")  # Volvo Cars Sverige AB
        await settle(app, pilot)
        await pilot.press("c")
        await pilot.press("end", "enter")  # Anna Lind is the last of four
        await settle(app, pilot)
        assert isinstance(app.screen, ContactDetailScreen)
        text = screen_text(app)
        assert "Anna Lind · CFO · Volvo Cars Sverige AB" in text
        assert "[4 of 4]" in text
        await pilot.press("left_square_bracket")
        await settle(app, pilot)
        assert "Maja Holm · Assistant" in screen_text(app)
        assert "[3 of 4]" in screen_text(app)
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, AccountTreeScreen)


async def test_h_opens_the_history_of_the_selected_account(crm):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("h")
        await settle(app, pilot)
        from tui.screens.history import HistoryScreen

        assert isinstance(app.screen, HistoryScreen)
        shown = (app.screen.table_name, app.screen.row_id)
        assert shown == ("account", crm.accounts["Big Holding"])


# ---------------------------------------------------------------- one record, always (part 4)


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def panel_name(app) -> str:
    return str(app.screen.query_one("#account-panel").border_title or "")


async def filter_to(app, pilot, text: str) -> None:
    await pilot.press("slash", *text, "enter")
    await settle(app, pilot)


async def test_after_a_filter_every_key_acts_on_the_account_shown(crm):
    from tui.screens.account_form import AccountFormScreen
    from tui.screens.confirm import DeleteConfirmModal
    from tui.screens.contact_form import ContactFormScreen

    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("j", "j")  # Ericsson: highlighted before the filter
        await settle(app, pilot)
        await filter_to(app, pilot, "Volvo Trucks")  # one match
        tree = app.screen.query_one(AccountTree)
        assert names(tree) == ["Volvo Trucks"]
        assert cursor_name(tree) == "Volvo Trucks"
        assert panel_name(app) == "Volvo Trucks"
        assert "Volvo Group › Volvo Trucks" in screen_text(app)
        trucks = crm.accounts["Volvo Trucks"]
        await pilot.press("s")
        await settle(app, pilot)
        assert isinstance(app.screen, AccountFormScreen) and app.screen.parent_id == trucks
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, DeleteConfirmModal) and app.screen.record_id == trucks
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("c", "n")
        await settle(app, pilot)
        assert isinstance(app.screen, ContactFormScreen) and app.screen.account_id == trucks


async def test_the_panel_follows_the_cursor_at_once(crm):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert panel_name(app) == "Big Holding"
        await pilot.press("j")
        await pilot.pause()  # before the panel's data arrives
        assert panel_name(app) == "Deep 00"
        assert "Subtree: 251" not in screen_text(app)  # nothing of Big Holding is left
        await settle(app, pilot)
        assert "Subtree: 12 accounts" in screen_text(app)


async def test_c_highlights_the_first_contact(crm):
    from tui.screens.contact_form import ContactFormScreen

    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await filter_to(app, pilot, "Volvo Cars")
        await pilot.press("c")
        await pilot.press("e")
        await settle(app, pilot)
        assert isinstance(app.screen, ContactFormScreen)
        assert app.screen.record_id == crm.contacts["Erik Berg"]
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ContactDetailScreen)
        assert "Erik Berg" in screen_text(app)


async def test_with_nothing_selected_a_key_says_so(crm):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("c")  # Big Holding has no contacts
        await pilot.pause()
        assert any("no contacts" in n.lower() for n in notices(app))
        await filter_to(app, pilot, "zzz")
        for key in ("e", "d", "s", "l", "h", "t"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, AccountTreeScreen), key
        assert sum("no account" in n.lower() for n in notices(app)) == 6
        assert "Subtree" not in screen_text(app)  # the panel shows no account either


async def test_an_account_that_became_invisible_leaves_the_tree(crm, installer_dsn):
    import psycopg2

    from tui.screens.account_form import AccountFormScreen

    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("j", "j", "j", "j")  # IKEA
        await settle(app, pilot)
        assert cursor_name(app.screen.query_one(AccountTree)) == "IKEA"
        conn = psycopg2.connect(installer_dsn)
        with conn, conn.cursor() as cur:  # someone else moves it out of this person's sight
            cur.execute("UPDATE switchboard.account SET deleted_at = now() WHERE name = 'IKEA'")
        conn.close()
        await pilot.press("e")
        await settle(app, pilot)
        assert not isinstance(app.screen, AccountFormScreen)
        tree = app.screen.query_one(AccountTree)
        assert "IKEA" not in names(tree)
        assert any("IKEA" in n and "no longer" in n for n in notices(app))
        assert panel_name(app) == cursor_name(tree)


async def test_job_titles_use_the_width_there_is(crm, installer_dsn):
    import psycopg2

    conn = psycopg2.connect(installer_dsn)
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE switchboard.contact SET job_title = 'Head of Fleet Procurement' "
                    "WHERE first_name = 'Erik' AND last_name = 'Berg'")  # fmt: skip
    conn.close()
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await filter_to(app, pilot, "Volvo Cars")
        assert "Head of Fleet Procurement" in screen_text(app)


async def test_t_is_the_timeline_and_3_my_day(crm):
    from tui.screens.help import HelpScreen
    from tui.screens.my_day import MyDayScreen
    from tui.screens.timeline import TimelineScreen

    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause()
        rows = dict(zip((str(w.content) for w in app.screen.query(".help-key")),
                        (str(w.content) for w in app.screen.query(".help-words")),
                        strict=True))  # fmt: skip
        assert rows["t"].startswith("Timeline") and rows["3"].startswith("My day")
        assert "^l" in rows
        await pilot.press("escape", "t")
        await settle(app, pilot)
        assert isinstance(app.screen, TimelineScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        assert isinstance(app.screen, MyDayScreen)


async def test_an_agent_walks_the_tree_without_deal_values(installer_dsn, pg, db_name):
    """Agents may not read deals: the tree, the rollup and the panel leave the deal value out
    instead of failing with "permission denied for table opportunity"."""
    import psycopg2

    from db.bootstrap import ensure_login

    fixtures_crm.load(installer_dsn)
    conn = psycopg2.connect(installer_dsn)
    with conn, conn.cursor() as cur:
        ensure_login(cur, "switchboard", "tree_agent", role="agent", display_name="Tree Agent")
        cur.execute("UPDATE switchboard.sharing_default SET access = 'public_read'")
    conn.close()
    configure(pg.dsn(db_name, user="tree_agent"), "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, AccountTreeScreen)
        tree = app.screen.query_one(AccountTree)
        assert "Volvo Group" in names(tree)
        tree.focus()
        await pilot.press("end")
        await settle(app, pilot)
        text = screen_text(app)
        assert "Subtree: 5 accounts" in text and "Fleet renewal" not in text
        assert not [n for n in app._notifications if n.severity == "error"], [
            n.message for n in app._notifications]
