"""Snapshots of the main screen states at 80x24 with fixed data and a fixed clock.

Regenerate after an intended change with `pytest tests/tui/test_snapshots.py
--snapshot-update`, then look at the SVGs (snapshot_report.html shows the differences).
"""

from __future__ import annotations

import datetime as real_datetime

import pytest

from db.connection import configure
from tests import fixtures_crm
from tests.tui.crm_helpers import settle
from tui.app import SwitchboardApp
from tui.widgets import status_bar


class _FrozenDatetime(real_datetime.datetime):
    @classmethod
    def now(cls, tz=None):  # noqa: ANN206 - mirrors datetime.now
        return cls(2030, 1, 10, 12, 4)


@pytest.fixture
def crm(installer_dsn, admin_dsn, monkeypatch):
    monkeypatch.setattr(status_bar, "datetime", _FrozenDatetime)
    data = fixtures_crm.load(installer_dsn)
    configure(admin_dsn, "switchboard")
    return data


def test_account_tree_with_an_expanded_account(crm, snap_compare):
    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(app, pilot)
        await pilot.press("V", "enter")
        await settle(app, pilot)
        await pilot.press("j")
        await settle(app, pilot)

    assert snap_compare(SwitchboardApp(), terminal_size=(80, 24), run_before=run_before)


def test_contact_detail(crm, snap_compare):
    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(app, pilot)
        await pilot.press("V", "enter")
        await settle(app, pilot)
        await pilot.press("j")
        await settle(app, pilot)
        await pilot.press("c", "end", "enter")
        await settle(app, pilot)

    assert snap_compare(SwitchboardApp(), terminal_size=(80, 24), run_before=run_before)
