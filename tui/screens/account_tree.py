"""Accounts: the hierarchy as a lazily loaded tree, and the selected account's panel.

The tree never holds a whole table: roots and children come in keyset pages of PAGE accounts
("…more" loads the next one), children only when a node is expanded (one query per page,
whatever the number of children). The panel (facts, subtree totals, a bounded page of
contacts, open deals, latest activity) loads in one worker a moment after the cursor rests.
At 100 columns and more the panel sits beside the tree, below it on narrower terminals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical, VerticalScroll
from textual.events import Resize
from textual.message import Message
from textual.widgets import Input, OptionList, Static, Tree
from textual.widgets.option_list import Option
from textual.widgets.tree import TreeNode, UnknownNodeID
from textual.worker import get_current_worker

from db.connection import database
from db.services import accounts
from db.services.accounts import AccountNode, ContactPage, NodePage
from tui.screens.base import BaseScreen
from tui.text import clean, money, safe, safe_markup
from tui.widgets.account_tree import AccountTree, MoreNode, Placeholder, node_label
from tui.widgets.record_lines import activity_line, contact_line, deal_line, lines

if TYPE_CHECKING:
    from tui.screens.record_form import FormResult

PAGE = 100
RESTORE_WINDOW = 5.0  # seconds after a save during which arriving pages reopen nodes
# Keys that open a screen are priority bindings: the app runs them before it passes on the
# keys typed after them (a burst such as "l c notes" at a real terminal). They yield to the
# filter Input and to a type-to-jump in progress.
TYPEAHEAD_ACTIONS = frozenset({"new", "log_activity", "edit", "timeline"})
CONTACTS_PAGE = 50
WIDE = 100  # columns from which the panel sits beside the tree
PANEL_DELAY = 0.15  # seconds the cursor must rest before the panel loads


@dataclass(frozen=True)
class Panel:
    facts: accounts.AccountFacts
    crumbs: list[accounts.Crumb]
    rollup: accounts.Rollup
    contacts: ContactPage
    deals: list[accounts.OpportunityRow]
    activities: list[accounts.ActivityRow]


class PageLoaded(Message):
    """A page of roots (parent None) or of one node's children arrived."""

    def __init__(self, parent: TreeNode | None, page: NodePage, query: str) -> None:
        super().__init__()
        self.parent = parent
        self.page = page
        self.query = query


class PanelLoaded(Message):
    def __init__(self, account_id: int, panel: Panel) -> None:
        super().__init__()
        self.account_id = account_id
        self.panel = panel


class ContactsLoaded(Message):
    def __init__(self, account_id: int, page: ContactPage) -> None:
        super().__init__()
        self.account_id = account_id
        self.page = page


