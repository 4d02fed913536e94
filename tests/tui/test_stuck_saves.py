"""No form ever sticks (issue 9 part 7, QA cases 59 and 60): a save held by another session's
lock whose backend is then terminated ends with a clear message in the form, keeps what was
typed, and the next ctrl+s saves it. Nothing is half-saved."""

from __future__ import annotations

import psycopg2
import pytest
from textual.widgets import Input, Static, TextArea

from db.connection import configure
from db.services import users
from tests.records_data import run, seed
from tui.app import SwitchboardApp
from tui.screens.account_form import AccountFormScreen
from tui.screens.admin_form import AdminForm, Field
from tui.screens.contact_form import ContactFormScreen
from tui.screens.log_activity import LogActivityScreen

LOST = "the connection to the database was lost"


@pytest.fixture
def data(installer_dsn, admin_dsn, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_PHONE_REGION", "SE")
    s = seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    return s


class Lock:
    """Another session holding a lock in an open transaction (psql's SELECT ... FOR UPDATE)."""

    def __init__(self, dsn: str, sql: str, params: tuple = ()) -> None:
        self.conn = psycopg2.connect(dsn)
        with self.conn.cursor() as cur:
            cur.execute("SET search_path = switchboard, public")
            cur.execute(sql, params or None)

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


async def settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def until(pilot, condition, what: str, rounds: int = 400) -> None:
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never happened: {what}")


def blocked_save_pid(dsn: str) -> int | None:
    rows = run(dsn, "SELECT pid FROM pg_stat_activity WHERE application_name = 'switchboard' "
               "AND wait_event_type = 'Lock' AND datname = current_database()")  # fmt: skip
    return rows[0][0] if rows else None


async def kill_the_blocked_save(pilot, dsn: str) -> None:
    """Wait until the app's save waits on the lock, then terminate its backend."""
    await until(pilot, lambda: blocked_save_pid(dsn) is not None, "the save waits on the lock")
    run(dsn, "SELECT pg_terminate_backend(%s)", (blocked_save_pid(dsn),))


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


async def save_while_the_backend_dies(app, pilot, dsn: str, lock_sql: str, params: tuple,
                                      message_at: str) -> None:  # fmt: skip
    """ctrl+s while another session's lock holds the save, terminate the saving backend, wait
    for the form's message at `message_at`, then release the lock."""
    lock = Lock(dsn, lock_sql, params)
    try:
        await pilot.press("ctrl+s")
        await kill_the_blocked_save(pilot, dsn)
        await until(pilot, lambda: LOST in text_of(app, message_at), "a message")
    finally:
        lock.release()


async def test_an_account_save_whose_backend_dies_says_so_and_saves_again(data, installer_dsn):
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(AccountFormScreen(account_id=data.globex), results.append)
        await settle(app, pilot)
        form = app.screen
        form.query_one("#f-industry", Input).value = "Blocked Save"
        await save_while_the_backend_dies(
            app, pilot, installer_dsn, "SELECT 1 FROM account WHERE id = %s FOR UPDATE",
            (data.globex,), "#form-message",
        )  # fmt: skip
        assert app.screen is form and not results
        assert "ctrl+s tries again" in text_of(app, "#form-message")
        assert form.query_one("#f-industry", Input).value == "Blocked Save"  # kept
        assert run(installer_dsn, "SELECT industry, version FROM account WHERE id = %s",
                   (data.globex,)) == [(None, 1)]  # nothing half-saved  # fmt: skip
        await pilot.press("ctrl+s")  # ready again
        await settle(app, pilot)
    assert results and results[0].action == "saved"
    assert run(installer_dsn, "SELECT industry FROM account WHERE id = %s", (data.globex,)) == [
        ("Blocked Save",)
    ]


async def test_a_contact_save_whose_backend_dies_goes_to_the_outbox_and_is_sent_once(
    data, installer_dsn
):
    """A lost connection is "the database is away" (issue 11 part 4): the edit waits in the
    outbox with what was typed, the form closes, and it is sent by itself, once."""
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ContactFormScreen(contact_id=data.anna), results.append)
        await settle(app, pilot)
        form = app.screen
        form.query_one("#f-job-title", Input).value = "CFO"
        form.query_one("#phones-value-0", Input).value = "+46 31 700 00 01"
        lock = Lock(installer_dsn, "SELECT 1 FROM contact WHERE id = %s FOR UPDATE", (data.anna,))
        try:
            await pilot.press("ctrl+s")
            await kill_the_blocked_save(pilot, installer_dsn)
            await until(pilot, lambda: app.screen is not form, "the form closes")
            assert results and results[0].action == "queued"
            assert app.outbox is not None and app.outbox_waiting == 1
            assert any("Saved on this machine" in str(n.message) for n in app._notifications)
            assert run(installer_dsn, "SELECT job_title FROM contact WHERE id = %s",
                       (data.anna,)) == [(None,)]  # fmt: skip
        finally:
            lock.release()
        await until(pilot, lambda: app.outbox_waiting == 0, "the outbox is sent")
        await settle(app, pilot)
    assert run(installer_dsn, "SELECT c.job_title, p.e164, c.version FROM contact c "
               "JOIN contact_phone p ON p.contact_id = c.id WHERE c.id = %s",
               (data.anna,)) == [("CFO", "+46317000001", 2)]  # fmt: skip


