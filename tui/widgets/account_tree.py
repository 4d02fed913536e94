"""The account hierarchy as a lazily filled Tree: Content labels, j/k, type-to-jump.

The tree never holds a whole table: roots (or a name filter's matches) and children come in
keyset pages of PAGE accounts ("…more" loads the next one), children only when a node is
expanded (one query per page). Nodes carry an `AccountNode` (an account), a `MoreNode` (the
next page of its parent) or a `Placeholder` (loading…, nothing found). `current` is the
account under the cursor: the one record every key of the screen acts on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rich.style import Style as RichStyle
from rich.text import Text
from textual import events, on, work
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.style import Style
from textual.widgets import Tree
from textual.widgets.tree import TreeNode, UnknownNodeID

from db.connection import database
from db.services import accounts
from db.services.accounts import CONTACT_CAP, AccountNode, Keyset, NodePage
from db.services.search import Searcher
from tui.screens.worker_errors import ForwardWorkerErrors
from tui.text import clean, money, safe, safe_markup

PAGE = 100
RESTORE_WINDOW = 5.0  # seconds after a reload during which arriving pages reopen nodes
JUMP_TIMEOUT = 1.0  # seconds between letters that still extend the same jump
NAME_WIDTH = 40
# Lower-case keys bound on the accounts screen or app-wide: they act as keys, except while a
# jump is being typed. Upper case (shift) always jumps.
RESERVED = set("jkhcq/?nlesdto0123456789")


@dataclass(frozen=True)
class MoreNode:
    parent_id: int | None  # None: the roots (or the filter results)
    after: Keyset


@dataclass(frozen=True)
class Placeholder:
    text: str


@dataclass
class Restore:
    """After a reload: the accounts to open again as their pages arrive, and the cursor's."""

    reopen: set[int] = field(default_factory=set)
    cursor: int | None = None
    until: float = 0.0  # monotonic: a page that comes later restores nothing


class PageLoaded(Message):
    """A page of roots (parent None) or of one node's children arrived."""

    def __init__(self, parent: TreeNode | None, page: NodePage, query: str) -> None:
        super().__init__()
        self.parent = parent
        self.page = page
        self.query = query


def node_label(node: AccountNode, filtered: bool = False) -> Content:
    """'Volvo Cars Sverige AB  4 · 500k' (contacts · open deal value), all values cleaned."""
    count = f"{CONTACT_CAP:,}+" if node.contacts_capped else f"{node.contact_count:,}"
    value = money(node.open_value) if node.open_value else "—"
    name = clean(node.name, limit=NAME_WIDTH, single_line=True)
    if filtered and node.parent_name:
        where = clean(node.parent_name, limit=30, single_line=True)
        return safe_markup("$name  [dim]in $where · $count · $value[/]", name=name,
                           where=where, count=count, value=value)  # fmt: skip
    return safe_markup("$name  [dim]$count · $value[/]", name=name, count=count, value=value)


def to_text(content: Content) -> Text:
    """Content (already cleaned) as the rich Text that Tree draws."""
    return Text.assemble(
        *((seg.text, seg.style or RichStyle()) for seg in content.render_segments(Style()))
    )


