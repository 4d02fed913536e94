"""The key bar (tui/widgets/footer.py): the screen's shown keys on one line, disabled ones
dimmed, hidden ones absent, the palette at the right; a click presses the key."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen

from tui.widgets.footer import KeyFooter


class Keys(Screen[None]):
    BINDINGS = [
        Binding("a", "count", "Add"),
        Binding("b", "nothing", "Blocked"),
        Binding("c", "nothing", "Concealed", show=False),
        Binding("d", "gone", "Gone"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.pressed = 0

    def compose(self) -> ComposeResult:
        yield KeyFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return {"nothing": None, "gone": False}.get(action, True)  # None: shown, disabled

    def action_count(self) -> None:
        self.pressed += 1


class KeysApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(Keys())


def line(bar: KeyFooter) -> str:
    return "".join(segment.text for segment in bar.render_line(0))


async def test_shown_keys_dimmed_disabled_and_a_click_presses():
    app = KeysApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(KeyFooter)
        text = line(bar)
        assert "a Add" in text and "b Blocked" in text
        assert "Concealed" not in text and "Gone" not in text  # show=False; check_action False
        assert text.rstrip().endswith("palette")
        dim = [s for s in bar.render_line(0) if "Blocked" in s.text]
        assert dim and dim[0].style is not None and dim[0].style.dim
        start = text.index("a Add")
        await pilot.click(KeyFooter, offset=(start + 1, 0))
        await pilot.pause()
        assert app.screen.pressed == 1
        await pilot.press("a")
        assert app.screen.pressed == 2


async def test_keys_that_do_not_fit_are_left_out_from_the_end():
    app = KeysApp()
    async with app.run_test(size=(24, 6)) as pilot:
        await pilot.pause()
        text = line(app.screen.query_one(KeyFooter))
        assert len(text) <= 24 and "palette" in text and "Blocked" not in text
