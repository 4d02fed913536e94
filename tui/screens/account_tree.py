"""Accounts: the hierarchy as a lazily loaded tree, and the selected account's panel.

The tree (tui/widgets/account_tree.py) loads itself in keyset pages; the panel
(tui/widgets/account_panel.py) shows the account under the cursor, with its contacts
(tui/widgets/account_contacts.py). This screen keeps them agreeing on one visible record and
runs the keys: every key acts on the account under the cursor, or on the highlighted contact
when the contacts list has focus; with nothing there, the key says so. At 100 columns and more
the panel sits beside the tree, below it on narrower terminals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.events import Resize, ScreenResume
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Tree

from db.connection import database
from db.services import accounts
from db.services.accounts import AccountNode
from tui.messages import RecordsChanged
from tui.presence import PresenceHolder
from tui.screens.base import BaseScreen
from tui.text import clean, safe
from tui.widgets.account_contacts import AccountContacts
from tui.widgets.account_filter import AccountFilter
from tui.widgets.account_panel import AccountPanel
from tui.widgets.account_tree import AccountTree, PageLoaded

if TYPE_CHECKING:
    from tui.screens.record_form import FormResult

# Keys that open a screen are priority bindings: the app runs them before it passes on the
# keys typed after them (a burst such as "l c notes" at a real terminal). They yield to the
# filter Input and to a type-to-jump in progress.
TYPEAHEAD_ACTIONS = frozenset({"new", "log_activity", "edit", "timeline"})
WIDE = 100  # columns from which the panel sits beside the tree
NO_ACCOUNT = "No account selected: move the cursor onto one (/ filters by name)."


# What the panel shows of an account (notices name the account of every row of these).
PANEL_TABLES = ("account", "contact", "contact_phone", "contact_email", "opportunity", "activity")


class NodesReread(Message):
    """Accounts named by change notices, re-read under RLS (those this person can see)."""

    def __init__(self, asked: set[int], rows: set[int], found: dict[int, AccountNode]) -> None:
        super().__init__()
        self.asked = asked
        self.rows = rows  # named by notices about the account rows themselves
        self.found = found


class AccountTreeScreen(PresenceHolder, BaseScreen):
    DEFAULT_CSS = """
    AccountTreeScreen #accounts-body { layout: vertical; height: 1fr; }
    AccountTreeScreen #accounts-body.wide { layout: horizontal; }
    AccountTreeScreen #tree-pane { height: 1fr; }
    AccountTreeScreen .wide #tree-pane { width: 1fr; height: 1fr; }
    AccountTreeScreen #account-tree { height: 1fr; border-top: solid $primary; }
    AccountTreeScreen #account-panel { height: 1fr; border-top: solid $primary; padding: 0 1; }
    AccountTreeScreen .wide #account-panel {
        width: 1fr; border-top: none; border-left: solid $primary;
    }
    AccountTreeScreen .section-title { margin-top: 1; }
    """
    BINDINGS = [
        Binding("slash", "filter", "Filter", tooltip="Filter accounts by name (server side)",
                id="accounts-filter"),
        Binding("escape", "escape", "Back", tooltip="Clear the filter; from the contacts, back "
                "to the tree", id="accounts-clear"),
        Binding("c", "contacts", "Contacts", tooltip="Go to the selected account's contacts",
                id="accounts-contacts"),
        Binding("h", "history", "History", tooltip="Who changed this account, and when",
                id="accounts-history"),
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
        Binding("o", "deals", "Deals", tooltip="The account's open deals: open one or add one",
                id="account-deals", show=False),
        # K, not k: j and k move in the tree and the contacts list
        Binding("K", "open_case", "Case", tooltip="Open a support case for the selected "
                "account (or contact)", id="tree-case", show=False),
        Binding("t", "timeline", "Timeline", tooltip="Everything that happened at this account",
                id="accounts-timeline", priority=True),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self._acting: tuple[int, Screen] | None = None  # (account, the screen a key opened)

    def compose_body(self) -> ComposeResult:
        with Container(id="accounts-body"):
            with Vertical(id="tree-pane"):
                yield AccountFilter(placeholder="/ filter by name", id="account-filter")
                tree = AccountTree(safe("Accounts"), id="account-tree")
                tree.show_root = False
                tree.border_title = "Accounts · contacts · open deals"
                yield tree
            yield AccountPanel(id="account-panel")

    def on_mount(self) -> None:
        super().on_mount()
        self.tree.focus()
        self.tree.fill("")

    @property
    def tree(self) -> AccountTree:
        return self.query_one(AccountTree)

    @property
    def panel(self) -> AccountPanel:
        return self.query_one(AccountPanel)

    @property
    def contacts(self) -> AccountContacts:
        return self.query_one(AccountContacts)

    def on_resize(self, event: Resize) -> None:
        self.query_one("#accounts-body").set_class(event.size.width >= WIDE, "wide")

    # ----------------------------------------------------------------------------- one record

    @on(Tree.NodeHighlighted, "#account-tree")
    @on(PageLoaded)
    def _sync(self) -> None:
        """The panel shows the account under the cursor, whatever moved the cursor."""
        current, shown = self.tree.current, self.panel.account
        if (current.id if current else None) != (shown.id if shown else None):
            self.panel.show(current)
            self.refresh_bindings()

    def on_screen_resume(self, _event: ScreenResume) -> None:
        self.panel.reload()  # back from another screen: it may have changed meanwhile

    def on_account_panel_shown(self, message: AccountPanel.Shown) -> None:
        """The account the panel shows is open here; who else has it open goes on the panel's
        border (the status bar would not say which record it means)."""
        if message.account_id is None:
            self.drop_presence()
        else:
            self.hold_presence("account", message.account_id)

    def show_presence(self, text: str) -> None:
        self.panel.show_presence(text)
    # ----------------------------------------------------------------------------- live

    def on_records_changed(self, message: RecordsChanged) -> None:
        """Labels of the accounts named re-read in place; a new or moved account reloads the
        tree as it was; the panel re-reads when its account is named. Cursor, open nodes and
        the filter stay. Ids this person cannot see come back empty: nothing changes."""
        changes = message.changes
        if changes.everything:
            self.tree.reload()
            self.panel.reload()
            return
        rows = set(changes.ids.get("account", frozenset()))
        named = rows | set(changes.accounts)
        if named:
            self.reread_nodes(named, rows)
        shown = self.panel.account
        if shown is not None and changes.touches(PANEL_TABLES, [shown.id], accounts=[shown.id]):
            self.panel.reload()

    @work(thread=True, exclusive=False, exit_on_error=False, group="tree-reread")
    def reread_nodes(self, ids: set[int], rows: set[int]) -> None:
        with database.connection_context():
            found = accounts.nodes(ids)
        self.post_message(NodesReread(ids, rows, found))

    def on_nodes_reread(self, message: NodesReread) -> None:
        from tui.widgets.account_tree import node_label

        tree = self.tree
        shown = {n.data.id: n for n in tree.account_nodes()}
        filtered = bool(tree.query_text)
        for account_id in message.asked & set(shown):
            node = shown[account_id]
            new = message.found.get(account_id)
            if new is None:
                continue  # gone for this person: the panel's verify says so when acted on
            old = node.data
            if new.parent_id != old.parent_id and not filtered:
                tree.reload()  # moved: it belongs elsewhere now
                return
            node.data = new
            node.set_label(node_label(new, filtered and node.parent is tree.root))
            node.allow_expand = new.has_children
        expanded = {n.data.id for n in shown.values() if n.is_expanded}
        for account_id, new in message.found.items():
            if account_id in shown or filtered or account_id not in message.rows:
                continue
            if new.parent_id is None or new.parent_id in expanded:
                tree.reload()  # a new account where the person can see it appear
                return

    def _account(self) -> AccountNode | None:
        """The account every key acts on; None (and a notification) when there is none."""
        current = self.tree.current
        if current is None:
            self.notify(NO_ACCOUNT, severity="warning")
        return current

    def _contact(self) -> int | None:
        """The highlighted contact when the contacts list has focus (else None)."""
        if self.focused is not self.contacts:
            return None
        contact_id = self.contacts.contact_id()
        if contact_id is None:
            self.notify("No contact highlighted: n adds one.", severity="warning")
        return contact_id

    def _open(self, account: AccountNode, screen: Screen, callback=None) -> None:
        """Open a screen about `account`, checking meanwhile that it can still be read."""
        self._acting = (account.id, screen)
        self.app.push_screen(screen, callback)
        self.panel.verify(account.id)

    @on(AccountPanel.Gone)
    def _gone(self, message: AccountPanel.Gone) -> None:
        """Deleted meanwhile, or this person lost access: out of the tree, and say so."""
        gone = next((n.data for n in self.tree.account_nodes() if n.data.id == message.account_id),
                    None)  # fmt: skip
        if self._acting and self._acting[0] == message.account_id:
            screen = self._acting[1]
            self._acting = None
            if self.app.screen is screen:  # once drawn: its controls finish mounting first
                self.app.call_after_refresh(self._close, screen)
        if gone is not None:
            name = clean(gone.name, limit=60, single_line=True)
            self.notify(f"{name} is no longer there for you: deleted, or moved out of your view.",
                        severity="warning", markup=False)  # fmt: skip
            self.tree.remove_account(message.account_id)
        self._sync()

    def _close(self, screen: Screen) -> None:
        if self.app.screen is screen:
            screen.dismiss(None)  # not awaited: this runs in the app's own callback queue

    # ----------------------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "escape":
            box = self.query_one(Input)
            return True if self.tree.query_text or self.focused in (box, self.contacts) else None
        if action in TYPEAHEAD_ACTIONS and (
            isinstance(self.focused, Input) or self.tree.jumping()
        ):
            return False  # a letter typed into the filter, or the next letter of a jump
        return True

    def action_new(self) -> None:
        from tui.screens.account_form import AccountFormScreen
        from tui.screens.contact_form import ContactFormScreen

        if self.focused is not self.contacts:
            self.app.push_screen(AccountFormScreen(), self._form_done)
        elif account := self._account():
            self._open(account, ContactFormScreen(account_id=account.id), self._form_done)

    def action_new_sub(self) -> None:
        from tui.screens.account_form import AccountFormScreen

        if account := self._account():
            self._open(account, AccountFormScreen(parent_id=account.id), self._form_done)

    def action_edit(self) -> None:
        from tui.screens.account_form import AccountFormScreen
        from tui.screens.contact_form import ContactFormScreen

        if self.focused is self.contacts:
            if contact_id := self._contact():
                self.app.push_screen(ContactFormScreen(contact_id=contact_id), self._form_done)
        elif account := self._account():
            self._open(account, AccountFormScreen(account.id), self._form_done)

    def action_delete(self) -> None:
        from tui.screens.confirm import DeleteConfirmModal

        if self.focused is self.contacts:
            if contact_id := self._contact():
                screen = DeleteConfirmModal("contact", contact_id)
                self.app.push_screen(screen, lambda ok: self._reload(ok))
        elif account := self._account():
            screen = DeleteConfirmModal("account", account.id, account.name)
            self._open(account, screen, lambda ok: self._reload(ok, reload_tree=True))

    def action_log_activity(self) -> None:
        from tui.screens.log_activity import LogActivityScreen

        contact_id = self.contacts.contact_id() if self.focused is self.contacts else None
        if account := self._account():
            about = clean(account.name, limit=60, single_line=True)
            screen = LogActivityScreen(account_id=account.id, contact_id=contact_id, about=about)
            self._open(account, screen, lambda saved: self._reload(saved is not None))

    def action_open_case(self) -> None:
        from tui.screens.cases import open_case_prompt

        contact_id = self.contacts.contact_id() if self.focused is self.contacts else None
        if account := self._account():
            open_case_prompt(self, contact_id=contact_id, account_id=account.id)

    def action_timeline(self) -> None:
        from db.services.activities import Scope
        from tui.screens.timeline import open_timeline

        if account := self._account():
            name = clean(account.name, limit=60, single_line=True)
            open_timeline(self, Scope("account_tree", account.id), name)

    def action_deals(self) -> None:
        from tui.screens.deal_list import DealListModal

        if account := self._account():
            title = "Open deals · " + clean(account.name, limit=60, single_line=True)
            self._open(account, DealListModal(title, account.id),
                       lambda _: self._reload(True))  # fmt: skip

    def action_history(self) -> None:
        from tui.screens.history import HistoryScreen

        if account := self._account():
            title = clean(account.name, limit=60, single_line=True)
            self._open(account, HistoryScreen("account", account.id, title))

    def _form_done(self, result: FormResult | None) -> None:
        if result is None or result.action == "queued":  # waits in the outbox: nothing new
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
        self.query_one("#account-filter", Input).value = name
        self._apply_filter(name)

    def _reload(
        self, changed: bool | None, reload_tree: bool = False, focus_id: int | None = None
    ) -> None:
        """After a save or delete: refill the tree (its labels may have changed, it comes
        back as it was) or only the panel."""
        if not changed:
            return
        if reload_tree:
            self.tree.reload(focus_id)
            self._sync()
        else:
            self.panel.reload()

    # Focus moves at once (Screen.set_focus), not after a call_later like Widget.focus: keys
    # typed right after "/" or "c" must land in the new widget (STYLE.md, tmux trap).
    def action_filter(self) -> None:
        self.set_focus(self.query_one("#account-filter", Input))

    def action_contacts(self) -> None:
        if self._account():
            self.set_focus(self.contacts)
            self.contacts.enter()  # the first contact highlighted, or a word that there is none

    @on(AccountContacts.Chosen)
    def _contact_chosen(self, event: AccountContacts.Chosen) -> None:
        from tui.screens.contact_detail import ContactDetailScreen

        index = event.contact_ids.index(event.contact_id)
        self.app.push_screen(ContactDetailScreen(event.contact_id, event.contact_ids, index))

    def action_escape(self) -> None:
        box = self.query_one("#account-filter", Input)
        if self.focused is not self.contacts and (box.value or self.tree.query_text):
            box.value = ""
            self._apply_filter("")
        self.set_focus(self.tree)

    @on(AccountFilter.Applied)
    def _filtered(self, event: AccountFilter.Applied) -> None:
        self._apply_filter(event.text)
        if event.done:
            self.set_focus(self.tree)

    def _apply_filter(self, text: str) -> None:
        if text == self.tree.query_text and self.tree.root.children:
            return
        self.tree.fill(text)
        self._sync()  # the old cursor's account is gone from the screen
