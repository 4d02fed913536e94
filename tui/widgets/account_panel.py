"""The selected account's panel: facts, subtree totals, contacts, open deals, latest activity.

The panel always names the account under the tree's cursor: `show(node)` switches to it at
once (title and "loading…", nothing of the previous account left), and the data follows in
one worker after the cursor has rested for PANEL_DELAY. An account that can no longer be read
(deleted, or this person lost access) is reported with `Gone` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import get_current_worker

from db.connection import database
from db.errors import NotFound
from db.services import accounts
from db.services.accounts import AccountNode, ContactPage
from tui.screens.worker_errors import ForwardWorkerErrors
from tui.text import clean, money, safe, safe_markup
from tui.widgets.account_contacts import CONTACTS_PAGE, AccountContacts
from tui.widgets.record_lines import activity_line, deal_line, lines

PANEL_DELAY = 0.15  # seconds the cursor must rest before the panel loads


@dataclass(frozen=True)
class Panel:
    facts: accounts.AccountFacts
    crumbs: list[accounts.Crumb]
    rollup: accounts.Rollup
    contacts: ContactPage
    deals: list[accounts.OpportunityRow]
    activities: list[accounts.ActivityRow]


class AccountPanel(ForwardWorkerErrors, VerticalScroll):
    class Loaded(Message):
        def __init__(self, account_id: int, panel: Panel) -> None:
            super().__init__()
            self.account_id = account_id
            self.panel = panel

    class Shown(Message):
        """The panel shows this account's data (the cursor rested on it): it is open here."""

        def __init__(self, account_id: int | None) -> None:
            super().__init__()
            self.account_id = account_id

    class Gone(Message):
        """The account cannot be read any more (deleted, or no longer visible to this person)."""

        def __init__(self, account_id: int) -> None:
            super().__init__()
            self.account_id = account_id

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's own name)
        super().__init__(id=id)
        self.account: AccountNode | None = None
        self._timer: Timer | None = None
        self._title = ""  # the account's name, cleaned
        self._presence = ""  # who else has it open (tui/presence.py), plain text

    def _show_title(self) -> None:
        """The account's name on the border; who else has it open after it."""
        if not self._title:
            self.border_title = None
            return
        title = safe(self._title)
        if self._presence:
            title = Content.assemble(title, " · ", (self._presence, "italic"))
        self.border_title = title

    def show_presence(self, text: str) -> None:
        self._presence = text
        self._show_title()

    def compose(self) -> ComposeResult:
        yield Static("", id="panel-title")
        yield Static("", id="panel-facts")
        yield Static("Contacts", classes="section-title")
        yield AccountContacts(id="panel-contacts")
        yield Static("Open deals", classes="section-title")
        yield Static("", id="panel-deals")
        yield Static("Latest activity", classes="section-title")
        yield Static("", id="panel-activities")

    @property
    def contacts(self) -> AccountContacts:
        return self.query_one(AccountContacts)

    def show(self, node: AccountNode | None) -> None:
        """Switch to `node` at once (None: no account); its data comes a moment later."""
        if self._timer is not None:
            self._timer.stop()
        self.account = node
        name = clean(node.name, limit=60, single_line=True) if node else ""
        self._title, self._presence = name, ""
        self._show_title()
        self.post_message(self.Shown(None))  # left the previous one; this one when loaded
        waiting = Content.from_markup("[dim]loading…[/]") if node else Content("")
        self.query_one("#panel-title", Static).update(
            safe_markup("[b]$name[/b]", name=name) if node else safe("No account selected")
        )
        for part in ("#panel-facts", "#panel-deals", "#panel-activities"):
            self.query_one(part, Static).update(waiting)
        self.contacts.show(None, None, "loading…" if node else "no account selected")
        if node is not None:
            self._timer = self.set_timer(PANEL_DELAY, lambda: self.load(node.id))

    def reload(self) -> None:
        """Read the shown account again, keeping what is on screen until the answer comes."""
        if self.account is not None:
            self.load(self.account.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="panel-verify")
    def verify(self, account_id: int) -> None:
        """Check that the account can still be read (a key is acting on it); `Gone` if not."""
        try:
            with database.connection_context():
                accounts.facts(account_id)
        except NotFound:
            self.post_message(self.Gone(account_id))

    @work(thread=True, exclusive=True, exit_on_error=False, group="panel")
    def load(self, account_id: int) -> None:
        try:
            with database.connection_context():
                panel = Panel(
                    facts=accounts.facts(account_id),
                    crumbs=accounts.ancestors(account_id),
                    rollup=accounts.rollup(account_id),
                    contacts=accounts.contacts_page(account_id, limit=CONTACTS_PAGE),
                    deals=accounts.open_opportunities(account_id, limit=5),
                    activities=accounts.latest_activities(account_id, limit=5),
                )
        except NotFound:
            self.post_message(self.Gone(account_id))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(account_id, panel))

    def on_account_panel_loaded(self, message: Loaded) -> None:
        message.stop()
        if self.account is None or message.account_id != self.account.id:
            return  # the cursor has moved on
        p = message.panel
        self._title = clean(p.facts.name, limit=60, single_line=True)
        self._show_title()
        self.post_message(self.Shown(message.account_id))
        crumbs = " › ".join(clean(c.name, limit=30, single_line=True) for c in p.crumbs)
        self.query_one("#panel-title", Static).update(safe_markup("[b]$path[/b]", path=crumbs))
        self.query_one("#panel-facts", Static).update(lines(facts_lines(p)))
        self.contacts.show(message.account_id, p.contacts)
        self.query_one("#panel-deals", Static).update(
            lines(map(deal_line, p.deals), "no open deals")
        )
        acts = (activity_line(a) for a in p.activities)
        self.query_one("#panel-activities", Static).update(lines(acts, "no activity yet"))


def facts_lines(p: Panel) -> list[Content]:
    """Industry, owner and team, money and place, web and phone, subtree totals."""
    f = p.facts
    staff = f"{f.employees:,} staff" if f.employees is not None else ""
    sic = f"SIC {f.sic_code}" if f.sic_code else ""
    first = " · ".join(x for x in (clean(f.industry, single_line=True), sic, staff) if x)
    revenue = f"revenue {money(f.annual_revenue)} {f.currency}" if f.annual_revenue else ""
    budget = f"budget {money(f.budget)} {f.currency}" if f.budget else ""
    place = ", ".join(clean(x, limit=60, single_line=True) for x in (f.city, f.country) if x)
    out = [
        safe(first or f.kind),
        safe_markup(
            "Owner $owner · Team $team · $life$tier",
            owner=f.owner_name or "—",
            team=f.team_name or "—",
            life=f.lifecycle,
            tier=f" · tier {f.tier}" if f.tier else "",
        ),  # fmt: skip
        safe(" · ".join(x for x in (revenue, budget, place) if x)),
        safe(" · ".join(clean(x, limit=80, single_line=True) for x in (f.website, f.phone) if x)),
        safe_markup(
            "[dim]Subtree: $a accounts · $c contacts · $v open[/]",
            a=f"{p.rollup.accounts:,}",
            c=f"{p.rollup.contacts:,}",
            v=money(p.rollup.open_value),
        ),  # fmt: skip
    ]
    return [line for line in out if line.plain]
