"""A burst of keys (a paste, SSH, a fast typist) lands where slow typing would put it, in every
form and dialog; and screen keys never fire inside a form or a dialog (issue 9, parts 2-3).

Each form is filled twice, once key by key (`Pilot.press`, idle after every key) and once in
one burst (`burst`: all keys posted at once, as the terminal driver does), and both must store
the same thing."""

from __future__ import annotations

import psycopg2
import pytest
from textual import events
from textual.widgets import Select

from db.connection import configure
from tests import activity_data, records_data
from tests.tui.burst import burst, key_event
from tui.app import SwitchboardApp
from tui.screens.account_form import AccountFormScreen
from tui.screens.activity_prompts import DuePrompt
from tui.screens.admin_actions import ROLE_OPTIONS
from tui.screens.admin_form import AdminForm, Field
from tui.screens.confirm import ConfirmModal
from tui.screens.contact_form import ContactFormScreen
from tui.screens.log_activity import LogActivityScreen
from tui.screens.login import LoginRequest, LoginScreen
from tui.screens.relationship_form import RelationshipFormScreen

TYPINGS = ["slow", "burst"]


async def settle(app, pilot) -> None:
    for _ in range(2):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def type_keys(app, pilot, typing: str, *keys: str) -> None:
    if typing == "burst":
        await burst(app, pilot, *keys)
    else:
        await pilot.press(*keys)
    await settle(app, pilot)


@pytest.fixture
def records(installer_dsn, admin_dsn, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_PHONE_REGION", "SE")
    s = records_data.seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    return s


@pytest.mark.parametrize("typing", TYPINGS)
async def test_an_account_typed_fast_is_saved_field_by_field(records, admin_dsn, typing):
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(AccountFormScreen(parent_id=records.acme), results.append)
        await type_keys(app, pilot, typing, *"Acme Nordics", "tab", *"Machinery", "tab",
                        *"3599", "tab", *"120", "ctrl+s")  # fmt: skip
    assert results and results[0].action == "saved"
    rows = records_data.run(admin_dsn, "SELECT name, industry, sic_code, employees FROM account "
                            "WHERE id = %s", (results[0].record_id,))  # fmt: skip
    assert rows == [("Acme Nordics", "Machinery", "3599", 120)]


async def test_keys_typed_with_the_one_that_opens_the_form_wait_for_it(records, admin_dsn):
    """The form loads in a worker; a burst typed with the key that opened it (tab included)
    lands in the fields once it has loaded."""
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(AccountFormScreen(parent_id=records.acme), results.append)
        await burst(app, pilot, *"Acme Baltics", "tab", *"Timber", "enter")
        await settle(app, pilot)
    rows = records_data.run(admin_dsn, "SELECT name, industry FROM account WHERE id = %s",
                            (results[0].record_id,))  # fmt: skip
    assert rows == [("Acme Baltics", "Timber")]


@pytest.fixture
def activity(installer_dsn, admin_dsn):
    s = activity_data.seed(installer_dsn)
    configure(admin_dsn, "switchboard")
    return s


def stored_activity(installer_dsn: str) -> list[tuple]:
    conn = psycopg2.connect(installer_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT kind, body, outcome, direction, due_at IS NOT NULL "
                        "FROM switchboard.activity")  # fmt: skip
            return cur.fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("typing", TYPINGS)
async def test_a_call_with_a_picked_outcome_and_a_due_date_typed_fast(
    activity, installer_dsn, typing
):
    """`Send quote Tab … today` once became the notes "Send quotetoday" with no due date."""
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(LogActivityScreen(contact_id=activity.contact_id))
        await settle(app, pilot)
        await type_keys(app, pilot, typing, "c", *"Send quote", "tab",
                        "enter", "down", "enter",  # outcome: the one under "none", reached
                        "tab", "tab", "tab", "tab", *"tomorrow", "ctrl+s")  # fmt: skip
        assert not isinstance(app.screen, LogActivityScreen)
    assert stored_activity(installer_dsn) == [("call", "Send quote", "reached", None, True)]


@pytest.mark.parametrize("start", ["select", "shift+tab"])
async def test_screen_keys_never_fire_inside_a_form(records, admin_dsn, start):
    """With a Select focused, or after shift+tab past the first field, `0`, `3`, `9`, `1` and
    `?` stayed the form's; escape then asks before throwing the typing away."""
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.rights.is_admin  # so `0` would open Admin anywhere else
        form = AccountFormScreen(parent_id=records.acme)
        app.push_screen(form)
        await settle(app, pilot)
        await pilot.press(*"Acme Oy")
        if start == "select":
            app.screen.query_one("#f-tier", Select).focus()
        else:
            await pilot.press("shift+tab")
        await pilot.pause()
        focused = app.screen.focused
        assert focused is not None and form.query_one("#form-body") in focused.ancestors
        for key in ("0", "3", "9", "1", "question_mark", "l"):
            await pilot.press(key)
            await settle(app, pilot)
            assert app.screen is form, key
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("0", "3")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmModal)


