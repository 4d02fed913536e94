"""The account hierarchy as a lazily filled Tree: Content labels, j/k, type-to-jump.

Nodes carry an `AccountNode` (an account), a `MoreNode` (the next keyset page of its parent)
or a `Placeholder` (loading..., nothing found). The screen fills the tree; this widget only
shows it and moves the cursor.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.style import Style as RichStyle
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.style import Style
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from db.services.accounts import CONTACT_CAP, AccountNode, Keyset
from tui.text import clean, money, safe_markup

JUMP_TIMEOUT = 1.0  # seconds between letters that still extend the same jump
NAME_WIDTH = 40
# Lower-case keys bound on the accounts screen or app-wide: they act as keys, except while a
# jump is being typed. Upper case (shift) always jumps.
RESERVED = set("jkhcq/?nlesdt0123456789")


@dataclass(frozen=True)
class MoreNode:
    parent_id: int | None  # None: the roots (or the filter results)
    after: Keyset


@dataclass(frozen=True)
class Placeholder:
    text: str


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


class AccountTree(Tree[object]):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", tooltip="Next account", id="tree-down", show=False),
        Binding("k", "cursor_up", "Up", tooltip="Previous account", id="tree-up", show=False),
    ]  # fmt: skip

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._jump = ""
        self._jump_at = 0.0

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
