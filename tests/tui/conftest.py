"""Fixtures shared by the screen tests."""

from __future__ import annotations

import pytest

from tests.tui.waiting import FakeClock
from tui.widgets import account_tree as account_tree_widget


@pytest.fixture
def jump_clock(monkeypatch) -> FakeClock:
    """Type-to-jump's one-second window on a clock the test moves (`jump_clock.advance(1.1)`):
    no 1.1 s pauses, and no jump cut short because the machine was slow between two keys."""
    clock = FakeClock()
    monkeypatch.setattr(account_tree_widget, "time", clock)
    return clock