async def test_logging_an_activity_whose_backend_dies_goes_to_the_outbox(data, installer_dsn):
    app = SwitchboardApp()
    done: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(LogActivityScreen(contact_id=data.anna, about="Anna"), done.append)
        await settle(app, pilot)
        form = app.screen
        form.query_one("#body", TextArea).load_text("called about the renewal")
        lock = Lock(installer_dsn, "LOCK TABLE activity IN SHARE MODE")
        try:
            await pilot.press("ctrl+s")
            await kill_the_blocked_save(pilot, installer_dsn)
            await until(pilot, lambda: app.screen is not form, "the form closes")
            assert done == [None] and app.outbox_waiting == 1
            [entry] = app.outbox.entries()
            assert entry.uuid == form.client_uuid  # the form's own UUID: stored once at most
        finally:
            lock.release()
        await until(pilot, lambda: app.outbox_waiting == 0, "the outbox is sent")
        app.replay_outbox()  # again: nothing more
        await settle(app, pilot)
    assert run(installer_dsn, "SELECT body FROM activity") == [("called about the renewal",)]


async def test_an_admin_form_whose_backend_dies_says_so(data, installer_dsn):
    app = SwitchboardApp()
    done: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.push_screen(AdminForm("Edit sb_admin", [Field("display_name", "Name", "Ada")],
                                  lambda v: users.update_user("sb_admin", v["display_name"], None)),
                        done.append)  # fmt: skip
        await pilot.pause()
        form = app.screen
        form.query_one("#field-display_name", Input).value = "Ada Lovelace"
        await save_while_the_backend_dies(
            app, pilot, installer_dsn,
            "SELECT 1 FROM app_user WHERE username = 'sb_admin' FOR UPDATE", (), "#form-error",
        )  # fmt: skip
        assert app.screen is form and not done
        assert form.query_one("#field-display_name", Input).value == "Ada Lovelace"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    assert done == [True]
    assert run(installer_dsn, "SELECT display_name FROM app_user WHERE username = 'sb_admin'") == [
        ("Ada Lovelace",)
    ]


async def test_a_relationship_save_whose_backend_dies_says_so(data, installer_dsn):
    from db.connection import database
    from db.services import relationships
    from tui.screens.relationship_form import RelationshipFormScreen

    with database.connection_context():
        rel = relationships.create(data.anna, {"to_contact_id": data.per, "type_key": "reports_to"})
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(RelationshipFormScreen(data.anna, rel), results.append)
        await settle(app, pilot)
        form = app.screen
        form.query_one("#f-note", Input).value = "weekly 1:1"
        await save_while_the_backend_dies(
            app, pilot, installer_dsn,
            "SELECT 1 FROM contact_relationship WHERE id = %s FOR UPDATE", (rel,), "#form-message",
        )  # fmt: skip
        assert app.screen is form and form.query_one("#f-note", Input).value == "weekly 1:1"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    assert results and results[0].action == "saved"
    assert run(installer_dsn, "SELECT note FROM contact_relationship WHERE id = %s", (rel,)) == [
        ("weekly 1:1",)
    ]
