"""The KPI screen at 80x24: the figures, enter opens the records behind one, ctrl+e CSV."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from db.connection import configure
from tests.forecast_data import LOGIN, seed
from tests.tui.test_log_activity import settle
from tui.app import SwitchboardApp
from tui.screens import kpis as kpi_screen
from tui.screens.export_prompt import ExportPrompt
from tui.screens.kpi_records import KpiRecordsScreen
from tui.screens.kpis import KpiScreen
from tui.widgets.record_list import RecordList


class _November(date):
    @classmethod
    def today(cls) -> date:
        return date(2026, 11, 15)


@pytest.fixture
def org(installer_dsn, monkeypatch):
    monkeypatch.setattr(kpi_screen, "date", _November)
    return seed(installer_dsn)


def lines(app) -> list[str]:
    listing = app.screen.query_one(RecordList)
    return [listing.render_line(y).text for y in range(listing.size.height)]


async def test_figures_and_the_records_behind_one(pg, db_name, org, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    configure(pg.dsn(db_name, user=LOGIN + "tom"), "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("8")
        await settle(app, pilot)
        assert isinstance(app.screen, KpiScreen)
        assert "Q4 2026" in str(app.screen.query_one("#kpi-title").content)
        text = lines(app)
        win = next(line for line in text if line.startswith("Win rate"))
        assert "75%" in win and "3 won of 4 closed" in win  # r4 b2 s2 won, o3 lost
        for label in ("Average deal size", "Sales cycle", "Pipeline coverage",
                      "Activities per rep per day", "Calls: reached", "Overdue follow-ups",
                      "Deals past close date"):  # fmt: skip
            assert any(line.startswith(label) for line in text), label
        assert all(len(line) <= 80 for line in text)
        await pilot.press("enter")  # the cursor starts on win rate
        await settle(app, pilot)
        assert isinstance(app.screen, KpiRecordsScreen)
        shown = "\n".join(lines(app))
        assert all(f"Deal {k}" in shown for k in ("r4", "o3", "b2", "s2"))
        assert "Deal r1" not in shown  # open deals are not behind the win rate
        r4 = next(line for line in lines(app) if "Deal r4" in line)
        assert "Account of ray" in r4 and "Won" in r4 and "Ray Rep" in r4 and len(r4) <= 80
        await pilot.press("ctrl+e")
        assert isinstance(app.screen, ExportPrompt)
        await pilot.press("enter")
        await settle(app, pilot)
        written = tmp_path / "switchboard-win_rate-2026-Q4.csv"
        got = list(csv.DictReader(written.open(encoding="utf-8")))
        assert sorted(r["name"] for r in got) == ["Deal b2", "Deal o3", "Deal r4", "Deal s2"]
        assert isinstance(app.screen, KpiRecordsScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, KpiScreen)


async def test_a_rep_sees_their_own_win_rate(pg, db_name, org):
    configure(pg.dsn(db_name, user=LOGIN + "rose"), "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("8")
        await settle(app, pilot)
        win = next(line for line in lines(app) if line.startswith("Win rate"))
        assert "0%" in win and "0 won of 1 closed" in win  # o3 lost; nobody else's deals
