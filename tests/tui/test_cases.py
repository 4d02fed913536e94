"""Cases screen at 80x24: my cases and the team queue with the SLA time left in words; status,
priority and take by key; the database enforces the workflow and the screen says so."""

from __future__ import annotations

import psycopg2
import pytest

from db.connection import configure
from tests.activity_data import seed
from tests.tui.test_log_activity import rows, settle
from tui.app import SwitchboardApp
from tui.screens.cases import CasesScreen
from tui.screens.timeline import TimelineScreen


@pytest.fixture
def data(installer_dsn, admin_dsn):
    s = seed(installer_dsn)
    conn = psycopg2.connect(installer_dsn, options="-c search_path=switchboard")
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO support_case (account_id, contact_id, subject, priority, "
                    "assignee_id) VALUES (%s, %s, 'invoice copy', 'high', %s) RETURNING id",
                    (s.root_id, s.contact_id, s.admin_id))  # fmt: skip
        s.ids["mine"] = cur.fetchone()[0]
        cur.execute("INSERT INTO support_case (account_id, subject, priority) VALUES "
                    "(%s, 'broken login', 'urgent') RETURNING id", (s.other_account_id,))
        s.ids["queue"] = cur.fetchone()[0]
        cur.execute("INSERT INTO activity (kind, subject, case_id, account_id, author_id) VALUES "
                    "('note', 'sent the copy', %s, %s, %s)", (s.ids["mine"], s.root_id, s.admin_id))
    conn.close()
    configure(admin_dsn, "switchboard")
    return s


def lines(app) -> str:
    return "\n".join(str(w.render()) for w in app.screen.query("Static, OptionList"))


async def test_my_cases_queue_status_priority_take(data, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("6")
        await settle(app, pilot)
        assert isinstance(app.screen, CasesScreen)
        listing = app.screen.query_one("OptionList")
        first = listing.get_option_at_index(0).prompt
        assert "invoice copy" in str(first) and "left" in str(first) and "high" in str(first)
        await pilot.press("w")  # waiting on customer
        await settle(app, pilot)
        assert "waiting on customer" in str(app.screen.query_one("#cases-status").render())
        await pilot.press("x")  # closed: no longer an open case of mine
        await settle(app, pilot)
        assert "#1: closed" in str(app.screen.query_one("#cases-status").render())
        assert "No open case is yours" in str(listing.get_option_at_index(0).prompt)
        await pilot.press("q")  # the team queue
        await settle(app, pilot)
        assert "broken login" in str(listing.get_option_at_index(0).prompt)
        await pilot.press("p", "a")  # urgent -> low; take it
        await settle(app, pilot)
        await pilot.press("q")
        await settle(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        assert isinstance(app.screen, TimelineScreen)
    assert rows(installer_dsn, "SELECT id, status, priority, assignee_id, closed_at IS NOT NULL "
                "FROM support_case ORDER BY id") == [
        (data.ids["mine"], "closed", "high", data.admin_id, True),
        (data.ids["queue"], "new", "low", data.admin_id, False)]  # fmt: skip


async def test_case_from_a_contact(data, installer_dsn):
    from tui.screens.console_prompts import CasePrompt
    from tui.screens.contact_detail import ContactDetailScreen

    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.push_screen(ContactDetailScreen(data.contact_id))
        await settle(app, pilot)
        await pilot.press("k")
        assert isinstance(app.screen, CasePrompt)
        await pilot.press(*"warranty question", "enter", "u", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ContactDetailScreen)
    assert rows(installer_dsn, "SELECT subject, priority, status, contact_id, account_id, "
                "assignee_id, due_at - created_at FROM support_case WHERE subject = "
                "'warranty question'")[0][:6] == (
        "warranty question", "urgent", "new", data.contact_id, data.root_id, data.admin_id)


async def test_edit_subject_due_assignee(data, installer_dsn):
    from tui.screens.console_prompts import CaseEditPrompt

    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("6")
        await settle(app, pilot)
        await pilot.press("e")
        assert isinstance(app.screen, CaseEditPrompt)
        await pilot.press("ctrl+a", *" (copy)", "enter", *"tomorrow 09:00", "enter")
        app.screen.query_one("#ce-who").value = "nobody here"
        await pilot.press("enter")
        await settle(app, pilot)
        assert "assignee: no active user named nobody here" in str(
            app.screen.query_one("#cases-status").render())
        await pilot.press("e")
        await pilot.press("end", *" (copy)", "enter", *"tomorrow 09:00", "enter")
        app.screen.query_one("#ce-who").value = "rita"
        await pilot.press("enter")
        await settle(app, pilot)
    assert rows(installer_dsn, "SELECT subject, assignee_id, due_at = (current_date + 1 + "
                "time '09:00')::timestamp AT TIME ZONE current_setting('TimeZone') "
                f"FROM support_case WHERE id = {data.ids['mine']}") == [
        ("invoice copy (copy)", data.rita_id, True)]
