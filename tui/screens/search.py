"""Search (`/` on every screen but the account tree, whose `/` filters it): one box that finds
accounts, contacts, deals and cases as you type, grouped, best first (docs/search.md).

Every keystroke starts a search 30 ms after typing pauses; each carries a sequence number, the
database query of the one it replaces is cancelled (db/services/search.py `Searcher`), and an
answer whose number is not the newest is dropped: the list always shows the answer to the text
in the box, never an older one.
"""

from __future__ import annotations

import time
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from db.connection import database
from db.services import search as search_service
from db.services.search import Hit, Searcher, SearchResults
from tui.screens.base import BaseScreen
from tui.text import clean, safe

DEBOUNCE = 0.03  # seconds of quiet typing before a search starts
LIMIT_PER_KIND = 10  # at most 4 groups x 10 rows + 4 headings: a bounded list
TITLES = {"account": "Accounts", "contact": "Contacts", "deal": "Deals", "case": "Cases"}
MODE_WORDS = {"email": "by email", "phone": "by phone number", "name": ""}


class SearchDone(Message):
    def __init__(self, seq: int, text: str, results: SearchResults | None) -> None:
        super().__init__()
        self.seq = seq
        self.text = text
        self.results = results


# ---------------------------------------------------------------------------------------------
# Opening a hit: an account in the tree, a contact's detail, a deal's form, a case's timeline.


def reveal_account(app: App[Any], account_id: int) -> None:
    """The account tree, showing `account_id` (filtered to its name, like opening from a form)."""
    from tui.screens.account_tree import AccountTreeScreen

    def show() -> None:
        for screen in reversed(app.screen_stack):
            if isinstance(screen, AccountTreeScreen):
                screen._open_account(account_id)
                return

    app.switch_mode("accounts")
    app.call_after_refresh(show)


def open_contact(app: App[Any], contact_id: int) -> None:
    from tui.screens.contact_detail import ContactDetailScreen

    app.push_screen(ContactDetailScreen(contact_id))


def open_deal(app: App[Any], hit: Hit) -> None:
    """A deal: its form (docs/pipeline.md), where it is read and changed."""
    from tui.screens.deal_form import DealFormScreen

    app.push_screen(DealFormScreen(hit.id))


def open_case(app: App[Any], hit: Hit) -> None:
    """A case: its timeline, the case's record of every call, note and change of state."""
    from db.services.activities import Scope
    from tui.screens.timeline import TimelineScreen

    app.push_screen(TimelineScreen(Scope("case", hit.id)))


def open_hit(app: App[Any], hit: Hit) -> None:
    if hit.kind == "account":
        reveal_account(app, hit.id)
    elif hit.kind == "contact":
        open_contact(app, hit.id)
    elif hit.kind == "deal":
        open_deal(app, hit)
    else:
        open_case(app, hit)


def hit_line(hit: Hit, width: int = 76) -> str:
    """One line: the name, then what else tells it apart (account, parent, number)."""
    label = clean(hit.label, limit=44, single_line=True)
    detail = clean(hit.detail, limit=max(8, width - 6 - len(label)), single_line=True)
    return f"  {label}  · {detail}" if detail else f"  {label}"


# ---------------------------------------------------------------------------------------------


