"""The database goes away in the middle of work (issue 11 part 4): every write entered during
the outage waits in the outbox and is in the database exactly once afterwards; an app killed
with writes waiting delivers them at its next start.

These tests stop and start a server of their own (the session's server stays up for the rest
of the suite), as the person `rita` of tests/activity_data.py.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from datetime import datetime
from pathlib import Path

import psycopg2
import pytest
from textual.widgets import Input

from db import migrate
from db.bootstrap import ensure_login
from db.connection import configure, database
from db.embedded import EmbeddedServer, free_port
from db.outbox import Outbox
from db.services import activities as acts
from tests.activity_data import seed
from tests.tui.pty_run import PtyApp
from tests.tui.waiting import wait_until
from tui.app import SwitchboardApp
from tui.messages import ConnectionChanged
from tui.screens.contact_form import ContactFormScreen
from tui.screens.log_activity import LogActivityScreen
from tui.screens.my_day import MyDayScreen
from tui.widgets.record_list import RecordList
from tui.widgets.status_bar import StatusBar

SCHEMA = "switchboard"
DB = "crm"


@pytest.fixture(scope="module")
def server():
    home = Path(tempfile.mkdtemp(prefix="sbo-"))
    srv = EmbeddedServer(home, port=free_port(), fast_unsafe=True)
    srv.start()
    try:
        srv.ensure_database(DB)
        migrate.migrate(srv.dsn(DB), SCHEMA)
        conn = psycopg2.connect(srv.dsn(DB))
        with conn, conn.cursor() as cur:
            ensure_login(cur, SCHEMA, "sb_admin", role="admin", display_name="Ada Admin")
        conn.close()
        yield srv
    finally:
        srv.stop(mode="immediate")
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def world(server):
    """A fresh database on the own server, seeded; the process configured as rita."""
    server.start()  # a test that failed half-way may have left it stopped
    name = f"crm_{os.getpid()}_{time.monotonic_ns() % 10**9}"
    admin = psycopg2.connect(server.dsn())
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{DB}"')
    admin.close()
    data = seed(server.dsn(name))
    dsn = server.dsn(name, user="rita")
    configure(dsn, SCHEMA)
    with database.connection_context():
        followup = acts.log("task", subject="send the offer", contact_id=data.contact_id,
                            due_at=datetime.now().astimezone())  # fmt: skip
        data.ids["later"] = acts.log("task", subject="book the visit",
                                     contact_id=data.contact_id,
                                     due_at=datetime.now().astimezone()).id  # fmt: skip
    database.close_all()
    try:
        yield data, name, dsn, followup
    finally:
        database.close_all()
        server.start()
        admin = psycopg2.connect(server.dsn())  # the first one died with the server
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def one(server, name: str, sql: str, params: tuple = ()) -> object:
    conn = psycopg2.connect(server.dsn(name), options=f"-c search_path={SCHEMA}")
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone()[0]
    finally:
        conn.close()


def outbox_of(dsn: str) -> Outbox:
    return Outbox.for_connection(dsn, SCHEMA)


async def test_everything_entered_while_the_server_is_down_arrives_once(world, server):
    data, name, dsn, followup = world
    app = SwitchboardApp(start_screen="my_day")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, MyDayScreen)
                         and app.screen.query_one(RecordList).items)  # fmt: skip
        my_day = app.screen
        # A contact edit opened while the database is there, saved after it went away.
        app.push_screen(ContactFormScreen(contact_id=data.contact_id))
        await wait_until(pilot, lambda: getattr(app.screen, "ready", False))
        app.screen.query_one("#f-city", Input).value = "Göteborg"

        server.stop(mode="fast")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is my_day and app.outbox_waiting == 1)
        # Done on My day.
        listing = my_day.query_one(RecordList)
        listing.focus()
        assert [a.id for a in listing.items] == [followup.id, data.ids["later"]]
        await pilot.press("x")
        await wait_until(pilot, lambda: app.outbox_waiting == 2)
        assert [a.id for a in listing.items] == [data.ids["later"]]  # off the list
        # Rescheduled on My day (r, a new day, enter).
        await pilot.press("r")
        await wait_until(pilot, lambda: app.screen is not my_day)
        await pilot.press("+", "3", "enter")
        await wait_until(pilot, lambda: app.outbox_waiting == 3)
        assert not listing.items
        # A call logged in the form, and a quick call (l c, notes, ctrl+s).
        for notes in ("called during the outage", "quick call during the outage"):
            app.push_screen(LogActivityScreen(contact_id=data.contact_id, about="Anna Lind"))
            await pilot.pause()
            await pilot.press("c", *notes, "ctrl+s")
            await wait_until(pilot, lambda: app.screen is my_day)
        await wait_until(pilot, lambda: app.outbox_waiting == 5)
        bar = my_day.query_one(StatusBar)
        await wait_until(pilot, lambda: bar.outbox_waiting == 5)
        assert "⇡5 waiting" in str(bar.render())
        assert any("Saved on this machine" in str(n.message) for n in app._notifications)
        assert [e.kind for e in app.outbox.waiting()] == [
            "edit_contact", "complete_followup", "reschedule_followup", "log_activity",
            "log_activity",
        ]  # fmt: skip

        server.start()
        app.post_message(ConnectionChanged(True))  # what the live hub posts on reconnect
        await wait_until(pilot, lambda: app.outbox_waiting == 0, timeout=30)
        await wait_until(pilot, lambda: bar.outbox_waiting == 0)
        assert "waiting" not in str(bar.render())
        app.replay_outbox()  # again: nothing more is stored
        await app.workers.wait_for_complete()
    for body in ("called during the outage", "quick call during the outage"):
        assert one(server, name, "SELECT count(*) FROM activity WHERE body = %s", (body,)) == 1
    assert one(server, name, "SELECT version FROM activity WHERE id = %s AND completed_at IS "
               "NOT NULL", (followup.id,)) == followup.version + 1  # fmt: skip
    assert one(server, name, "SELECT city FROM contact WHERE id = %s",
               (data.contact_id,)) == "Göteborg"  # fmt: skip
    assert one(server, name, "SELECT (due_at::date - current_date) || ' ' || version FROM "
               "activity WHERE id = %s", (data.ids["later"],)) == "3 2"  # fmt: skip
    assert one(server, name, "SELECT count(*) FROM applied_write") == 3
    assert outbox_of(dsn).count() == 0


def test_an_app_killed_with_writes_waiting_delivers_them_at_the_next_start(world, server):
    data, name, dsn, followup = world
    box = outbox_of(dsn)
    app = start_app(dsn, "my_day")
    try:
        app.wait_for(b"send the offer")
        app.wait_quiet()
        server.stop(mode="fast")
        os.write(app.master, b"x")  # done, while the database is away
        deadline = time.monotonic() + 20
        while box.count() < 1:
            assert time.monotonic() < deadline, app.output[-400:]
            app.read_for(0.05)
        app.wait_for(b"waiting")
        os.killpg(app.process.pid, signal.SIGKILL)  # no goodbye, no flush
        app.process.wait()
    finally:
        if app.process.poll() is None:
            app.process.kill()
            app.process.wait()
        os.close(app.master)
    [entry] = box.entries()
    assert entry.kind == "complete_followup" and entry.payload["activity_id"] == followup.id

    server.start()
    assert one(server, name, "SELECT completed_at FROM activity WHERE id = %s",
               (followup.id,)) is None  # fmt: skip
    again = start_app(dsn, "my_day")
    try:
        deadline = time.monotonic() + 30
        while box.count():
            assert time.monotonic() < deadline, again.output[-400:]
            again.read_for(0.05)
        again.wait_for(b"Sent 1 write")
    finally:
        again.close()
    assert one(server, name, "SELECT version FROM activity WHERE id = %s AND completed_at IS "
               "NOT NULL", (followup.id,)) == followup.version + 1  # fmt: skip


def start_app(dsn: str, screen: str) -> PtyApp:
    """tests/tui/pty_run.py's PtyApp, opening on `screen`, with the schema given."""
    app = PtyApp.__new__(PtyApp)
    app.master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color"}
    app.process = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--dsn", dsn, "--schema", SCHEMA, "--screen", screen],
        stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
        start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    app.output = b""
    return app


