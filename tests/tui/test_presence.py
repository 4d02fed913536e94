"""Presence on screen at 80x24: "Erik also here" on a contact while Erik has it open, "Erik
editing" while his form is open, nothing once he left; the account panel says the same of its
account; a form's own presence reaches the database as "editing" exactly while it is open.

The other person is a second login with the same PresenceSession an app uses; the live hub
brings the "presence" notices, and one test posts `RecordsChanged` itself to show that a notice
about another record asks nothing.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time

import psycopg2
import pytest

from db.bootstrap import ensure_login
from db.connection import configure
from db.live import Changes
from db.presence import SWEEP_INTERVAL_S, PresenceSession
from tests import fixtures_crm, hostile
from tests.tui.crm_helpers import screen_text, settle
from tests.tui.waiting import wait_until
from tui.app import SwitchboardApp
from tui.messages import RecordsChanged
from tui.screens.contact_detail import ContactDetailScreen
from tui.screens.contact_form import ContactFormScreen

SCHEMA = "switchboard"
_n = itertools.count()


@pytest.fixture
def crm(installer_dsn, admin_dsn):
    data = fixtures_crm.load(installer_dsn)
    configure(admin_dsn, SCHEMA)
    return data


def other_person(pg, db_name, installer_dsn, display_name: str = "Erik") -> PresenceSession:
    """A second person (an admin: sees every record) with the presence session an app has."""
    login = f"erik_{os.getpid()}_{next(_n)}"
    conn = psycopg2.connect(installer_dsn)
    try:
        with conn, conn.cursor() as cur:
            ensure_login(cur, SCHEMA, login, role="admin", display_name=display_name)
    finally:
        conn.close()
    return PresenceSession(pg.dsn(db_name, user=login), SCHEMA)


def changed(record_id: int) -> RecordsChanged:
    """What the App posts for the notice {"t":"presence","id":record_id}."""
    return RecordsChanged(Changes(ids={"presence": frozenset({record_id})}, accounts=frozenset()))


def top_line(app) -> str:
    return screen_text(app).splitlines()[0]


def rows(installer_dsn: str) -> list[tuple]:
    conn = psycopg2.connect(installer_dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "SELECT u.username, p.table_name, p.row_id, p.editing FROM switchboard.presence p"
                " JOIN switchboard.app_user u ON u.id = p.app_user_id ORDER BY 1, 2, 3"
            )
            return cur.fetchall()
    finally:
        conn.close()


def mine(installer_dsn: str) -> list[tuple]:
    """The app's own presence rows (Ada Admin, sb_admin): (table, id, editing)."""
    return [r[1:] for r in rows(installer_dsn) if r[0] == "sb_admin"]


async def test_two_people_on_one_contact_see_each_other_come_edit_and_go(
    crm, pg, db_name, installer_dsn
):
    anna = crm.contacts["Anna Lind"]
    erik = other_person(pg, db_name, installer_dsn)
    app = SwitchboardApp()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await app.push_screen(ContactDetailScreen(anna))
            await settle(app, pilot)
            # Ada's own presence is in the database; nobody else is there
            await wait_until(pilot, lambda: rows(installer_dsn) == [("sb_admin", "contact",
                                                                     anna, False)])  # fmt: skip
            assert "also here" not in top_line(app)
            assert [(p.name, p.editing) for p in await asyncio.to_thread(erik.others, "contact",
                                                                         anna)] == [
                ("Ada Admin", False)]  # fmt: skip

            await asyncio.to_thread(erik.announce, "contact", anna)
            app.screen.post_message(changed(anna))
            await wait_until(pilot, lambda: "Erik also here" in top_line(app))
            assert "Anna Lind" in screen_text(app)

            await asyncio.to_thread(erik.announce, "contact", anna, True)
            app.screen.post_message(changed(anna))
            await wait_until(pilot, lambda: "Erik editing" in top_line(app))
            assert "also here" not in top_line(app)

            await asyncio.to_thread(erik.leave, "contact", anna, True)
            await asyncio.to_thread(erik.leave, "contact", anna)
            app.screen.post_message(changed(anna))
            await wait_until(pilot, lambda: "Erik" not in top_line(app))
            assert "● live" in top_line(app)
    finally:
        erik.close()


async def test_a_crashed_app_is_gone_within_seconds(crm, pg, db_name, installer_dsn):
    """Erik's backend ends without a word (his app was killed): the app's periodic sweep
    removes his row within one interval, and the next notice shows nobody."""
    anna = crm.contacts["Anna Lind"]
    erik = other_person(pg, db_name, installer_dsn)
    app = SwitchboardApp()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await app.push_screen(ContactDetailScreen(anna))
            await settle(app, pilot)
            await asyncio.to_thread(erik.announce, "contact", anna)
            app.screen.post_message(changed(anna))
            await wait_until(pilot, lambda: "Erik also here" in top_line(app))
            pid = erik.backend_pid
            assert pid is not None
            conn = psycopg2.connect(installer_dsn)
            try:
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
            finally:
                conn.close()
            started = time.monotonic()
            await wait_until(pilot, lambda: [r[0] for r in rows(installer_dsn)] == ["sb_admin"],
                             timeout=SWEEP_INTERVAL_S + 5)  # fmt: skip
            assert time.monotonic() - started <= SWEEP_INTERVAL_S + 5
            app.screen.post_message(changed(anna))
            await wait_until(pilot, lambda: "Erik" not in top_line(app))
    finally:
        erik.close()


