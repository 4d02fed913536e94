"""One key, one meaning (issue 9, part 10): digits are screens everywhere, record actions are
letters (timeline = t), and help shows the keymap of docs/keymap.md."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import psycopg2
import pytest
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

import tui.screens
from db.connection import configure
from tests import fixtures_crm
from tests.tui.crm_helpers import settle
from tui.app import SwitchboardApp
from tui.screens.contact_detail import ContactDetailScreen
from tui.screens.help import HelpScreen
from tui.screens.my_day import MyDayScreen
from tui.screens.timeline import TimelineScreen


def screen_classes() -> list[type[Screen]]:
    found = []
    for module in pkgutil.iter_modules(tui.screens.__path__):
        loaded = importlib.import_module(f"tui.screens.{module.name}")
        for _name, cls in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(cls, Screen) and cls.__module__ == loaded.__name__:
                found.append(cls)
    return found


def test_no_screen_gives_a_digit_another_meaning():
    """Digits belong to the app (1 accounts, 3 my day, 9 trash, 0 admin) on every screen."""
    clashes = []
    for cls in screen_classes():
        for binding in cls.BINDINGS:
            keys = binding.key if isinstance(binding, Binding) else binding[0]
            clashes += [(cls.__name__, k) for k in keys.split(",") if k.strip().isdigit()]
    assert clashes == []


@pytest.fixture
def crm(installer_dsn, admin_dsn):
    data = fixtures_crm.load(installer_dsn)
    configure(admin_dsn, "switchboard")
    return data


def anna(admin_dsn: str) -> int:
    conn = psycopg2.connect(admin_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM switchboard.contact WHERE last_name = 'Lind' "
                        "AND first_name = 'Anna'")  # fmt: skip
            return cur.fetchone()[0]
    finally:
        conn.close()


async def test_on_a_contact_t_is_its_timeline_and_3_is_my_day(crm, admin_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.push_screen(ContactDetailScreen(anna(admin_dsn)))
        await settle(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        assert isinstance(app.screen, TimelineScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, ContactDetailScreen)
        await pilot.press("3")
        await settle(app, pilot)
        assert isinstance(app.screen, MyDayScreen)


async def test_help_shows_the_keymap(crm, admin_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        # The keymap follows the screen's own keys: read every line, scrolled into view or not.
        text = "\n".join(str(s.content) for s in app.screen.query(Static))
        for line in ("Everywhere", "3            My day", "t            Timeline of the",
                     "In a form or dialog"):  # fmt: skip
            assert line in text, line