@pytest.mark.parametrize("typing", TYPINGS)
async def test_a_contact_with_a_picked_role_typed_fast(records, admin_dsn, typing):
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ContactFormScreen(account_id=records.acme), results.append)
        await type_keys(app, pilot, typing, *"Ann", "tab", *"Moore", "tab", *"CFO", "tab",
                        "enter", "down", "down", "enter",  # role: the second, economic buyer
                        "tab", *"Finance", "ctrl+s")  # fmt: skip
    assert results and results[0].action == "saved"
    rows = records_data.run(admin_dsn, "SELECT first_name, last_name, job_title, job_role, "
                            "department FROM contact WHERE id = %s",
                            (results[0].record_id,))  # fmt: skip
    assert rows == [("Ann", "Moore", "CFO", "economic_buyer", "Finance")]


@pytest.mark.parametrize("typing", TYPINGS)
async def test_a_login_typed_fast(pg, db_name, monkeypatch, typing):
    """User name, tab, password, enter in one burst signs in as that user with that password
    (the attempt is caught: this test is about where the keys land)."""
    attempts: list[tuple[str, str]] = []
    monkeypatch.setattr(LoginScreen, "attempt", lambda self, u, p: attempts.append((u, p)))
    request = LoginRequest(pg.tcp_dsn(db_name, "", ""), "switchboard", "sign in")
    app = SwitchboardApp(login=request)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await type_keys(app, pilot, typing, *"bob", "tab", *"s3cret", "enter")
    assert attempts == [("bob", "s3cret")]


@pytest.mark.parametrize("typing", TYPINGS)
async def test_an_admin_form_typed_fast(records, typing):
    """The admin dialogs (new user...) with a picker, typed key by key and in one burst."""
    saved: list[dict] = []
    fields = [Field("username", "User name"), Field("display_name", "Name"),
              Field("role", "Role", "rep", options=ROLE_OPTIONS), Field("email", "Email")]
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.push_screen(AdminForm("New user", fields, lambda v: saved.append(v) or v))
        await type_keys(app, pilot, typing, *"ada", "tab", *"Ada L", "tab",
                        "enter", "down", "enter", "tab", *"ada@example.org", "enter")
    role = ROLE_OPTIONS[[v for _, v in ROLE_OPTIONS].index("rep") + 1][1]
    assert saved == [{"username": "ada", "display_name": "Ada L", "role": role,
                      "email": "ada@example.org"}]  # fmt: skip


@pytest.mark.parametrize("typing", TYPINGS)
async def test_a_prompt_typed_fast(records, typing):
    """A one-field prompt (a follow-up's new due date) opened and answered in one go."""
    answers: list = []
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.push_screen(DuePrompt(), answers.append)
        await type_keys(app, pilot, typing, *"tomorrow", "enter")
    assert len(answers) == 1 and answers[0] is not None


async def test_a_paste_keeps_its_place_among_the_keys(records, admin_dsn):
    """Bracketed pastes arrive as their own events: one after a tab goes to the next field."""
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(AccountFormScreen(parent_id=records.acme), results.append)
        await settle(app, pilot)
        for event in (events.Paste("Acme Paste"), key_event("tab"), events.Paste("Machinery"),
                      key_event("ctrl+s")):  # fmt: skip
            app.post_message(event)
        await settle(app, pilot)
    rows = records_data.run(admin_dsn, "SELECT name, industry FROM account WHERE id = %s",
                            (results[0].record_id,))  # fmt: skip
    assert rows == [("Acme Paste", "Machinery")]


@pytest.mark.parametrize("typing", TYPINGS)
async def test_a_relationship_typed_fast_picks_from_the_search_results(
    records, admin_dsn, typing
):
    """`Per down enter` typed at once waits for the search to answer, then picks Per."""
    app = SwitchboardApp()
    results: list = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(RelationshipFormScreen(records.anna), results.append)
        await settle(app, pilot)
        await type_keys(app, pilot, typing, "enter", "down", "down", "enter", "tab", *"Per",
                        "down", "enter", *"weekly 1:1", "tab", *"2021-03-01", "enter")
    assert results and results[0].action == "saved"
    rows = records_data.run(
        admin_dsn,
        "SELECT from_contact_id, to_contact_id, t.key, note, starts_on::text "
        "FROM contact_relationship r JOIN relationship_type t ON t.id = r.type_id "
        "WHERE r.id = %s", (results[0].record_id,))  # fmt: skip
    assert rows == [(records.per, records.anna, "reports_to", "weekly 1:1", "2021-03-01")]
