"""The duplicate warning: a likely copy of what is being created already exists.

Keys: up/down pick a candidate, enter (or `o`) opens it, `c` continues and creates the new
record anyway, escape goes back to the form. Dismisses with ("open", Candidate),
("continue", None) or None.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from db.services.duplicates import Candidate
from tui.screens.confirm import WARNING_MODAL_CSS
from tui.text import safe_markup

Choice = tuple[str, Candidate | None]


class DuplicateModal(ModalScreen[Choice | None]):
    DEFAULT_CSS = WARNING_MODAL_CSS.format(name="DuplicateModal", width=74) + (
        "DuplicateModal OptionList { height: auto; max-height: 10; }"
    )
    BINDINGS = [
        Binding("o", "open", "Open it", tooltip="Open the existing record", id="dup-open"),
        Binding("c", "continue", "Create anyway", tooltip="It is not the same: create it",
                id="dup-continue"),
        Binding("escape", "back", "Back", tooltip="Back to the form", id="dup-back"),
    ]  # fmt: skip

    def __init__(self, kind: str, candidates: list[Candidate]) -> None:
        super().__init__()
        self.kind = kind
        self.candidates = candidates

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(f"This {self.kind} may already exist:"), classes="modal-title")
            yield OptionList(
                *[
                    Option(
                        safe_markup(
                            "$name  [dim]$where · $reason[/dim]",
                            name=c.name,
                            where=c.account or "—",
                            reason=c.reason,
                        ),  # fmt: skip
                        id=str(index),
                    )
                    for index, c in enumerate(self.candidates)
                ],
                id="dup-candidates",
            )
            yield Static(
                Content("enter/o open it   c create anyway   esc back to the form"),
                classes="modal-keys",
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(("open", self.candidates[event.option_index]))

    def action_open(self) -> None:
        index = self.query_one(OptionList).highlighted or 0
        self.dismiss(("open", self.candidates[index]))

    def action_continue(self) -> None:
        self.dismiss(("continue", None))

    def action_back(self) -> None:
        self.dismiss(None)
