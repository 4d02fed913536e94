"""The top line: product, who is logged in (name, role, team), connection state, who else has
the record open (tui/presence.py: "Erik also here"), clock.

One widget that renders one line (not a row of child widgets): every screen has one, and each
child widget costs its mount and styling on every screen push (B5 "painted"). Changes repaint
the line without a layout pass.
"""

from __future__ import annotations

from datetime import datetime

from rich.cells import cell_len, set_cell_size
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from db.live import LinkState
from db.services.session import Me
from tui.text import clean

STATES = {None: "○ connecting", True: "● live", False: "✕ offline"}
PRESENCE_CELLS = 34  # the presence words are cut to this: the name on the left keeps some room


class StatusBar(Widget):
    DEFAULT_CSS = """
    StatusBar {
        dock: top;
        height: 1;
        width: 1fr;
        background: $primary-background;
        color: $text;
        padding: 0 1;
    }
    """

    me: reactive[Me | None] = reactive(None)
    live: reactive[bool | None] = reactive(None)
    link: reactive[LinkState | None] = reactive(None, always_update=True)
    clock: reactive[str] = reactive("")
    presence: reactive[str] = reactive("")  # plain text, already cleaned (tui/presence.py)
    outbox_waiting: reactive[int] = reactive(0)  # writes saved on this machine (db/outbox.py)

    def on_mount(self) -> None:
        self._tick()
        self.set_interval(30, self._tick)

    def _tick(self) -> None:
        self.clock = datetime.now().strftime("%H:%M")

    @property
    def who(self) -> str:
        """'Switchboard · Ada Admin (admin, North)': plain text, cleaned."""
        me = self.me
        if me is None:
            return "Switchboard"
        detail = ", ".join(clean(part, limit=40, single_line=True)
                           for part in (me.role, me.team) if part)  # fmt: skip
        name = clean(me.display_name, limit=60, single_line=True)
        return f"Switchboard · {name}" + (f" ({detail})" if detail else "")

    @property
    def state(self) -> str:
        """'● live', '↻ reconnecting… 3 s', '✕ offline since 10:42' (db.live.LinkState)."""
        link = self.link
        if link is not None and link.live == self.live:
            return link.describe()
        return STATES[self.live]

    def render(self) -> Content:
        width = self.content_region.width
        presence = self.presence
        if cell_len(presence) > PRESENCE_CELLS:
            presence = set_cell_size(presence, PRESENCE_CELLS - 1) + "…"
        middle = f"  {presence}" if presence else ""
        right = f"{self.state}{middle}   {self.clock}"
        if self.outbox_waiting:
            right = f"⇡{self.outbox_waiting} waiting   {right}"
        room = max(width - cell_len(right) - 2, 0)
        who = self.who
        if cell_len(who) > room:
            who = set_cell_size(who, max(room - 1, 0)) + "…" if room else ""
        left = Content.assemble(("Switchboard", "bold"), who[len("Switchboard") :])
        if not who.startswith("Switchboard"):
            left = Content(who)
        gap = " " * max(width - left.cell_length - cell_len(right), 2)
        return Content.assemble(left, gap, right)