async def test_a_save_in_flight_when_the_server_stops_is_stored_once(world, server):
    """The save is held by another session's lock (it has sent its INSERT and waits), and the
    server stops under it: the call goes to the outbox and arrives once after the restart."""
    from textual.widgets import TextArea

    data, name, dsn, _followup = world
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.me is not None and app.outbox is not None)
        app.push_screen(LogActivityScreen(contact_id=data.contact_id, about="Anna Lind"))
        await pilot.pause()
        form = app.screen
        form.query_one("#body", TextArea).load_text("in flight")
        holder = psycopg2.connect(server.dsn(name), options=f"-c search_path={SCHEMA}")
        with holder.cursor() as cur:
            cur.execute("SELECT 1 FROM contact WHERE id = %s FOR UPDATE", (data.contact_id,))

        def waiting() -> bool:
            return one(server, name, "SELECT count(*) FROM pg_stat_activity WHERE "
                       "wait_event_type = 'Lock' AND usename = 'rita'") == 1  # fmt: skip

        await pilot.press("ctrl+s")
        await wait_until(pilot, waiting)
        server.stop(mode="fast")
        holder.close()
        await wait_until(pilot, lambda: app.screen is not form and app.outbox_waiting == 1)
        server.start()
        app.post_message(ConnectionChanged(True))
        await wait_until(pilot, lambda: app.outbox_waiting == 0, timeout=30)
    assert one(server, name, "SELECT count(*) FROM activity WHERE body = 'in flight'") == 1
