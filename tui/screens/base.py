"""What every main screen shares: the status bar on top, the footer with keys below."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen

from tui.live import LiveScreen
from tui.screens.worker_errors import ForwardWorkerErrors
from tui.widgets.footer import KeyFooter
from tui.widgets.status_bar import StatusBar


class BaseScreen(LiveScreen, ForwardWorkerErrors, Screen[None]):
    """Subclasses implement `compose_body()`; status bar and footer come from here."""

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield from self.compose_body()
        yield KeyFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        bar = self.query_one(StatusBar)
        self.watch(self.app, "me", lambda me: setattr(bar, "me", me), init=True)
        self.watch(self.app, "live", lambda live: setattr(bar, "live", live), init=True)
        if hasattr(self.app, "outbox_waiting"):
            self.watch(self.app, "outbox_waiting",
                       lambda n: setattr(bar, "outbox_waiting", n), init=True)  # fmt: skip
        if hasattr(self.app, "link"):
            self.watch(self.app, "link", lambda link: setattr(bar, "link", link), init=True)