class SearchScreen(BaseScreen):
    """Type to search; ↓ moves into the results, enter opens one, esc goes back."""

    IS_FORM = True  # printable keys are the box's: digits never switch screens from here
    DEFAULT_CSS = """
    SearchScreen #search-box { height: 3; margin: 0 1; }
    SearchScreen #search-results { height: 1fr; margin: 0 1; }
    SearchScreen #search-status { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Leave the search", id="search-back"),
        Binding("down", "results", "Results", tooltip="Move into the results", id="search-down",
                show=False),
        Binding("slash", "focus_box", "Search", tooltip="Back to the search box",
                id="search-box-focus", show=False),
    ]  # fmt: skip

    def __init__(self, text: str = "", search_fn=None) -> None:
        super().__init__()
        self.initial = text
        self.searcher = Searcher(search_fn=search_fn)
        self.shown: SearchResults | None = None
        self.shown_seq = 0
        self.hits: dict[str, Hit] = {}
        self._timer = None
        self._typed_at: dict[int, float] = {}
        self.timings: list[tuple[int, float]] = []  # (seq, seconds from key to painted)

    def compose_body(self) -> ComposeResult:
        yield Input(value=self.initial, placeholder="Name, company, deal, case, email or phone",
                    max_length=search_service.MAX_TEXT, id="search-box")  # fmt: skip
        yield OptionList(id="search-results")
        yield Static("Type a few letters: names with typos, an email, or a phone number.",
                     id="search-status")  # fmt: skip

    def on_mount(self) -> None:
        super().on_mount()
        self.set_focus(self.query_one("#search-box", Input))
        if self.initial:
            self._start(self.initial)

    # -- typing -------------------------------------------------------------------------------

    @on(Input.Changed, "#search-box")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        typed = time.perf_counter()
        self._timer = self.set_timer(DEBOUNCE, lambda: self._start(event.value, typed))

    @on(Input.Submitted, "#search-box")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        results = self.query_one(OptionList)
        if results.option_count:
            self.set_focus(results)
            self._highlight_first()
            if self.shown is not None and len(self.shown.hits) == 1:
                self._open(self.shown.hits[0])

    def _start(self, value: str, typed: float | None = None) -> None:
        self._timer = None
        seq = self.searcher.next_seq()  # cancels the query of the search this replaces
        self._typed_at[seq] = typed or time.perf_counter()
        text = value.strip()
        if not text:
            self._show(seq, "", SearchResults(text="", mode="empty"))
            return
        self.run_search(seq, text)

    @work(thread=True, exit_on_error=False, group="search")
    def run_search(self, seq: int, text: str) -> None:
        with database.connection_context():
            results = self.searcher.run(seq, text, limit_per_kind=LIMIT_PER_KIND)
        self.post_message(SearchDone(seq, text, results))

    def on_search_done(self, message: SearchDone) -> None:
        if message.results is None or not self.searcher.current(message.seq):
            return  # superseded: a newer search is on its way
        self._show(message.seq, message.text, message.results)

    # -- showing ------------------------------------------------------------------------------

    def _show(self, seq: int, text: str, results: SearchResults) -> None:
        self.shown, self.shown_seq = results, seq
        listing = self.query_one(OptionList)
        keep = None
        if listing.highlighted is not None and listing.option_count:
            keep = listing.get_option_at_index(listing.highlighted).id
        listing.clear_options()
        self.hits = {}
        options: list[Option] = []
        for group in results.groups:
            more = "+" if group.more else ""
            options.append(Option(safe(f"{TITLES[group.kind]} ({len(group.hits)}{more})"),
                                  disabled=True))  # fmt: skip
            for hit in group.hits:
                key = f"{hit.kind}-{hit.id}"
                if key in self.hits:
                    continue
                self.hits[key] = hit
                options.append(Option(safe(hit_line(hit, self.size.width or 80)), id=key))
        listing.add_options(options)
        if keep is not None and keep in self.hits:
            listing.highlighted = listing.get_option_index(keep)
        status = self.query_one("#search-status", Static)
        if not text:
            status.update("Type a few letters: names with typos, an email, or a phone number.")
        elif not self.hits:
            status.update(safe(f"Nothing found for {clean(text, limit=40, single_line=True)}"))
        else:
            how = MODE_WORDS.get(results.mode, "")
            status.update(safe(f"{len(self.hits)} found {how}".rstrip()
                               + " · ↓ results · enter opens · esc back"))  # fmt: skip
        typed = self._typed_at.pop(seq, None)
        for old in [s for s in self._typed_at if s < seq]:
            self._typed_at.pop(old, None)
        if typed is not None:
            self.call_after_refresh(lambda: self.timings.append((seq, time.perf_counter() - typed)))

    # -- live changes (tui/messages.py RecordsChanged, from the live hub) ----------------------

    TABLES = {"account": "account", "contact": "contact", "deal": "opportunity",
              "case": "support_case"}  # fmt: skip

    def on_records_changed(self, message: Message) -> None:
        """Search again when a record shown may have changed (renamed, deleted, hidden now)
        or when the hub says to refresh everything; the highlighted row stays."""
        changes = getattr(message, "changes", None)
        if changes is None or self.shown is None or not self.shown.text:
            return
        touched = getattr(changes, "everything", False) or any(
            changes.touches(self.TABLES[kind], [h.id for h in self.hits.values() if h.kind == kind])
            for kind in self.TABLES
        )
        if touched:
            self._start(self.query_one("#search-box", Input).value)

    def _highlight_first(self) -> None:
        listing = self.query_one(OptionList)
        for index in range(listing.option_count):
            if not listing.get_option_at_index(index).disabled:
                listing.highlighted = index
                return

    # -- keys ---------------------------------------------------------------------------------

    def action_results(self) -> None:
        listing = self.query_one(OptionList)
        if listing.option_count and self.focused is not listing:
            self.set_focus(listing)
            self._highlight_first()

    def action_focus_box(self) -> None:
        self.set_focus(self.query_one("#search-box", Input))

    def action_back(self) -> None:
        self.dismiss(None)

    @on(OptionList.OptionSelected, "#search-results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        hit = self.hits.get(event.option.id or "")
        if hit is not None:
            self._open(hit)

    def _open(self, hit: Hit) -> None:
        app = self.app
        self.dismiss(None)
        open_hit(app, hit)


def first_hits(text: str, limit: int = 5) -> list[Hit]:
    """For the command palette: the best few hits of each kind (call in a thread)."""
    with database.connection_context():
        results = search_service.search(text, limit_per_kind=limit)
    return results.hits
