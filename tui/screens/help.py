"""`?`: every key of the screen underneath, its focused widget and the app, in one list.

Each key shows its description and tooltip whole: long ones wrap, nothing is cut. The list
comes from Textual's active bindings of the screen underneath, so keys of the focused widget
(the tree's expand and collapse, a table's cursor keys) are listed too.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tui.keymap import EVERYWHERE, IN_FORMS, RECORD_KEYS


def keymap_lines() -> list[Content]:
    """The keys that mean the same on every screen (docs/keymap.md)."""
    lines: list[Content] = []
    for title, keys in (("Everywhere", EVERYWHERE), ("On a record", RECORD_KEYS),
                        ("In a form or dialog", IN_FORMS)):  # fmt: skip
        lines.append(Content.from_markup(f"\n[b]{title}[/b]"))
        lines += [Content(f"{key:<12} {what}") for key, what in keys]
    return lines


NAMES = {"question_mark": "?", "slash": "/", "left_square_bracket": "[", "plus": "+",
         "right_square_bracket": "]", "escape": "esc", "delete": "del", "space": "space",
         "minus": "-", "full_stop": ".", "comma": ",", "greater_than_sign": ">",
         "less_than_sign": "<", "left": "←", "right": "→", "up": "↑", "down": "↓"}  # fmt: skip


# Textual's own movement keys, the same in every list: listed once as "arrows" instead.
GENERIC = ("scroll_", "page_", "cursor_up", "cursor_down", "focus_", "copy_text",
           "screen.focus_", "screen.copy_text", "app.focus_")  # fmt: skip


# Textual's own descriptions of widget keys, said for this app.
WORDS = {
    "toggle_node": "Expand or collapse the selected account",
    "select_cursor": "Open the selected row",
    "cursor_parent": "Up to the parent account",
    "cursor_parent_next_sibling": "To the next account under the parent's parent",
    "cursor_previous_sibling": "To the previous account at the same level",
    "cursor_next_sibling": "To the next account at the same level",
}


def key_label(key: str) -> str:
    """'shift+right,greater_than_sign' -> 'shift+→,>' (each key as it is printed on it)."""

    def one(k: str) -> str:
        mods, _, base = k.rpartition("+")
        return (mods + "+" if mods else "") + NAMES.get(base, base)

    return ",".join(one(k) for k in key.split(",")).replace("ctrl+", "^")


def help_rows(under: Screen) -> list[tuple[str, str]]:
    """(keys, words) for every described key active on `under`, the palette included."""
    by_action: dict[tuple[int, int, str], tuple[list[str], Binding]] = {}
    app = under.app
    app.listing_keys = True  # the screen's keys as they are on it, not as help blocks them
    try:
        active_bindings = under.active_bindings
    finally:
        app.listing_keys = False
    for key, active in active_bindings.items():
        binding = active.binding
        if not binding.description or binding.action.startswith(GENERIC):
            continue
        order = 0 if active.node is under else 2 if active.node is under.app else 1
        slot = by_action.setdefault((order, id(active.node), binding.action), ([], binding))
        if key_label(key) not in slot[0]:
            slot[0].append(key_label(key))
    rows = [("arrows", "Move; pageup, pagedown, home and end jump; tab: next field or list")]
    for _slot, (keys, binding) in sorted(by_action.items(), key=lambda item: item[0][0]):
        tip = binding.tooltip or ""
        words = binding.description + (f": {tip}" if tip and tip != binding.description else "")
        words = WORDS.get(binding.action, words) if not binding.tooltip else words
        rows.append((",".join(keys), words))
    if under.app.ENABLE_COMMAND_PALETTE and not any(k == "^p" for k, _ in rows):
        rows.append(("^p", "Palette: go to a screen, run a command"))
    return rows


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 76; max-width: 100%; max-height: 100%; border: round $primary;
        background: $surface; padding: 0 1; height: auto;
    }
    HelpScreen Horizontal { height: auto; }
    HelpScreen .help-key { width: 12; }
    HelpScreen .help-words { width: 1fr; }
    """
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help-close"),
    ]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Content.from_markup("[b]Keys on this screen[/b] (esc closes)"))
            for key, words in help_rows(self.under):
                with Horizontal():
                    yield Static(Content(key), classes="help-key")
                    yield Static(Content(words), classes="help-words")
            for line in keymap_lines():
                yield Static(line)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
