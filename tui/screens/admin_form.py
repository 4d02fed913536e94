"""A small form dialog for the admin screen: fields, a save that runs in a thread worker,
and errors shown under the field they name (nothing is saved when one is refused)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from db.connection import database
from db.errors import SwitchboardError, ValidationError
from db.services import failures
from tui.screens.worker_errors import ForwardWorkerErrors
from tui.text import safe


@dataclass
class Field:
    name: str
    label: str
    value: str = ""
    options: list[tuple[str, str]] | None = None  # (label, value) -> a Select
    password: bool = False
    aliases: list[str] = field(default_factory=list)  # error field names shown here


class AdminForm(ForwardWorkerErrors, ModalScreen[Any]):
    """`save(values) -> result` runs in a worker; the dialog closes with the result."""

    _opened = False  # until mounted: focus goes to the first field without any scrolling

    DEFAULT_CSS = """
    AdminForm { align: center middle; }
    AdminForm > Vertical {
        width: 70; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    AdminForm VerticalScroll { height: auto; max-height: 18; }
    AdminForm .form-title { text-style: bold; }
    AdminForm .field-error { color: $text-error; height: auto; }
    AdminForm #form-error { color: $text-error; height: auto; }
    AdminForm Input, AdminForm Select { margin: 0; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", tooltip="Save (after confirming)", id="form-save"),
        Binding("escape", "cancel", "Cancel", tooltip="Close without saving", id="form-cancel"),
    ]

    class Failed(Message):
        def __init__(self, error: SwitchboardError) -> None:
            super().__init__()
            self.error = error

    class Saved(Message):
        def __init__(self, result: Any) -> None:
            super().__init__()
            self.result = result

    def __init__(self, title: str, fields: list[Field], save: Callable[[dict], Any],
                 confirm: str | None = None,
                 check: Callable[[dict], None] | None = None) -> None:  # fmt: skip
        """`check(values)` raises ValidationError before the confirmation is asked for (rules
        that need no database); `save` may still refuse, and its error lands the same way."""
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.save = save
        self.confirm = confirm
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(safe(self.title_text), classes="form-title")
            # Not focusable itself: the first field has focus on opening (on_mount), and
            # tab goes round the fields only.
            with VerticalScroll(can_focus=False):
                for f in self.fields:
                    yield Label(f.label)
                    if f.options is not None:
                        yield Select(f.options, value=f.value if f.value else Select.NULL,
                                     id=f"field-{f.name}", allow_blank=True)  # fmt: skip
                    else:
                        yield Input(value=f.value, password=f.password, id=f"field-{f.name}")
                    yield Static("", classes="field-error", id=f"error-{f.name}")
            yield Static("", id="form-error")
            yield Static("enter/ctrl+s save · esc cancel", classes="muted")

    def set_focus(
        self, widget: Widget | None, scroll_visible: bool = True, from_app_focus: bool = False
    ) -> None:
        # Opening, Textual focuses the first field (AUTO_FOCUS, at compose: keys typed at once
        # land there) and would scroll it to the centre, hiding its label: the dialog opens at
        # its top instead.
        super().set_focus(widget, scroll_visible and self._opened, from_app_focus)

    def on_mount(self) -> None:
        self._opened = True
        if self.fields:  # typing starts in the first field, not nowhere (walk-through 5a)
            self.query_one(f"#field-{self.fields[0].name}").focus(scroll_visible=False)

    def values(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for f in self.fields:
            widget = self.query_one(f"#field-{f.name}")
            if isinstance(widget, Select):
                out[f.name] = None if widget.value in (Select.NULL, None) else str(widget.value)
            else:
                out[f.name] = widget.value  # type: ignore[attr-defined]
        return out

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        values = self.values()
        for f in self.fields:
            self.query_one(f"#error-{f.name}", Static).update("")
        self.query_one("#form-error", Static).update("")
        if self.check is not None:
            try:
                self.check(values)
            except ValidationError as exc:
                self.show_error(exc)
                return
        if self.confirm:
            from tui.screens.confirm import ConfirmModal

            def answered(yes: bool | None) -> None:
                if yes:
                    self.run_save(values)

            self.app.push_screen(ConfirmModal(self.confirm), answered)
        else:
            self.run_save(values)

    @work(thread=True, exclusive=True, exit_on_error=False, group="admin-form")
    def run_save(self, values: dict) -> None:
        try:
            with database.connection_context():
                result = self.save(values)
        except SwitchboardError as exc:
            self.post_message(self.Failed(exc))
            return
        except Exception as exc:  # a lost connection, a timeout: never stuck
            self.post_message(self.Failed(SwitchboardError(failures.not_saved(exc))))
            return
        self.post_message(self.Saved(result))

    def on_admin_form_failed(self, message: Failed) -> None:
        self.show_error(message.error)

    def show_error(self, error: SwitchboardError) -> None:
        """The error under the field it names, that field focused and the error scrolled into
        view (it was left below the fold); other errors under the fields, always in view."""
        if isinstance(error, ValidationError):
            for f in self.fields:
                if error.field == f.name or error.field in f.aliases:
                    note = self.query_one(f"#error-{f.name}", Static)
                    note.update(safe(f"{f.label}: {error.message}", single_line=True))
                    self.query_one(f"#field-{f.name}").focus(scroll_visible=False)
                    self.call_after_refresh(note.scroll_visible, animate=False)
                    return
        self.query_one("#form-error", Static).update(safe(str(error), single_line=True))

    def on_admin_form_saved(self, message: Saved) -> None:
        self.dismiss(message.result if message.result is not None else True)

    def action_cancel(self) -> None:
        self.dismiss(None)
