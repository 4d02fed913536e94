"""Call console at 80x24 by keyboard: number → caller card → Esc + outcome key → the call in the
database with outcome, notes, direction and duration; wrap-up enforced; do-not-call warned;
unknown number → new contact prefilled; callback booked and taken; a screen pop reaches the
app of its user only."""

from __future__ import annotations

import psycopg2
import pytest

from db.connection import configure
from tests.activity_data import seed
from tests.tui.test_log_activity import rows, settle
from tests.tui.waiting import wait_until
from tui.app import SwitchboardApp
from tui.screens.console import ConsoleScreen
from tui.screens.console_prompts import CallbackPrompt, ConfirmCall


@pytest.fixture
def data(installer_dsn, admin_dsn):
    s = seed(installer_dsn)
    conn = psycopg2.connect(installer_dsn, options="-c search_path=switchboard")
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO contact_phone (contact_id, raw, e164) VALUES "
                    "(%s, '070-123 45 67', '+46701234567'), (%s, '031-59 00 12', '+4631590012')",
                    (s.contact_id, s.contact2_id))  # fmt: skip
        cur.execute("UPDATE contact SET job_title = 'CFO' WHERE id = %s", (s.contact_id,))
        cur.execute("UPDATE contact SET do_not_call = true WHERE id = %s", (s.contact2_id,))
        cur.execute("INSERT INTO support_case (account_id, contact_id, subject, status) "
                    "VALUES (%s, %s, 'invoice copy', 'waiting')", (s.root_id, s.contact_id))
    conn.close()
    configure(admin_dsn, "switchboard")
    return s


def text(app) -> str:
    screen = app.screen
    return "\n".join(
        str(w.render()) for w in screen.query("Static") if w.display
    )


async def open_console(app, pilot) -> ConsoleScreen:
    await settle(app, pilot)
    await pilot.press("5")
    await settle(app, pilot)
    assert isinstance(app.screen, ConsoleScreen)
    return app.screen


async def test_number_to_card_to_logged_outcome(data, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        console = await open_console(app, pilot)
        # a mistyped number starts no call (nothing to wrap up): the field stays the agent's
        await pilot.press(*"070", "enter")
        await settle(app, pilot)
        assert not console.on_call and not app.screen.query_one("#number").disabled
        assert "number: needs at least 7 digits (fix it and press enter)" in text(app)
        await pilot.press("backspace", "backspace", "backspace")
        assert app.screen.query_one("#number").value == ""
        await pilot.press(*"070-123 45 67", "enter")
        await settle(app, pilot)
        shown = text(app)
        assert "Anna Lind · CFO · Volvo Group" in shown
        assert "#" in shown and "invoice copy (waiting on customer" in shown and "SLA" in shown
        assert "Fleet renewal" in shown  # an admin reads deals
        assert "☎ 00:0" in shown and "on call" in shown
        # the Notes field has the cursor: letters are text, not outcome keys
        await pilot.press(*"asked for a copy")
        assert app.focused.id == "notes"
        # wrap-up: no new number while the outcome is not set
        assert app.screen.query_one("#number").disabled
        await pilot.press("escape", "b")
        await settle(app, pilot)
        assert rows(installer_dsn, "SELECT count(*) FROM activity") == [(0,)]
        await pilot.press("r")
        await settle(app, pilot)
        assert "Logged: reached · Anna Lind" in text(app)
        assert not console.on_call and app.focused.id == "number"
    assert rows(installer_dsn, "SELECT kind, direction, outcome, body, contact_id, account_id, "
                "duration_seconds >= 0 FROM activity") == [
        ("call", "in", "reached", "asked for a copy", data.contact_id, data.root_id, True)]


async def test_dnc_warning_before_outbound_and_unknown_number(data, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_console(app, pilot)
        await pilot.press(*"031 59 00 12", "enter")
        await settle(app, pilot)
        assert "DO NOT CALL" in text(app) and "Erik Berg" in text(app)
        await pilot.press("escape", "o", "a")  # outbound, no answer
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmCall)
        await pilot.press("n")  # not logged
        await settle(app, pilot)
        assert rows(installer_dsn, "SELECT count(*) FROM activity") == [(0,)]
        await pilot.press("a", "y")
        await settle(app, pilot)
        assert rows(installer_dsn, "SELECT direction, outcome FROM activity") == [
            ("out", "no_answer")]
        # an unknown number: offered as a new contact with the number filled in
        await pilot.press(*"+1 415 555 0199", "enter")
        await settle(app, pilot)
        assert "Unknown number" in text(app)
        await pilot.press("n")
        await settle(app, pilot)
        from tui.screens.contact_form import ContactFormScreen

        assert isinstance(app.screen, ContactFormScreen)
        await wait_until(pilot, lambda: getattr(app.screen, "ready", False))
        phone = app.screen.query_one("#phones").query("Input").first()
        assert phone.value == "+1 415 555 0199"
        app.screen.query_one("#f-first-name").value = "New"
        app.screen.query_one("#f-last-name").value = "Caller"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, ConsoleScreen)
                         and "New Caller" in text(app))  # fmt: skip
        await pilot.press("escape", "w")
        await settle(app, pilot)
    assert rows(installer_dsn, "SELECT e164 FROM contact_phone p JOIN contact c ON "
                "c.id = p.contact_id WHERE c.last_name = 'Caller'") == [("+14155550199",)]
    assert rows(installer_dsn, "SELECT outcome FROM activity a JOIN contact c ON "
                "c.id = a.contact_id WHERE c.last_name = 'Caller'") == [("wrong_number",)]


