"""Outages (issue 11 part 3): the header shows a lost connection within 2 s, the app retries
with backoff and recovers by itself, what is on screen is refreshed, and no screen stays on
"Loading…". Backends are terminated with pg_terminate_backend; a dedicated server (not the
session's) is stopped and started again mid-session."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest
from textual.widgets import Input, Static

from db import migrate
from db.bootstrap import ensure_login
from db.connection import configure
from db.embedded import EmbeddedServer, free_port
from tests import fixtures_crm
from tests.tui.crm_helpers import screen_text, settle
from tests.tui.waiting import wait_until
from tui.app import SwitchboardApp
from tui.live import OUTAGE_TEXT
from tui.screens.log_activity import LogActivityScreen
from tui.screens.timeline import TimelineScreen
from tui.widgets.status_bar import StatusBar

SCHEMA = "switchboard"


def header(app) -> str:
    return app.screen.query_one(StatusBar).state


def terminate(dsn: str, application_name: str) -> int:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            (application_name,),
        )
        n = cur.fetchone()[0]
    conn.close()
    return n


def rename(dsn: str, old: str, new: str) -> None:
    conn = psycopg2.connect(dsn, options="-c search_path=switchboard")
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE account SET name = %s WHERE name = %s", (new, old))
    conn.close()


class States:
    """Every header text the app showed (a watcher on the app's link state)."""

    def __init__(self, app) -> None:
        self.seen: list[tuple[float, str]] = []
        app.screen.watch(app, "link", lambda link: self.seen.append(
            (time.monotonic(), link.describe())), init=False)  # fmt: skip

    def first(self, word: str) -> float | None:
        return next((t for t, text in self.seen if word in text), None)


@pytest.fixture
def crm(installer_dsn, admin_dsn):
    data = fixtures_crm.load(installer_dsn)
    configure(admin_dsn, SCHEMA)
    return data


async def live(app, pilot) -> None:
    await settle(app, pilot)
    await wait_until(pilot, lambda: app.hub.listener is not None and header(app) == "● live")


async def test_a_killed_listener_shows_reconnecting_and_catches_up(crm, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await live(app, pilot)
        states = States(app)
        killed_at = time.monotonic()
        assert terminate(installer_dsn, "switchboard listen") == 1
        await wait_until(pilot, lambda: "reconnecting" in header(app), timeout=2.0)
        assert states.first("reconnecting") - killed_at < 2.0
        rename(installer_dsn, "IKEA", "IKEA Group")  # while nobody listens: no notice
        await wait_until(pilot, lambda: header(app) == "● live", timeout=5.0)
        # Back: it listens again and refreshes what is shown, so the missed rename is there.
        await wait_until(pilot, lambda: "IKEA Group" in screen_text(app), timeout=3.0)


async def test_every_backend_of_the_app_killed_at_once(crm, installer_dsn):
    """Data connections and the listener terminated together: the pool replaces its dead
    connections on their next use (peewee checks them on checkout), the listener's loss shows
    in the header, and after the reconnect the screen shows what changed meanwhile."""
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await live(app, pilot)
        states = States(app)
        assert terminate(installer_dsn, "switchboard") >= 1
        assert terminate(installer_dsn, "switchboard listen") == 1
        rename(installer_dsn, "Ericsson", "Ericsson AB")
        await wait_until(pilot, lambda: states.first("reconnecting") is not None, timeout=2.0)
        await wait_until(pilot, lambda: "Ericsson AB" in screen_text(app), timeout=5.0)
        await wait_until(pilot, lambda: header(app) == "● live", timeout=5.0)
        await pilot.press("down", "down")  # and it still reads: the panel follows the cursor
        await wait_until(pilot, lambda: "Ericsson AB" in str(
            app.screen.query_one("#panel-title", Static).content), timeout=3.0)  # fmt: skip


@pytest.fixture
def own_server():
    """A server of this test's own, to stop and start (never the session's)."""
    home = Path(tempfile.mkdtemp(prefix="sbl-"))
    server = EmbeddedServer(home, port=free_port(), fast_unsafe=True)
    server.start()
    try:
        server.ensure_database("live")
        migrate.migrate(server.dsn("live"), SCHEMA)
        conn = psycopg2.connect(server.dsn("live"))
        with conn, conn.cursor() as cur:
            ensure_login(cur, SCHEMA, "sb_admin", role="admin", display_name="Ada Admin")
        conn.close()
        fixtures_crm.load(server.dsn("live"))
        configure(server.dsn("live", user="sb_admin"), SCHEMA)
        yield server
    finally:
        server.stop(mode="immediate")
        shutil.rmtree(home, ignore_errors=True)


async def test_server_stopped_and_started_again_mid_session(own_server):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await live(app, pilot)
        states = States(app)
        stopped_at = time.monotonic()
        await asyncio.to_thread(own_server.stop, "fast")
        await wait_until(pilot, lambda: "reconnecting" in header(app), timeout=2.0)
        assert states.first("reconnecting") - stopped_at < 2.0
        # A screen opened during the outage says so instead of "Loading…" for good.
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TimelineScreen), timeout=3.0)
        await wait_until(pilot, lambda: OUTAGE_TEXT[:40] in screen_text(app), timeout=3.0)
        assert "Loading…" not in screen_text(app)
        await asyncio.to_thread(own_server.start)
        # Recovers by itself: no key pressed. The timeline loads what it failed to.
        await wait_until(pilot, lambda: header(app) == "● live", timeout=15.0)
        await wait_until(pilot, lambda: "No activities yet" in screen_text(app), timeout=3.0)
        assert OUTAGE_TEXT[:40] not in screen_text(app)
        assert app.hub.listener is not None


