"""The Outbox screen (ctrl+o, the command palette): what waits and what failed, discard after a
confirmation (the write never reaches the database), and a contact edit whose replay met
someone else's change going through the conflict dialog with the person's values."""

from __future__ import annotations

import psycopg2
import pytest
from textual.widgets import Static

from db.connection import configure, database
from db.services import contact_edit
from tests.activity_data import seed
from tests.tui.waiting import wait_until
from tui.app import SwitchboardApp
from tui.messages import OutboxChanged
from tui.screens.confirm import ConfirmModal
from tui.screens.conflict import ConflictModal
from tui.screens.contact_form import ContactFormScreen
from tui.screens.outbox import OutboxScreen
from tui.widgets.fitted_table import FittedTable

SCHEMA = "switchboard"


@pytest.fixture
def data(pg, db_name, installer_dsn):
    s = seed(installer_dsn)
    configure(pg.dsn(db_name, user="rita"), SCHEMA)
    return s


def one(dsn: str, sql: str, params: tuple = ()) -> object:
    conn = psycopg2.connect(dsn, options=f"-c search_path={SCHEMA}")
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone()[0]
    finally:
        conn.close()


async def started(app, pilot) -> None:
    await wait_until(pilot, lambda: app.me is not None and app.outbox is not None)
    await app.workers.wait_for_complete()
    # No replay by itself during the test: the test says when.
    app.OUTBOX_FIRST_RETRY_S = app.OUTBOX_RETRY_S = 3600.0


def why(app) -> str:
    return str(app.screen.query_one("#outbox-why", Static).content)


async def test_the_outbox_lists_what_waits_and_discards_after_asking(data, installer_dsn):
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        box = app.outbox
        box.add("log_activity", {"kind": "call", "body": "never stored",
                                           "contact_id": data.contact_id, "about": "Anna Lind"})
        bad = box.add("log_activity", {"kind": "call", "body": "refused",
                                       "contact_id": data.contact_id})  # fmt: skip
        box.fail(bad.uuid, "contact: no such contact (or not visible to you)")
        app.post_message(OutboxChanged(box.count()))
        await wait_until(pilot, lambda: app.outbox_waiting == 2)

        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Outbox: writes waiting to be sent" in titles
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, OutboxScreen)
                         and app.screen.entries)  # fmt: skip
        screen = app.screen
        table = screen.query_one(FittedTable)
        assert table.row_count == 2
        title = str(screen.query_one("#outbox-title", Static).content)
        assert "1 waiting to be sent" in title and "1 not stored" in title
        first = " ".join(c.plain for c in table.data_rows[0])
        assert "log activity" in first and "call: never stored · Anna Lind" in first
        assert "Waits for the database" in why(app)
        await pilot.press("down")
        assert "Not stored: contact: no such contact" in why(app)
        await pilot.press("up", "d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is screen and len(screen.entries) == 1)
        assert [e.uuid for e in box.entries()] == [bad.uuid]
        await wait_until(pilot, lambda: app.outbox_waiting == 1)
        app.replay_outbox()  # nothing waits: the discarded write is gone, the failed one stays
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [e.uuid for e in box.entries()] == [bad.uuid]
        await pilot.press("escape")
        assert not isinstance(app.screen, OutboxScreen)
    assert one(installer_dsn, "SELECT count(*) FROM activity WHERE body IN ('never stored', "
               "'refused')") == 0  # fmt: skip


async def test_a_conflicting_replay_opens_the_conflict_dialog_with_my_values(data, installer_dsn):
    with database.connection_context():
        original = contact_edit.load(data.contact_id)
    raw = ContactFormScreen.to_raw(None, original)  # type: ignore[arg-type]  # the form's shape
    form = {k: v for k, v in raw.items() if k not in ("phones", "emails")}
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        app.outbox.add("edit_contact", {
            "contact_id": data.contact_id, "original": original,
            "form": form | {"job_title": "Chief Financial Officer", "city": "Göteborg"},
            "phones": raw["phones"], "emails": raw["emails"], "fields": ["job_title", "city"],
            "about": "Anna Lind",
        })  # fmt: skip
        conn = psycopg2.connect(installer_dsn, options=f"-c search_path={SCHEMA}")
        with conn, conn.cursor() as cur:  # someone else, while rita was offline
            cur.execute("UPDATE contact SET job_title = 'CEO' WHERE id = %s", (data.contact_id,))
        conn.close()
        app.replay_outbox()
        await wait_until(pilot, lambda: isinstance(app.screen, ConflictModal), timeout=15)
        modal = app.screen
        assert set(modal.conflict.fields) == {"job_title"}
        assert modal.conflict.fields["job_title"].mine == "Chief Financial Officer"
        assert modal.conflict.fields["job_title"].theirs == "CEO"
        await pilot.press("M", "ctrl+s")  # keep mine everywhere, save
        await wait_until(pilot, lambda: not isinstance(app.screen, (ConflictModal,
                                                                   ContactFormScreen)))
        await wait_until(pilot, lambda: app.outbox_waiting == 0)
    assert app.outbox.count() == 0
    assert one(installer_dsn, "SELECT job_title || ' / ' || city FROM contact WHERE id = %s",
               (data.contact_id,)) == "Chief Financial Officer / Göteborg"  # fmt: skip