async def test_a_notice_about_another_record_asks_nothing(crm, pg, db_name, installer_dsn):
    anna, per = crm.contacts["Anna Lind"], crm.contacts["Per Ek"]
    erik = other_person(pg, db_name, installer_dsn)
    app = SwitchboardApp()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await app.push_screen(ContactDetailScreen(anna))
            await settle(app, pilot)
            await wait_until(pilot, lambda: app.presence.idle and len(rows(installer_dsn)) == 1)
            app.hub._detach()  # the real notice of Erik's arrival is not read: only ours below
            await asyncio.to_thread(erik.announce, "contact", anna)
            app.screen.post_message(changed(per))  # about Per: Anna's line is not asked again
            await settle(app, pilot, rounds=1)
            await wait_until(pilot, lambda: app.presence.idle)
            assert "Erik" not in top_line(app)
            app.screen.post_message(changed(anna))
            await wait_until(pilot, lambda: "Erik also here" in top_line(app))
    finally:
        erik.close()


async def test_the_form_is_editing_while_open_and_leaving_clears_everything(
    crm, pg, db_name, installer_dsn
):
    anna = crm.contacts["Anna Lind"]
    erik = other_person(pg, db_name, installer_dsn)
    app = SwitchboardApp()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await app.push_screen(ContactDetailScreen(anna))
            await settle(app, pilot)
            await asyncio.to_thread(erik.announce, "contact", anna)
            await pilot.press("e")  # the contact form over the detail screen
            await settle(app, pilot)
            assert isinstance(app.screen, ContactFormScreen)
            await wait_until(pilot, lambda: app.presence.idle and mine(installer_dsn) == [
                ("contact", anna, True)])  # fmt: skip
            # the form says who else is there, beside its title
            await wait_until(pilot, lambda: "Edit contact  ·  Erik also here" in screen_text(app))
            others = await asyncio.to_thread(erik.others, "contact", anna)
            assert [(p.name, p.editing) for p in others] == [("Ada Admin", True)]
            await pilot.press("escape")  # nothing changed: the form closes at once
            await settle(app, pilot)
            assert isinstance(app.screen, ContactDetailScreen)
            await wait_until(pilot, lambda: app.presence.idle and mine(installer_dsn) == [
                ("contact", anna, False)])  # fmt: skip
            await pilot.press("escape")  # back: the contact is no longer open here
            await settle(app, pilot)
            # (the account tree under it has its account open again)
            await wait_until(pilot, lambda: app.presence.idle and [
                r[0] for r in mine(installer_dsn)] == ["account"])  # fmt: skip
            assert len(rows(installer_dsn)) == 2  # and Erik's contact
    finally:
        erik.close()


async def test_the_account_panel_names_who_else_has_its_account_open(
    crm, pg, db_name, installer_dsn
):
    erik = other_person(pg, db_name, installer_dsn, display_name=hostile.MARKUP_CLOSE)
    app = SwitchboardApp()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            shown = app.screen.panel.account
            assert shown is not None
            await wait_until(pilot, lambda: app.presence.idle and mine(installer_dsn) == [
                ("account", shown.id, False)])  # fmt: skip
            await asyncio.to_thread(erik.announce, "account", shown.id)
            app.screen.post_message(changed(shown.id))
            # a hostile name is shown as written: no markup, no crash
            await wait_until(pilot, lambda: "Smith [/] also here" in screen_text(app))
            assert "also here" not in top_line(app)  # on the panel, which names the account
            await pilot.press("down")  # another account: this one is left
            await settle(app, pilot)
            moved = app.screen.panel.account
            assert moved is not None and moved.id != shown.id
            await wait_until(pilot, lambda: app.presence.idle and mine(installer_dsn) == [
                ("account", moved.id, False)])  # fmt: skip
            assert "also here" not in screen_text(app)
    finally:
        erik.close()


async def test_closing_the_app_clears_its_presence_at_once(crm, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.push_screen(ContactDetailScreen(crm.contacts["Anna Lind"]))
        await settle(app, pilot)
        await wait_until(pilot, lambda: app.presence.idle and len(rows(installer_dsn)) == 1)
    for _ in range(200):
        if app.presence.idle:
            break
        await asyncio.sleep(0.01)  # the app has exited: nothing to pump, only the queue
    assert rows(installer_dsn) == []


def test_the_words_name_editors_first_and_count_the_rest():
    from db.presence import Present
    from tui.presence import presence_words

    people = [Present(i, name, i == 0, None) for i, name in enumerate(  # type: ignore[arg-type]
        ["Erik", hostile.OSC_TITLE, "Maja", "Per", "Lars"])]  # fmt: skip
    words = presence_words(people)
    assert words.startswith("Erik editing · A") and words.endswith(", Maja +2 also here")
    assert "\x1b" not in words
    assert presence_words(people[2:4]) == "Maja, Per also here"
    assert presence_words([]) == ""
