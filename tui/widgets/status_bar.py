"""The top line: product, who is logged in (name, role, team), connection state, clock."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Static

from db.services.session import Me
from tui.text import safe_markup


class StatusBar(Horizontal):
    DEFAULT_CSS = """
    StatusBar {
        dock: top;
        height: 1;
        background: $primary-background;
        color: $text;
    }
    StatusBar #status-who { width: 1fr; padding: 0 1; }
    StatusBar #status-state { width: auto; padding: 0 1; }
    StatusBar #status-clock { width: 7; }
    """

    me: reactive[Me | None] = reactive(None)
    live: reactive[bool | None] = reactive(None)

    def compose(self) -> ComposeResult:
        yield Static("Switchboard", id="status-who")
        yield Static("○ connecting", id="status-state")
        yield Static("", id="status-clock")

    def on_mount(self) -> None:
        self._tick()
        self.set_interval(30, self._tick)

    def _tick(self) -> None:
        self.query_one("#status-clock", Static).update(datetime.now().strftime("%H:%M"))

    def watch_me(self, me: Me | None) -> None:
        if me is None:
            return
        detail = ", ".join(part for part in (me.role, me.team) if part)
        template = "[b]Switchboard[/b] · $name" + (" ($detail)" if detail else "")
        self.query_one("#status-who", Static).update(
            safe_markup(template, name=me.display_name, detail=detail)
        )

    def watch_live(self, live: bool | None) -> None:
        label = {None: "○ connecting", True: "● live", False: "✕ offline"}[live]
        self.query_one("#status-state", Static).update(label)
