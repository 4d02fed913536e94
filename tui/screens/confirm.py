"""Yes/no questions, and the delete flow that says what goes to the trash before it goes.

Entry point for other screens (the delete key):

    from tui.screens.confirm import start_delete
    start_delete(self, "account", account_id, name, on_done=lambda deleted: ...)

`kind` is "account", "contact" or "relationship". For an account the dialog first counts
(capped) the sub-accounts, contacts, open deals and cases that go with it.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Static

from db.connection import database
from db.errors import SwitchboardError
from db.services import account_edit, trash
from tui.text import capped, clean, safe, safe_markup

# A record's name as a dialog or toast shows it: long values are cut so a dialog's keys are
# never pushed off an 80x24 screen (the question itself is capped by height as well).
NAME_SHOWN = 120

MODAL_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 70; max-width: 100%; height: auto; max-height: 100%;
    border: thick $primary; background: $surface; padding: 0 1;
}}
{name} .modal-title {{ text-style: bold; margin-bottom: 1; max-height: 5; }}
{name} #confirm-question {{ max-height: 12; }}
{name} .modal-keys {{ color: $text-muted; margin-top: 1; }}
{name} Horizontal {{ height: auto; align-horizontal: right; }}
{name} Button {{ margin-left: 1; }}
"""

# The warnings that interrupt a save (conflict, likely duplicate): wider, a warning border.
WARNING_MODAL_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: {width}; max-width: 100%; height: auto; max-height: 100%;
    border: thick $warning; background: $surface; padding: 0 1;
}}
{name} .modal-title {{ text-style: bold; }}
{name} .modal-keys {{ color: $text-muted; }}
"""


class ConfirmModal(ModalScreen[bool]):
    """A question; `y` (or the Yes button) answers yes, `n` or escape answers no."""

    DEFAULT_CSS = MODAL_CSS.format(name="ConfirmModal")
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", tooltip="Confirm", id="confirm-yes"),
        Binding("n,escape", "answer(False)", "No", tooltip="Cancel", id="confirm-no"),
    ]

    def __init__(self, question: Content | str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        self.yes, self.no = yes, no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, id="confirm-question")
            with Horizontal():
                yield Button(f"{self.yes} (y)", id="confirm-yes-button", variant="warning")
                yield Button(f"{self.no} (n)", id="confirm-no-button")

    def on_mount(self) -> None:
        self.query_one("#confirm-no-button", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes-button")


class DeleteConfirmModal(ModalScreen[bool]):
    """Move a record to the trash after saying what goes with it; True when deleted."""

    DEFAULT_CSS = MODAL_CSS.format(name="DeleteConfirmModal")
    BINDINGS = [
        Binding("y", "delete", "Delete", tooltip="Move it to the trash", id="delete-yes"),
        Binding("n,escape", "cancel", "Keep", tooltip="Do not delete", id="delete-no"),
    ]

    class ImpactLoaded(Message):
        def __init__(self, text: Content) -> None:
            super().__init__()
            self.text = text

    class Deleted(Message):
        pass

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, kind: str, record_id: int, name: str | None = None) -> None:
        super().__init__()
        self.kind, self.record_id, self.record_name = kind, record_id, name
        self.ready = kind != "account"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                safe_markup(
                    f"[b]Delete {self.kind}[/b] $name?",
                    name=clean(self.record_name or self.record_id, limit=NAME_SHOWN),
                ),
                classes="modal-title",
            )
            yield Static(self._plain_text(), id="delete-impact")
            yield Static("y delete (to the trash, restorable)   n / esc keep", classes="modal-keys")

    def _plain_text(self) -> Content:
        if self.kind == "account":
            return Content("Counting what goes with it…")
        return Content("It goes to the trash; it can be restored from there.")

    def on_mount(self) -> None:
        if self.kind == "account":
            self.load_impact()

    @work(thread=True, exclusive=True, exit_on_error=False, group="delete-impact")
    def load_impact(self) -> None:
        with database.connection_context():
            impact = account_edit.impact(self.record_id)
        cap = account_edit.IMPACT_CAP
        if impact.empty():
            text = Content("Nothing else goes with it. It can be restored from the trash.")
        else:
            text = safe_markup(
                "Going to the trash with it: $subs sub-accounts, $contacts contacts, "
                "$deals open deals, $cases open cases. All come back together on restore.",
                subs=capped(impact.sub_accounts, cap),
                contacts=capped(impact.contacts, cap),
                deals=capped(impact.open_deals, cap),
                cases=capped(impact.open_cases, cap),
            )
        self.post_message(self.ImpactLoaded(text))

    def on_delete_confirm_modal_impact_loaded(self, message: ImpactLoaded) -> None:
        self.ready = True
        self.query_one("#delete-impact", Static).update(message.text)

    def action_delete(self) -> None:
        if self.ready:  # never delete before the person has seen what goes with it
            self.run_delete()

    def action_cancel(self) -> None:
        self.dismiss(False)

    @work(thread=True, exclusive=True, exit_on_error=False, group="delete")
    def run_delete(self) -> None:
        try:
            with database.connection_context():
                trash.soft_delete(self.kind, self.record_id)
        except SwitchboardError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        self.post_message(self.Deleted())

    def on_delete_confirm_modal_deleted(self, _message: Deleted) -> None:
        self.app.notify(
            clean(
                f"Moved to the trash: {self.kind} "
                f"{clean(self.record_name or self.record_id, limit=NAME_SHOWN)}",
                single_line=True,
            ),
            markup=False,
        )
        self.dismiss(True)

    def on_delete_confirm_modal_failed(self, message: Failed) -> None:
        self.query_one("#delete-impact", Static).update(safe(message.text))


def start_delete(
    screen: Screen,
    kind: str,
    record_id: int,
    name: str | None = None,
    on_done: Callable[[bool | None], None] | None = None,
) -> None:
    """Ask (with what goes along), then move the record to the trash; `on_done(True)` after."""
    screen.app.push_screen(DeleteConfirmModal(kind, record_id, name), on_done)
