"""Readable at 80x24, in words (issue 9 part 8): cutting, Trash, Admin, Help, the palette."""

from __future__ import annotations

import re

import pytest
from rich.cells import cell_len

from db.connection import configure, database
from tests.hostile import CJK, EMOJI, LONG
from tests.records_data import run
from tests.tui.crm_helpers import screen_text
from tui.app import SwitchboardApp
from tui.screens.admin_form import AdminForm
from tui.screens.confirm import ConfirmModal
from tui.screens.help import HelpScreen
from tui.text import clean, cut

FAMILY = "Ada 👨‍👩‍👧‍👦 Lovelace"


@pytest.mark.parametrize("text", [FAMILY, EMOJI, CJK, LONG, "plain ascii name"])
def test_a_cut_never_splits_a_grapheme_cluster_and_fits_its_cells(text):
    for limit in range(1, 24):
        out = cut(text, limit)
        assert cell_len(out) <= limit
        if out != text:  # cut: what is kept is a whole prefix of clusters, then "…"
            kept = out.removesuffix("…")
            assert text.startswith(kept) and not kept.endswith("\u200d")
            assert cell_len(kept) + 1 <= limit
    assert cut(FAMILY, 6) == "Ada …"  # the 2-cell family does not fit in 5 + "…"
    assert cut(FAMILY, 7) == "Ada 👨‍👩‍👧‍👦…"
    assert len(clean("Ö" * 10_000)) == 2000  # the default cut of a huge value


async def settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_trash_admin_users_and_audit_read_in_words_at_80x24(admin_dsn, installer_dsn):
    run(installer_dsn, "UPDATE app_user SET display_name = %s", (FAMILY * 3,))
    configure(admin_dsn, "switchboard")
    with database.connection_context():
        acc = database.execute_sql(
            "INSERT INTO account (name) VALUES ('Victor Combs AB') RETURNING id").fetchone()[0]
        database.execute_sql("UPDATE account SET deleted_at = now() WHERE id = %s", (acc,))
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("9")
        await settle(app, pilot)
        shown = screen_text(app)
        assert re.search(r"Deleted +Kind +Name", shown)
        assert re.search(r"20\d\d-\d\d-\d\d \d\d:\d\d  account  Victor Combs AB", shown), shown
        await pilot.press("0")
        await settle(app, pilot)
        users = screen_text(app).splitlines()
        row = next(line for line in users if "👨" in line and line.rstrip().endswith("active"))
        header = next(line for line in users if line.lstrip().startswith("user"))
        # the ZWJ family, cut to its column, keeps the role column where the header says
        assert cell_len(row[: row.index(" admin ") + 1]) == cell_len(header[: header.index("role")])
        await pilot.press("a")
        await settle(app, pilot)
        await pilot.pause()
        audit = screen_text(app)
        assert "account Victor" in audit and "changed Deleted" in audit
        assert "#0" not in audit and "{}" not in audit and "True" not in audit


async def test_help_lists_every_key_whole_and_the_palette_speaks_words(admin_dsn):
    configure(admin_dsn, "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        words = " ".join(str(w.content) for w in app.screen.query(".help-words"))
        keys = [str(w.content) for w in app.screen.query(".help-key")]
        for key in ("^p", "3", "space", "/", "?", "^q"):
            assert key in keys, keys
        assert "New: New account (new contact in the contacts list)" in words  # whole
        assert "Timeline: Everything that happened at this account" in words
        assert "Expand or collapse the selected account" in words  # the tree's space
        commands = [c.title for c in app.get_system_commands(app.screen.under)]
        assert {"Go to Accounts", "Go to My day", "Go to Trash", "Go to Admin"} <= set(commands)
        assert not any("_" in c for c in commands)


async def test_new_user_dialog_focuses_validates_first_and_shows_its_error(admin_dsn):
    configure(admin_dsn, "switchboard")
    app = SwitchboardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("0")
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, AdminForm)
        assert app.focused is form.query_one("#field-username")
        await pilot.press(*"Bob Newcomer")  # not a login name
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is form, "asked to confirm before validating"
        error = form.query_one("#error-username")
        assert "lower-case letters" in str(error.content)
        assert app.focused is form.query_one("#field-username")
        scroll = form.query_one("VerticalScroll")
        assert scroll.scroll_y <= error.virtual_region.y  # the error is in view
        form.query_one("#field-username").value = "bob.newcomer"
        form.query_one("#field-display_name").value = "Bob Newcomer"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmModal)