async def test_callback_booked_then_taken(data, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        console = await open_console(app, pilot)
        await pilot.press(*"0701234567", "enter")
        await settle(app, pilot)
        await pilot.press(*"call me at four", "escape", "c")
        await settle(app, pilot)
        assert isinstance(app.screen, CallbackPrompt)
        await pilot.press(*"now", "enter", *"me", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ConsoleScreen) and not console.on_call, text(app)
        assert rows(installer_dsn, "SELECT c.contact_id, c.note, u.username, a.outcome FROM "
                    "callback c JOIN app_user u ON u.id = c.assignee_id JOIN activity a ON "
                    "a.id = c.activity_id") == [
            (data.contact_id, "call me at four", "sb_admin", "callback")]  # fmt: skip
        await wait_until(pilot, lambda: "queue: 1 due" in text(app))
        await pilot.press("escape", "b")  # the next due callback: the one just booked
        await settle(app, pilot)
        assert console.on_call and console.direction == "out" and "Anna Lind" in text(app)
        await pilot.press("escape", "r")
        await settle(app, pilot)
    assert rows(installer_dsn, "SELECT done_at IS NOT NULL, done_activity_id = (SELECT max(id) "
                "FROM activity) FROM callback") == [(True, True)]


async def test_a_callback_taken_when_the_app_closes_goes_back_to_the_queue(data, installer_dsn):
    import threading

    conn = psycopg2.connect(installer_dsn, options="-c search_path=switchboard")
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO callback (contact_id, number, due_at, note) "
                    "VALUES (%s, '+46701234567', now(), 'ring back')", (data.contact_id,))
    conn.close()
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        console = await open_console(app, pilot)
        await pilot.press("escape", "b")
        await settle(app, pilot)
        assert console.on_call and "Anna Lind" in text(app)
        assert rows(installer_dsn, "SELECT claimed_by IS NOT NULL FROM callback") == [(True,)]
    for thread in threading.enumerate():
        if thread.name == "callback-release":
            thread.join(5)
    assert rows(installer_dsn, "SELECT claimed_by IS NULL, done_at IS NULL FROM callback") == [
        (True, True)]


def pop_for(installer_dsn: str, username: str, number: str) -> int:
    """What `switchboard pop` does: the row, and a notice that names only its id."""
    conn = psycopg2.connect(installer_dsn, options="-c search_path=switchboard")
    with conn, conn.cursor() as cur:
        cur.execute("SELECT screen_pop(%s, %s)", (username, number))
        pop = cur.fetchone()[0]
    conn.close()
    return pop