class AccountTree(ForwardWorkerErrors, Tree[object]):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", tooltip="Next account", id="tree-down", show=False),
        Binding("k", "cursor_up", "Up", tooltip="Previous account", id="tree-up", show=False),
    ]  # fmt: skip

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._jump = ""
        self._jump_at = 0.0
        self.query_text = ""
        self._restore = Restore()
        # Filter pages: a newer filter cancels the query of the one it replaces.
        self._filters = Searcher(
            search_fn=lambda text, after: accounts.roots(after=after, limit=PAGE, name_filter=text)
        )

    @property
    def current(self) -> AccountNode | None:
        """The account under the cursor, or None (no account, "…more", a placeholder)."""
        node = self.cursor_node
        return node.data if node is not None and isinstance(node.data, AccountNode) else None

    # ----------------------------------------------------------------------------- loading

    def fill(self, query: str) -> None:
        """Empty the tree and load the roots (or the accounts whose name matches `query`)."""
        self.query_text = query
        self.clear()
        self.cursor_line = -1  # Tree.clear keeps the old line: the first row must highlight
        self.root.add_leaf(safe("loading…"), data=Placeholder("loading"))
        self.load_page(None, None, None, query, self._filters.next_seq() if query else 0)

    def reload(self, cursor: int | None = None) -> None:
        """Fill again as it was: open accounts reopen as their pages arrive and the cursor
        returns to `cursor` (else the account it is on)."""
        current = self.current
        self._restore = Restore(
            {n.data.id for n in self.account_nodes() if n.is_expanded},
            cursor or (current.id if current else None),
            time.monotonic() + RESTORE_WINDOW,
        )
        self.fill(self.query_text)

    def remove_account(self, account_id: int) -> None:
        """Take an account that can no longer be read out of the tree (the cursor moves on)."""
        for node in self.account_nodes():
            if node.data.id == account_id:
                line = self.cursor_line
                node.remove()
                if not any(isinstance(n.data, AccountNode) for n in self.root.children):
                    self.root.add_leaf(safe("no accounts"), data=Placeholder("empty"))
                self.cursor_line = -1
                self.cursor_line = min(line, self.last_line)
                return

    @work(thread=True, exclusive=False, exit_on_error=False, group="tree")
    def load_page(self, parent: TreeNode | None, parent_id: int | None,
                  after: Keyset | None, query: str, seq: int = 0) -> None:  # fmt: skip
        # Not exclusive: several nodes may be expanding at once, each fills only itself.
        with database.connection_context():
            if parent_id is None and query and after is None:
                found = self._filters.run(seq, query, after=None)
                if found is None:
                    return  # a newer filter replaced this one (its query was cancelled)
                page = found
            elif parent_id is None:
                page = accounts.roots(after=after, limit=PAGE, name_filter=query or None)
            else:
                page = accounts.children(parent_id, after=after, limit=PAGE)
        self.post_message(PageLoaded(parent, page, query))

    def on_page_loaded(self, message: PageLoaded) -> None:
        if message.parent is None and message.query != self.query_text:
            return  # an older filter's answer
        if message.parent is not None:
            try:
                self.get_node_by_id(message.parent.id)
            except UnknownNodeID:
                return  # the tree was refilled (filter changed) while this page loaded
        target = message.parent or self.root
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
        if message.parent is None and self.cursor_line < 0:
            self.cursor_line = 0

    def _restore_state(self, parent: TreeNode) -> None:
        restore = self._restore
        if not restore.reopen and restore.cursor is None:
            return
        if time.monotonic() > restore.until:  # the person has moved on
            self._restore = Restore()
            return
        for node in parent.children:
            data = node.data
            if not isinstance(data, AccountNode):
                continue
            if data.id in restore.reopen:
                restore.reopen.discard(data.id)
                node.expand()  # NodeExpanded loads its children, which come back here
            if data.id == restore.cursor:
                restore.cursor = None
                self.move_cursor_to(node)

    @on(Tree.NodeExpanded)
    def _expanded(self, event: Tree.NodeExpanded) -> None:
        node = event.node
        if isinstance(node.data, AccountNode) and not node.children:
            node.add_leaf(safe("loading…"), data=Placeholder("loading"))
            self.load_page(node, node.data.id, None, self.query_text)

    @on(Tree.NodeSelected)
    @on(Tree.NodeHighlighted)
    def _more(self, event: Tree.NodeSelected | Tree.NodeHighlighted) -> None:
        """Walking onto (or choosing) "…more" loads the next page by itself."""
        node = event.node
        more = node.data
        if not isinstance(more, MoreNode):
            return
        node.set_label(safe("loading…"))
        node.data = Placeholder("loading")
        parent = node.parent if more.parent_id is not None else None
        self.load_page(parent, more.parent_id, more.after, self.query_text)

    # ----------------------------------------------------------------------------- keys

    def process_label(self, label: object) -> Text:
        # Never parse markup: a str here is literal text, Content is ours (built by safe*).
        if isinstance(label, Content):
            return to_text(label)
        if isinstance(label, Text):
            return label
        return Text(clean(label, single_line=True))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "Expand all" would load every child list of every open node at once.
        return action != "toggle_expand_all"

    def on_key(self, event: events.Key) -> None:
        """Type-to-jump: letters move to the next visible account whose name starts with them."""
        char = event.character
        if not char or not char.isprintable() or event.key in ("space", "enter"):
            if event.key != "space" or not self._jumping():
                self._jump = ""  # any other key (enter, arrows) ends the jump
                return
            char = " "
        now = time.monotonic()
        if self._jumping(now):
            self._jump += char
            start = self.cursor_line
        elif char.lower() != char or char not in RESERVED:
            self._jump = char
            start = self.cursor_line + 1
        else:
            return
        self._jump_at = now
        event.stop()
        event.prevent_default()
        self.jump_to(self._jump, start)

    def jumping(self) -> bool:
        """A type-to-jump is being typed: letters extend it rather than act as keys."""
        return self._jumping()

    def _jumping(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return bool(self._jump) and now - self._jump_at < JUMP_TIMEOUT

    def jump_to(self, prefix: str, start: int) -> bool:
        """Move the cursor to the first visible account at or after line `start` (wrapping)
        whose name starts with `prefix` (case-insensitive). True when one was found."""
        total = self.last_line + 1
        wanted = prefix.casefold()
        for step in range(total):
            line = (start + step) % total
            node = self.get_node_at_line(line)
            if node is not None and isinstance(node.data, AccountNode):
                if node.data.name.casefold().startswith(wanted):
                    self.move_cursor(node)
                    return True
        self.app.bell()
        return False

    def move_cursor_to(self, node: TreeNode[object]) -> None:
        """Put the cursor on `node`, even one added a moment ago (Tree.move_cursor uses the
        node's line, which is only set once the tree has laid its lines out again)."""
        for line in range(self.last_line + 1):  # last_line lays the lines out
            if self.get_node_at_line(line) is node:
                self.move_cursor_to_line(line)
                return

    def account_nodes(self) -> list[TreeNode[object]]:
        """The visible account nodes, top to bottom (for tests and the screen)."""
        found = []
        for line in range(self.last_line + 1):
            node = self.get_node_at_line(line)
            if node is not None and isinstance(node.data, AccountNode):
                found.append(node)
        return found
