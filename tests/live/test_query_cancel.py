"""A screen the person left cancels its running query (issue 11 part 5): the statement stops
in PostgreSQL at once instead of running on to the statement timeout."""

from __future__ import annotations

import time

import psycopg2

from db.connection import configure, database
from db.services import history
from tests.tui.crm_helpers import settle
from tests.tui.waiting import wait_until
from tui.app import SwitchboardApp
from tui.screens.history import HistoryScreen

SLEEP = "SELECT pg_sleep(30) -- the slow history"


def running(dsn: str) -> int:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                        "AND query = %s", (SLEEP,))  # fmt: skip
            return cur.fetchone()[0]
    finally:
        conn.close()


async def test_leaving_a_screen_cancels_its_query(admin_dsn, installer_dsn, monkeypatch):
    configure(admin_dsn, "switchboard")
    outcome: dict[str, BaseException | None] = {}

    def slow(*args, **kwargs):
        try:
            database.execute_sql(SLEEP)
        except Exception as exc:  # noqa: BLE001 (what the cancel did to it)
            outcome["error"] = exc
            raise
        outcome["error"] = None

    monkeypatch.setattr(history, "record_history", slow)
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.push_screen(HistoryScreen("account", 1, "Volvo"))
        await wait_until(pilot, lambda: running(installer_dsn) == 1, timeout=5.0)
        left = time.monotonic()
        await pilot.press("escape")  # the person moves on
        await wait_until(pilot, lambda: running(installer_dsn) == 0, timeout=2.0)
        assert time.monotonic() - left < 2.0  # not the 30 s of the sleep
        await wait_until(pilot, lambda: "error" in outcome, timeout=2.0)
        assert "canceling statement due to user request" in str(outcome["error"])
        assert not isinstance(app.screen, HistoryScreen) and app.is_running
