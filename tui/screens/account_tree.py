"""Placeholder replaced by the account tree screen (being written)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from tui.screens.base import BaseScreen


class AccountTreeScreen(BaseScreen):
    def compose_body(self) -> ComposeResult:
        yield Static("Accounts")
