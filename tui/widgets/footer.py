"""The key bar at the bottom of every screen: one line of text, not a widget per key.

Textual's Footer builds a widget for every key and rebuilds them all (a dozen widgets, each
styled and mounted) whenever the screen's bindings are refreshed: on every focus change and
every `refresh_bindings()` a screen makes when the highlighted row changes. Those rebuilds made
a pushed screen take 150-300 ms to settle (B5 "painted", docs/performance.md). This bar renders
the same keys as one line of text, and only re-renders when what it shows changes.

It shows the screen's active bindings in order (`show=True` ones), dims the disabled ones (dim
is an attribute, so it reads in monochrome too), and keeps the command palette key at the right.
Keys that do not fit in the width are left out from the end; `?` lists them all. A click on a
key presses it, for people who do have a mouse.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

SEPARATOR = "  "


class KeyFooter(Widget):
    """`yield KeyFooter()` last in a screen's compose."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"keybar--key", "keybar--description"}
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
        text-wrap: nowrap;
        text-overflow: clip;
        .keybar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .keybar--description {
            color: $footer-description-foreground;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        # (key, description, action, enabled) per shown key, and the palette key, if any.
        self._keys: tuple[tuple[str, str, str, bool], ...] = ()
        self._palette: tuple[str, str, str, bool] | None = None
        self._spans: list[tuple[int, int, str]] = []  # (start, end, key) of what is drawn

    def on_mount(self) -> None:
        # The screen signals once its bindings are ready (after its widgets are mounted).
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        app = self.app
        keys: list[tuple[str, str, str, bool]] = []
        seen_actions: set[str] = set()
        palette = None
        for _node, binding, enabled, _tooltip in screen.active_bindings.values():
            entry = (binding.key, app.get_key_display(binding), binding.description, enabled)
            if binding.key == app.COMMAND_PALETTE_BINDING and app.ENABLE_COMMAND_PALETTE:
                palette = entry
            elif binding.show and binding.action not in seen_actions:
                seen_actions.add(binding.action)  # one key per action, like Footer
                keys.append(entry)
        shown = (tuple(keys), palette)
        if shown != (self._keys, self._palette):
            self._keys, self._palette = shown
            self.refresh()

    def render(self) -> Text:
        width = self.size.width
        key_style = self.get_component_rich_style("keybar--key", partial=True)
        description_style = self.get_component_rich_style("keybar--description", partial=True)
        dim = Style(dim=True)
        palette_text = Text()
        if self._palette is not None:
            _key, display, description, _enabled = self._palette
            palette_text = Text.assemble(
                (display, key_style), " ", (description, description_style)
            )
        room = width - (palette_text.cell_len + len(SEPARATOR) if palette_text else 0)
        line = Text(" ")
        self._spans = []
        for key, display, description, enabled in self._keys:
            item = Text.assemble((display, key_style), " ", (description, description_style))
            if not enabled:
                item.stylize(dim)
            gap = SEPARATOR if len(line) > 1 else ""
            if line.cell_len + len(gap) + item.cell_len > room:
                break
            line.append(gap)
            start = line.cell_len
            line.append_text(item)
            self._spans.append((start, line.cell_len, key))
        if palette_text:
            pad = max(len(SEPARATOR), width - line.cell_len - palette_text.cell_len - 1)
            line.append(" " * pad)
            start = line.cell_len
            line.append_text(palette_text)
            self._spans.append((start, line.cell_len, self._palette[0]))  # type: ignore[index]
        return line

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return
