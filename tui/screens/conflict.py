"""The conflict dialog: someone else changed the same field; the person chooses per field.

Each conflicting field shows mine, theirs and the original. Keys: up/down (or tab) move
between fields, `m` keeps mine, `t` takes theirs, `M`/`T` for every field, enter or ctrl+s
saves with the choices, escape goes back to the form with everything typed still there.
Dismisses with {field: "mine" | "theirs"} or None.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Static

from db.errors import Conflict
from tui.screens.confirm import WARNING_MODAL_CSS
from tui.text import safe_markup

Describe = Callable[[str, Any], str]


def _plain(_field: str, value: Any) -> str:
    return "—" if value in (None, "", ()) else str(value)


class ConflictChoice(Static, can_focus=True):
    """One field: who changed what; shows which value will be saved."""

    DEFAULT_CSS = """
    ConflictChoice { height: auto; padding: 0 1; margin-bottom: 1; }
    ConflictChoice:focus { background: $boost; border-left: thick $accent; }
    """
    choice: reactive[str] = reactive("mine")

    def __init__(self, field: str, label: str, mine: str, theirs: str, original: str) -> None:
        super().__init__(id=f"conflict-{field.replace('_', '-')}")
        self.field = field
        self.label, self.mine, self.theirs, self.original = label, mine, theirs, original

    def render(self) -> Content:
        mark_m = "●" if self.choice == "mine" else "○"
        mark_t = "●" if self.choice == "theirs" else "○"
        return safe_markup(
            "[b]$label[/b]  keeps: [reverse]$choice[/reverse]\n"
            " $mm mine      $mine\n $mt theirs    $theirs\n   original  $original",
            label=self.label, choice=self.choice, mm=mark_m, mt=mark_t,
            mine=self.mine, theirs=self.theirs, original=self.original,
        )  # fmt: skip


class ConflictModal(ModalScreen[dict[str, str] | None]):
    DEFAULT_CSS = WARNING_MODAL_CSS.format(name="ConflictModal", width=78) + (
        "ConflictModal VerticalScroll { height: auto; max-height: 16; }"
    )
    BINDINGS = [
        Binding("m", "choose('mine')", "Mine", tooltip="Keep what I typed", id="conflict-mine"),
        Binding("t", "choose('theirs')", "Theirs", tooltip="Take their value",
                id="conflict-theirs"),
        Binding("M", "choose_all('mine')", "All mine", tooltip="Keep mine everywhere",
                id="conflict-all-mine"),
        Binding("T", "choose_all('theirs')", "All theirs", tooltip="Take theirs everywhere",
                id="conflict-all-theirs"),
        Binding("down,j", "app.focus_next", "Next", show=False),
        Binding("up,k", "app.focus_previous", "Previous", show=False),
        Binding("enter,ctrl+s", "save", "Save", tooltip="Save with these choices",
                id="conflict-save"),
        Binding("escape", "back", "Back", tooltip="Back to the form (nothing is lost)",
                id="conflict-back"),
    ]  # fmt: skip

    def __init__(
        self, conflict: Conflict, labels: dict[str, str] | None = None, describe: Describe = _plain
    ) -> None:
        super().__init__()
        self.conflict = conflict
        self.labels = labels or {}
        self.describe = describe

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Content("Someone else saved this record while you were editing it."),
                classes="modal-title",
            )
            yield Static(
                Content("Their other changes are kept. For these fields, choose whose value stays:")
            )
            with VerticalScroll():
                for name, field in self.conflict.fields.items():
                    yield ConflictChoice(
                        name,
                        self.labels.get(name, name.replace("_", " ")),
                        self.describe(name, field.mine),
                        self.describe(name, field.theirs),
                        self.describe(name, field.original),
                    )
            yield Static(
                Content("m mine  t theirs  M/T all  ↑↓ field  enter save  esc back to the form"),
                classes="modal-keys",
            )

    def on_mount(self) -> None:
        self.query(ConflictChoice).first().focus()

    def _current(self) -> ConflictChoice:
        focused = self.focused
        if isinstance(focused, ConflictChoice):
            return focused
        return self.query(ConflictChoice).first()

    def action_choose(self, who: str) -> None:
        self._current().choice = who

    def action_choose_all(self, who: str) -> None:
        for row in self.query(ConflictChoice):
            row.choice = who

    def action_save(self) -> None:
        self.dismiss({row.field: row.choice for row in self.query(ConflictChoice)})

    def action_back(self) -> None:
        self.dismiss(None)