async def test_logging_a_call_while_the_server_is_down_never_sticks(own_server):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await live(app, pilot)
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LogActivityScreen))
        await settle(app, pilot)
        form = app.screen
        form.query_one("#subject", Input).value = "called during the outage"
        await asyncio.to_thread(own_server.stop, "fast")
        # A form has no header line: a notification says it.
        await wait_until(pilot, lambda: any("reconnecting" in n.message
                                            for n in app._notifications), timeout=2.0)  # fmt: skip
        await pilot.press("ctrl+s")
        # Never a stuck "saving…": the call goes to the outbox and the form closes saying so.
        await wait_until(pilot, lambda: not isinstance(app.screen, LogActivityScreen), timeout=8.0)
        await wait_until(pilot, lambda: any("Saved on this machine" in n.message
                                            for n in app._notifications))  # fmt: skip
        assert app.outbox_waiting == 1
        await asyncio.to_thread(own_server.start)
        await wait_until(pilot, lambda: app.live is True, timeout=15.0)
        await wait_until(pilot, lambda: app.outbox_waiting == 0, timeout=15.0)
        conn = psycopg2.connect(own_server.dsn("live"))
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM switchboard.activity "
                        "WHERE subject = 'called during the outage'")  # fmt: skip
            assert cur.fetchone()[0] == 1
        conn.close()


async def test_the_slow_poll_catches_a_change_whose_notice_never_came(crm, installer_dsn):
    """The listening socket is ignored (a notice lost): the poll sees the change mark move
    with no notice since the last poll and refreshes what is shown."""
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await live(app, pilot)
        app.hub._detach()  # nothing is read from the listening connection any more
        app.hub._poll()  # the mark as it is now
        await settle(app, pilot)
        rename(installer_dsn, "H&M Group", "H&M Group AB")
        await pilot.pause(0.5)
        assert "H&M Group AB" not in screen_text(app)  # no notice was read
        app.hub._poll()  # what the 10 s timer does
        await wait_until(pilot, lambda: "H&M Group AB" in screen_text(app), timeout=3.0)