class AccountTreeScreen(BaseScreen):
    DEFAULT_CSS = """
    AccountTreeScreen #accounts-body { layout: vertical; height: 1fr; }
    AccountTreeScreen #accounts-body.wide { layout: horizontal; }
    AccountTreeScreen #tree-pane { height: 1fr; }
    AccountTreeScreen .wide #tree-pane { width: 1fr; height: 1fr; }
    AccountTreeScreen #account-filter { height: 1; border: none; padding: 0 1; }
    AccountTreeScreen #account-tree { height: 1fr; border-top: solid $primary; }
    AccountTreeScreen #account-panel { height: 1fr; border-top: solid $primary; padding: 0 1; }
    AccountTreeScreen .wide #account-panel {
        width: 1fr; border-top: none; border-left: solid $primary;
    }
    AccountTreeScreen #panel-contacts { height: auto; max-height: 8; border: none; padding: 0; }
    AccountTreeScreen .section-title { margin-top: 1; }
    """
    BINDINGS = [
        Binding(
            "slash",
            "filter",
            "Filter",
            tooltip="Filter accounts by name (server side)",
            id="accounts-filter",
        ),
        Binding(
            "escape", "clear_filter", "Clear", tooltip="Clear the name filter", id="accounts-clear"
        ),
        Binding(
            "c",
            "contacts",
            "Contacts",
            tooltip="Go to the selected account's contacts",
            id="accounts-contacts",
        ),
        Binding(
            "h",
            "history",
            "History",
            tooltip="Who changed this account, and when",
            id="accounts-history",
        ),
        Binding("n", "new", "New", tooltip="New account (new contact in the contacts list)",
                id="accounts-new", priority=True),
        Binding("s", "new_sub", "Sub-account", tooltip="New account under the selected one",
                id="accounts-new-sub", show=False),
        Binding("e", "edit", "Edit", tooltip="Edit the selected account or contact",
                id="accounts-edit", priority=True),
        Binding("d,delete", "delete", "Delete", tooltip="Move the selected record to the trash",
                id="accounts-delete", show=False),
        # priority: the app runs it before passing on the keys typed after it ("l c notes" in
        # one burst); otherwise those keys are already queued for the tree when the form opens.
        Binding("l", "log_activity", "Log", tooltip="Log a call, email, meeting or note here",
                id="accounts-log", priority=True),
        Binding("t", "timeline", "Timeline", tooltip="Everything that happened at this account",
                id="accounts-timeline", priority=True),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self.selected: AccountNode | None = None
        # After a reload (a save): the accounts to open again as their pages arrive, and the
        # one to put the cursor on.
        self._reopen: set[int] = set()
        self._recursor: int | None = None
        self._restore_until = 0.0  # monotonic: a page that comes later restores nothing
        self.contact_ids: list[int] = []
        self._contacts_after: tuple[str, str, int] | None = None
        self._panel_timer = None

    def compose_body(self) -> ComposeResult:
        with Container(id="accounts-body"):
            with Vertical(id="tree-pane"):
                yield Input(placeholder="/ filter by name", id="account-filter")
                tree = AccountTree(safe("Accounts"), id="account-tree")
                tree.show_root = False
                tree.border_title = "Accounts · contacts · open deals"
                yield tree
            with VerticalScroll(id="account-panel"):
                yield Static("", id="panel-title")
                yield Static("", id="panel-facts")
                yield Static("Contacts", classes="section-title")
                yield OptionList(id="panel-contacts")
                yield Static("Open deals", classes="section-title")
                yield Static("", id="panel-deals")
                yield Static("Latest activity", classes="section-title")
                yield Static("", id="panel-activities")

    def on_mount(self) -> None:
        super().on_mount()
        self.tree.focus()
        self.load_page(None, None, None, "")

    @property
    def tree(self) -> AccountTree:
        return self.query_one(AccountTree)

    def on_resize(self, event: Resize) -> None:
        self.query_one("#accounts-body").set_class(event.size.width >= WIDE, "wide")

    # ----------------------------------------------------------------------------- loading

    @work(thread=True, exclusive=False, exit_on_error=False, group="tree")
    def load_page(self, parent: TreeNode | None, parent_id: int | None,
                  after: accounts.Keyset | None, query: str) -> None:  # fmt: skip
        # Not exclusive: several nodes may be expanding at once, each fills only itself.
        with database.connection_context():
            if parent_id is None:
                page = accounts.roots(after=after, limit=PAGE, name_filter=query or None)
            else:
                page = accounts.children(parent_id, after=after, limit=PAGE)
        self.post_message(PageLoaded(parent, page, query))

    def on_page_loaded(self, message: PageLoaded) -> None:
        tree = self.tree
        if message.parent is None and message.query != self.query_text:
            return  # an older filter's answer
        if message.parent is not None:
            try:
                tree.get_node_by_id(message.parent.id)
            except UnknownNodeID:
                return  # the tree was refilled (filter changed) while this page loaded
        target = message.parent or tree.root
        for child in list(target.children):
            if isinstance(child.data, (MoreNode, Placeholder)):
                child.remove()
        filtered = message.parent is None and bool(message.query)
        for node in message.page.nodes:
            target.add(node_label(node, filtered), data=node, allow_expand=node.has_children)
        self._restore_state(target)
        if message.page.next_after is not None:
            parent_id = message.parent.data.id if message.parent else None
            target.add_leaf(safe("…more"), data=MoreNode(parent_id, message.page.next_after))
        if not target.children:
            target.add_leaf(safe("no accounts match" if filtered else "no accounts"),
                            data=Placeholder("empty"))  # fmt: skip
        if message.parent is None and tree.cursor_line < 0:
            tree.cursor_line = 0

    def _restore_state(self, parent: TreeNode) -> None:
        """Open again what was open before a reload, and put the cursor back (see _reload)."""
        if not self._reopen and self._recursor is None:
            return
        if time.monotonic() > self._restore_until:  # the person has moved on
            self._reopen, self._recursor = set(), None
            return
        for node in parent.children:
            data = node.data
            if not isinstance(data, AccountNode):
                continue
            if data.id in self._reopen:
                self._reopen.discard(data.id)
                node.expand()  # NodeExpanded loads its children, which come back here
            if data.id == self._recursor:
                self._recursor = None
                self.tree.move_cursor_to(node)

    @on(Tree.NodeExpanded, "#account-tree")
    def _expanded(self, event: Tree.NodeExpanded) -> None:
        node = event.node
        if isinstance(node.data, AccountNode) and not node.children:
            node.add_leaf(safe("loading…"), data=Placeholder("loading"))
            self.load_page(node, node.data.id, None, self.query_text)

    @on(Tree.NodeSelected, "#account-tree")
    def _selected(self, event: Tree.NodeSelected) -> None:
        if isinstance(event.node.data, MoreNode):
            self._load_more(event.node)

    @on(Tree.NodeHighlighted, "#account-tree")
    def _highlighted(self, event: Tree.NodeHighlighted) -> None:
        data = event.node.data
        if isinstance(data, MoreNode):
            self._load_more(event.node)  # keep scrolling: the next page comes by itself
            return
        if isinstance(data, AccountNode) and data != self.selected:
            self.selected = data
            if self._panel_timer is not None:
                self._panel_timer.stop()
            self._panel_timer = self.set_timer(PANEL_DELAY, lambda: self.load_panel(data.id))
            self.refresh_bindings()

    def _load_more(self, node: TreeNode) -> None:
        more = node.data
        if not isinstance(more, MoreNode):
            return
        node.set_label(safe("loading…"))
        node.data = Placeholder("loading")
        parent = node.parent if more.parent_id is not None else None
        self.load_page(parent, more.parent_id, more.after, self.query_text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="panel")
    def load_panel(self, account_id: int) -> None:
        with database.connection_context():
            panel = Panel(
                facts=accounts.facts(account_id),
                crumbs=accounts.ancestors(account_id),
                rollup=accounts.rollup(account_id),
                contacts=accounts.contacts_page(account_id, limit=CONTACTS_PAGE),
                deals=accounts.open_opportunities(account_id, limit=5),
                activities=accounts.latest_activities(account_id, limit=5),
            )
        if not get_current_worker().is_cancelled:
            self.post_message(PanelLoaded(account_id, panel))

    @work(thread=True, exclusive=True, exit_on_error=False, group="panel-contacts")
    def load_contacts(self, account_id: int, after: tuple[str, str, int]) -> None:
        with database.connection_context():
            page = accounts.contacts_page(account_id, after=after, limit=CONTACTS_PAGE)
        self.post_message(ContactsLoaded(account_id, page))

    # ----------------------------------------------------------------------------- the panel

    def on_panel_loaded(self, message: PanelLoaded) -> None:
        if self.selected is None or message.account_id != self.selected.id:
            return
        p = message.panel
        f = p.facts
        self.query_one("#account-panel").border_title = safe(f.name, limit=60, single_line=True)
        crumbs = " › ".join(clean(c.name, limit=30, single_line=True) for c in p.crumbs)
        self.query_one("#panel-title", Static).update(safe_markup("[b]$path[/b]", path=crumbs))
        self.query_one("#panel-facts", Static).update(lines(self._facts(p)))
        contacts = self.query_one("#panel-contacts", OptionList)
        contacts.clear_options()
        self.contact_ids = []
        self._add_contacts(p.contacts)
        self.query_one("#panel-deals", Static).update(
            lines(map(deal_line, p.deals), "no open deals")
        )
        acts = (activity_line(a) for a in p.activities)
        self.query_one("#panel-activities", Static).update(lines(acts, "no activity yet"))

    def _facts(self, p: Panel) -> list:
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
            safe(
                " · ".join(clean(x, limit=80, single_line=True) for x in (f.website, f.phone) if x)
            ),
            safe_markup(
                "[dim]Subtree: $a accounts · $c contacts · $v open[/]",
                a=f"{p.rollup.accounts:,}",
                c=f"{p.rollup.contacts:,}",
                v=money(p.rollup.open_value),
            ),  # fmt: skip
        ]
        return [line for line in out if line.plain]

    def _add_contacts(self, page: ContactPage) -> None:
        contacts = self.query_one("#panel-contacts", OptionList)
        if contacts.option_count and contacts.get_option_at_index(-1).id == "more":
            contacts.remove_option("more")
        contacts.add_options(Option(contact_line(c), id=f"c{c.id}") for c in page.contacts)
        self.contact_ids += [c.id for c in page.contacts]
        self._contacts_after = page.next_after
        if page.next_after is not None:
            contacts.add_option(Option(safe("…more contacts"), id="more"))
        if not self.contact_ids:
            contacts.add_option(Option(safe("no contacts"), id="none", disabled=True))

    def on_contacts_loaded(self, message: ContactsLoaded) -> None:
        if self.selected is not None and message.account_id == self.selected.id:
            self._add_contacts(message.page)

    @on(OptionList.OptionSelected, "#panel-contacts")
    def _contact_chosen(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or ""
        if option_id == "more" and self.selected and self._contacts_after:
            self.load_contacts(self.selected.id, self._contacts_after)
        elif option_id.startswith("c"):
            from tui.screens.contact_detail import ContactDetailScreen

            contact_id = int(option_id[1:])
            index = self.contact_ids.index(contact_id)
            self.app.push_screen(ContactDetailScreen(contact_id, list(self.contact_ids), index))

    # ----------------------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return True if self.query_text or self.focused is self.query_one(Input) else None
        if action in TYPEAHEAD_ACTIONS and (
            isinstance(self.focused, Input) or self.tree.jumping()
        ):
            return False  # a letter typed into the filter, or the next letter of a jump
        if action in ("history", "contacts", "new_sub", "log_activity", "timeline"):
            return True if self.selected is not None else None
        if action in ("edit", "delete"):
            if self._contacts_focused():
                return True if self._highlighted_contact() is not None else None
            return True if self.selected is not None else None
        return True

    # ----------------------------------------------------------------------------- records

    def _contacts_focused(self) -> bool:
        return self.focused is self.query_one("#panel-contacts", OptionList)

    def _highlighted_contact(self) -> int | None:
        contacts = self.query_one("#panel-contacts", OptionList)
        if contacts.highlighted is None:
            return None
        option_id = contacts.get_option_at_index(contacts.highlighted).id or ""
        return int(option_id[1:]) if option_id.startswith("c") else None

    def action_new(self) -> None:
        from tui.screens.account_form import AccountFormScreen
        from tui.screens.contact_form import ContactFormScreen

        if self._contacts_focused() and self.selected is not None:
            self.app.push_screen(ContactFormScreen(account_id=self.selected.id), self._form_done)
        else:
            self.app.push_screen(AccountFormScreen(), self._form_done)

    def action_new_sub(self) -> None:
        from tui.screens.account_form import AccountFormScreen

        if self.selected is not None:
            self.app.push_screen(AccountFormScreen(parent_id=self.selected.id), self._form_done)

    def action_edit(self) -> None:
        from tui.screens.account_form import AccountFormScreen
        from tui.screens.contact_form import ContactFormScreen

        contact_id = self._highlighted_contact() if self._contacts_focused() else None
        if contact_id is not None:
            self.app.push_screen(ContactFormScreen(contact_id=contact_id), self._form_done)
        elif self.selected is not None:
            self.app.push_screen(AccountFormScreen(self.selected.id), self._form_done)

    def action_delete(self) -> None:
        from tui.screens.confirm import start_delete

        contact_id = self._highlighted_contact() if self._contacts_focused() else None
        if contact_id is not None:
            start_delete(self, "contact", contact_id, on_done=lambda ok: self._reload(ok))
        elif self.selected is not None:
            account = self.selected
            start_delete(self, "account", account.id, account.name,
                         on_done=lambda ok: self._reload(ok, reload_tree=True))  # fmt: skip

    def action_log_activity(self) -> None:
        from tui.screens.log_activity import LogActivityScreen

        if self.selected is None:
            return
        contact_id = self._highlighted_contact() if self._contacts_focused() else None
        about = clean(self.selected.name, limit=60, single_line=True)
        screen = LogActivityScreen(account_id=self.selected.id, contact_id=contact_id,
                                   about=about)  # fmt: skip
        self.app.push_screen(screen, lambda saved: self._reload(saved is not None))

    def action_timeline(self) -> None:
        from db.services.activities import Scope
        from tui.screens.timeline import open_timeline

        if self.selected is not None:
            name = clean(self.selected.name, limit=60, single_line=True)
            open_timeline(self, Scope("account_tree", self.selected.id), name)

    def _form_done(self, result: FormResult | None) -> None:
        if result is None:
            return
        if result.action == "open" and result.kind == "contact":
            from tui.screens.contact_detail import ContactDetailScreen

            self.app.push_screen(ContactDetailScreen(result.record_id))
            return
        if result.action == "open" and result.kind == "account":
            self._open_account(result.record_id)
            return
        self._reload(True, reload_tree=result.kind == "account",
                     focus_id=result.record_id if result.kind == "account" else None)  # fmt: skip

    @work(thread=True, exclusive=True, exit_on_error=False, group="open-account")
    def _open_account(self, account_id: int) -> None:
        with database.connection_context():
            name = accounts.facts(account_id).name
        self.app.call_from_thread(self._show_by_name, name)

    def _show_by_name(self, name: str) -> None:
        box = self.query_one("#account-filter", Input)
        box.value = name
        self._apply_filter(name)

    def _reload(
        self, changed: bool | None, reload_tree: bool = False, focus_id: int | None = None
    ) -> None:
        """After a save or delete: refill the tree (its labels may have changed) and the panel.

        The tree comes back as it was: the accounts that were open open again as their pages
        arrive, and the cursor returns to `focus_id` (the saved account) or where it was."""
        if not changed:
            return
        if reload_tree:
            self._reopen = {
                node.data.id
                for node in self.tree.account_nodes()
                if isinstance(node.data, AccountNode) and node.is_expanded
            }
            self._recursor = focus_id or (self.selected.id if self.selected else None)
            self._restore_until = time.monotonic() + RESTORE_WINDOW
            self.tree.clear()
            self.tree.root.add_leaf(safe("loading…"), data=Placeholder("loading"))
            self.selected = None
            self.load_page(None, None, None, self.query_text)
        elif self.selected is not None:
            self.load_panel(self.selected.id)
        self.refresh_bindings()

    # Focus moves at once (Screen.set_focus), not after a call_later like Widget.focus: keys
    # typed right after "/" or "c" must land in the new widget (STYLE.md, tmux trap).
    def action_filter(self) -> None:
        self.set_focus(self.query_one("#account-filter", Input))

    def action_tree(self) -> None:
        self.set_focus(self.tree)

    def action_contacts(self) -> None:
        self.set_focus(self.query_one("#panel-contacts", OptionList))

    def action_clear_filter(self) -> None:
        box = self.query_one("#account-filter", Input)
        if box.value or self.query_text:
            box.value = ""
            self._apply_filter("")
        self.set_focus(self.tree)

    @on(Input.Changed, "#account-filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        self.set_timer(0.25, lambda value=event.value: self._filter_settled(value))

    def _filter_settled(self, value: str) -> None:
        if value == self.query_one("#account-filter", Input).value:
            self._apply_filter(value.strip())

    @on(Input.Submitted, "#account-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self._apply_filter(event.value.strip())
        self.set_focus(self.tree)

    def _apply_filter(self, text: str) -> None:
        if text == self.query_text and self.tree.root.children:
            return
        self.query_text = text
        tree = self.tree
        tree.clear()
        tree.root.add_leaf(safe("loading…"), data=Placeholder("loading"))
        self.load_page(None, None, None, text)
        self.refresh_bindings()

    def action_history(self) -> None:
        if self.selected is None:
            return
        from tui.screens.history import HistoryScreen

        title = clean(self.selected.name, limit=60, single_line=True)
        self.app.push_screen(HistoryScreen("account", self.selected.id, title))
