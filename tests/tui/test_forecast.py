"""The forecast screen at 80x24: bars of characters, the rollup, adjusting by keyboard, CSV."""

from __future__ import annotations

import csv
from datetime import date
from types import SimpleNamespace

import psycopg2
import pytest
from textual.message import Message

from db.connection import configure
from tests.forecast_data import LOGIN, seed
from tests.tui.test_log_activity import rows, settle
from tests.tui.waiting import wait_until
from tui.app import SwitchboardApp
from tui.screens import forecast as forecast_screen
from tui.screens.export_prompt import ExportPrompt
from tui.screens.forecast import ForecastScreen
from tui.screens.forecast_adjust import AdjustForm
from tui.widgets.record_list import RecordList


class _December(date):
    @classmethod
    def today(cls) -> date:
        return date(2026, 12, 15)


@pytest.fixture
def org(installer_dsn, monkeypatch):
    monkeypatch.setattr(forecast_screen, "date", _December)
    return seed(installer_dsn)


def login(pg, db_name, who: str) -> None:
    configure(pg.dsn(db_name, user=LOGIN + who), "switchboard")


def lines(app) -> list[str]:
    listing = app.screen.query_one(RecordList)
    return [listing.render_line(y).text for y in range(listing.size.height)]


def line_of(app, name: str) -> str:
    return next(line for line in lines(app) if name in line)


async def open_forecast(app, pilot) -> None:
    await settle(app, pilot)
    await pilot.press("7")
    await settle(app, pilot)
    assert isinstance(app.screen, ForecastScreen)


async def move_to(app, pilot, name: str) -> None:
    listing = app.screen.query_one(RecordList)
    for _ in range(len(listing.rows)):
        item = listing.item
        if getattr(item, "name", None) == name:
            return
        await pilot.press("down")
    raise AssertionError(f"{name} not in the list")


async def test_mid_level_manager_sees_bars_and_the_rollup(pg, db_name, org):
    login(pg, db_name, "mia")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_forecast(app, pilot)
        title = str(app.screen.query_one("#forecast-title").content)
        assert "Dec 2026" in title and "EUR" in title and "USD" in title
        north = line_of(app, "North")
        # North Dec 2026 (tests/db/test_forecast.py): 3000, 4000, 11000, 18000, 5800
        assert north.split()[-5:] == ["3k", "4k", "11k", "18k", "5.8k"]
        # one scale for the view: North's bar is the longest; each part its own character
        assert {"█", "▓", "▒", "░"} <= set(north)
        rose = line_of(app, "Rose Rep")
        assert "░" in rose and "█" not in rose and "▓" not in rose  # pipeline only
        assert all(len(line) <= 80 for line in lines(app))
        legend = str(app.screen.query_one("#forecast-status").content)
        assert "█ closed" in legend and "░ pipeline" in legend
        assert "Sal Rep" not in "\n".join(lines(app))  # South is not mia's
        await pilot.press("p")  # the quarter: ray adds r3 (Nov), rob b2 (won in Oct)
        await settle(app, pilot)
        assert "Q4 2026" in str(app.screen.query_one("#forecast-title").content)
        assert line_of(app, "Ray Rep").split()[-5:] == ["3k", "4k", "6k", "7k", "2.8k"]
        await pilot.press("left")  # the quarter before
        await settle(app, pilot)
        assert "Q3 2026" in str(app.screen.query_one("#forecast-title").content)
        await pilot.press("right")
        await settle(app, pilot)
        await pilot.press("c")  # the next currency
        await settle(app, pilot)
        title = str(app.screen.query_one("#forecast-title").content)
        assert "Q4 2026" in title and "· USD" in title, title


async def test_adjust_by_keyboard_is_stored_and_shown(pg, db_name, org, installer_dsn):
    login(pg, db_name, "mia")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_forecast(app, pilot)
        await move_to(app, pilot, "Ray Rep")
        await pilot.press("a")
        assert isinstance(app.screen, AdjustForm)
        await pilot.press(*"abc", "enter")
        error = str(app.screen.query_one("#adjust-error").content)
        assert error.startswith("Amount: must be a number")
        assert rows(installer_dsn, "SELECT count(*) FROM forecast_adjustment") == [(0,)]
        app.screen.query_one("#adjust-amount").value = ""
        await pilot.press(*"5k", "tab", *"PO promised", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ForecastScreen)
        assert rows(installer_dsn, "SELECT a.category, a.amount, a.note, u.username "
                    "FROM forecast_adjustment a JOIN app_user u ON u.id = a.adjusted_by") == [
            ("commit", 5000, "PO promised", LOGIN + "mia")]  # fmt: skip
        adj = next(line for line in lines(app) if "adj commit" in line)
        assert "adj commit 5k by Mia Mid" in adj
        assert "adj total commit 5k" in "\n".join(lines(app))  # Alpha and North roll it up
        await move_to(app, pilot, "Ray Rep")
        await pilot.press("a")  # the form shows the history, newest first
        await settle(app, pilot)
        history = str(app.screen.query_one("#adjust-history").content)
        assert "Mia Mid: commit 5k EUR (PO promised)" in history
        await pilot.press("escape")