async def test_screen_pop_reaches_its_user_only(data, installer_dsn, pg, db_name):
    app = SwitchboardApp()  # the admin's app
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await wait_until(pilot, lambda: app.hub.listener is not None)
        # rita's pop: its notice reaches every app, but the admin's cannot read the row
        for_rita = pop_for(installer_dsn, "rita", "+46 70 123 45 67")
        await wait_until(pilot, lambda: app.hub.batches >= 1)
        await settle(app, pilot)
        assert not isinstance(app.screen, ConsoleScreen)
        for_admin = pop_for(installer_dsn, "sb_admin", "070-123 45 67")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsoleScreen)
                         and "Anna Lind" in text(app))  # fmt: skip
        assert app.screen.on_call and app.screen.direction == "in"
    assert rows(installer_dsn, "SELECT id, taken_at IS NOT NULL FROM screen_pop ORDER BY id") == [
        (for_rita, False), (for_admin, True)]


async def test_pop_waits_for_wrap_up_and_card_follows_changes(data, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        console = await open_console(app, pilot)
        await pilot.press(*"0701234567", "enter")
        await settle(app, pilot)
        assert "DO NOT CALL" not in text(app)
        # someone flags the caller while the agent talks: the card follows, no key pressed
        conn = psycopg2.connect(installer_dsn, options="-c search_path=switchboard")
        with conn, conn.cursor() as cur:
            cur.execute("UPDATE contact SET do_not_call = true WHERE id = %s", (data.contact_id,))
        conn.close()
        await wait_until(pilot, lambda: "DO NOT CALL" in text(app))
        assert app.focused.id == "notes"  # the re-read left the agent where they were
        # a pop during the wrap-up waits, then opens as the next call
        pop_for(installer_dsn, "sb_admin", "031-59 00 12")
        await wait_until(pilot, lambda: "Waiting: 031-59 00 12" in text(app))
        assert "Anna Lind" in text(app)
        await pilot.press("escape", "r")
        await settle(app, pilot)
        await wait_until(pilot, lambda: "Erik Berg" in text(app))
        assert console.on_call and console.number == "031-59 00 12"
    assert rows(installer_dsn, "SELECT contact_id, outcome FROM activity") == [
        (data.contact_id, "reached")]


async def test_agent_sees_no_deals_logs_and_opens_a_case(data, installer_dsn, pg, db_name):
    from db.bootstrap import ensure_login
    from tui.screens.console_prompts import CasePrompt

    conn = psycopg2.connect(installer_dsn)
    with conn, conn.cursor() as cur:
        ensure_login(cur, "switchboard", "maja_agent", role="agent", display_name="Maja Agent")
        cur.execute("UPDATE switchboard.sharing_default SET access = 'public_read'")
    conn.close()
    configure(pg.dsn(db_name, user="maja_agent"), "switchboard")
    # the console first: the account tree's rollup reads deals and fails for agents (not ours)
    app = SwitchboardApp(start_screen="console")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, ConsoleScreen)
        await pilot.press(*"+46701234567", "enter")
        await settle(app, pilot)
        shown = text(app)
        assert "Anna Lind" in shown and "Open deals  —" in shown and "Fleet renewal" not in shown
        await pilot.press("escape", "k")
        assert isinstance(app.screen, CasePrompt)
        await pilot.press(*"refund", "enter", "h", "enter")
        await settle(app, pilot)
        await settle(app, pilot)
        assert "Case #" in text(app).splitlines()[-1] and "opened (high, SLA 7h left)" in text(app)
        await pilot.press("escape", "r")
        await settle(app, pilot)
    assert rows(installer_dsn, "SELECT u.username, a.outcome FROM activity a JOIN app_user u "
                "ON u.id = a.author_id") == [("maja_agent", "reached")]
    assert rows(installer_dsn, "SELECT s.priority, u.username FROM support_case s JOIN app_user u "
                "ON u.id = s.assignee_id WHERE s.subject = 'refund'") == [("high", "maja_agent")]


async def test_help_lists_the_console_keys(data):
    from tui.screens.help import HelpScreen

    app = SwitchboardApp(start_screen="console")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("escape", "question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        shown = "\n".join(str(w.render()) for w in app.screen.query("*") if hasattr(w, "render"))
        for word in ("Log: reached", "Log: voicemail", "Take the next due callback"):
            assert word in shown, word
