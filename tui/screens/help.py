"""`?`: every key of the screen underneath and of the app, in one list."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
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


def _key_label(key: str) -> str:
    names = {"question_mark": "?", "slash": "/", "left_square_bracket": "[",
             "right_square_bracket": "]", "escape": "esc", "delete": "del"}  # fmt: skip
    return ",".join(names.get(k, k) for k in key.split(",")).replace("ctrl+", "^")


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 76; max-height: 22; border: round $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help-close"),
    ]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        rows: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        for node in (self.under, self.app):
            for binding in getattr(node, "BINDINGS", []):
                if not isinstance(binding, Binding) or not binding.description:
                    continue
                key = _key_label(binding.key)
                if key in seen:
                    continue
                seen.add(key)
                rows.append((key, binding.description, binding.tooltip or ""))
        lines = [Content.from_markup("[b]Keys on this screen[/b]")]
        for key, desc, tip in rows:
            lines.append(Content(f"{key:<12} {desc:<18} {tip}"[:72]))
        lines += keymap_lines()
        with VerticalScroll():
            for line in lines:
                yield Static(line)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