async def test_a_rep_cannot_adjust(pg, db_name, org, installer_dsn):
    login(pg, db_name, "ray")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_forecast(app, pilot)
        assert [line.split()[0] for line in lines(app) if line.strip()] == ["Ray", "Total"]
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, ForecastScreen)
        assert rows(installer_dsn, "SELECT count(*) FROM forecast_adjustment") == [(0,)]


async def test_ctrl_e_writes_the_view_as_csv(pg, db_name, org, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    login(pg, db_name, "tom")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_forecast(app, pilot)
        await pilot.press("ctrl+e")
        assert isinstance(app.screen, ExportPrompt)
        default = app.screen.query_one("#export-path").value
        assert default == str(tmp_path / "switchboard-forecast-2026-12.csv")
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ForecastScreen)
        got = list(csv.DictReader((tmp_path / "switchboard-forecast-2026-12.csv").open()))
        org_row = next(r for r in got if r["name"] == "Org")
        assert org_row["pipeline"] == "26000.00" and got[-1]["level"] == "total"


class RecordsChanged(Message):
    """A RecordsChanged posted by the test itself (same name, same handler)."""

    def __init__(self, changes) -> None:  # noqa: ANN001
        super().__init__()
        self.changes = changes


async def test_a_change_notice_reloads_the_figures(pg, db_name, org, installer_dsn):
    login(pg, db_name, "tom")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_forecast(app, pilot)
        assert line_of(app, "Sal Rep").split()[-5:] == ["1.5k", "9.5k", "9.5k", "8k", "6k"]
        conn = psycopg2.connect(installer_dsn)
        with conn, conn.cursor() as cur:
            cur.execute("UPDATE switchboard.opportunity SET amount = 20000 WHERE id = %s",
                        (org.deals["s1"],))  # fmt: skip
        conn.close()
        unrelated = SimpleNamespace(everything=False, touches=lambda t, *a, **k: t == "contact")
        app.screen.post_message(RecordsChanged(unrelated))
        await settle(app, pilot)
        assert line_of(app, "Sal Rep").split()[-2] == "8k"  # not re-read for a contact
        deal = SimpleNamespace(everything=False, touches=lambda t, *a, **k: t == "opportunity")
        app.screen.post_message(RecordsChanged(deal))
        await wait_until(pilot, lambda: line_of(app, "Sal Rep").split()[-2] == "20k")


async def test_an_agent_is_told_the_forecast_is_not_for_them(pg, db_name, org, installer_dsn):
    from db.bootstrap import ensure_login

    conn = psycopg2.connect(installer_dsn)
    with conn, conn.cursor() as cur:
        ensure_login(cur, "switchboard", LOGIN + "agent", role="agent", display_name="Agent")
    conn.close()
    login(pg, db_name, "agent")
    # Opens on the forecast: the account tree's first page is refused to agents (it sums deals;
    # a failure of that screen, not of this one).
    app = SwitchboardApp(start_screen="forecast")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, ForecastScreen)
        assert "your role has no access to deals" in lines(app)[0]
        await pilot.press("8")
        await settle(app, pilot)
        assert "your role has no access to deals" in lines(app)[0]


async def test_hostile_names_are_shown_literally(pg, db_name, org, installer_dsn):
    from tests import hostile

    conn = psycopg2.connect(installer_dsn)
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE switchboard.app_user SET display_name = %s WHERE id = %s",
                    (hostile.MARKUP_ACTION, org.users["rose"]))  # fmt: skip
        cur.execute("UPDATE switchboard.app_user SET display_name = %s WHERE id = %s",
                    (hostile.OSC_TITLE, org.users["rob"]))  # fmt: skip
        cur.execute("UPDATE switchboard.team SET name = %s WHERE id = %s",
                    (hostile.MARKUP_CLOSE, org.teams["Alpha"]))  # fmt: skip
    conn.close()
    login(pg, db_name, "mia")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_forecast(app, pilot)
        text = "\n".join(lines(app))
        assert "[@click=app.qu" in text and "Smith [/]" in text
        assert "\x1b" not in text and "A\ufffd]2;PWNED" in text
