"""Compact form rows for 80x24: a label, one control on the same line, its error below."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, TextArea

from tui.text import clean, safe

LABEL_WIDTH = 16


def error_id(field: str) -> str:
    """The id of the error label of `field` ("phones.1" → "err-phones-1")."""
    return "err-" + field.replace(".", "-").replace("_", "-")


def control_id(field: str) -> str:
    return "f-" + field.replace(".", "-").replace("_", "-")


class FieldRow(Vertical):
    """`label  [control]` on one line and, when a rule is broken, the message under it."""

    DEFAULT_CSS = f"""
    FieldRow {{ height: auto; }}
    FieldRow > Horizontal {{ height: 1; }}
    FieldRow .field-label {{ width: {LABEL_WIDTH}; color: $text-muted; }}
    FieldRow Input, FieldRow Select {{ width: 1fr; }}
    FieldRow.-multi > Horizontal {{ height: 4; }}
    FieldRow TextArea {{ width: 1fr; height: 4; }}
    FieldRow .field-error {{ color: $text-error; padding-left: {LABEL_WIDTH}; display: none; }}
    FieldRow .field-error.-shown {{ display: block; }}
    """

    def __init__(self, field: str, label: str, control: Widget, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.field = field
        self.label = label
        self.control = control

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(self.label, classes="field-label")
            yield self.control
        yield Label("", id=error_id(self.field), classes="field-error")


def text_row(field: str, label: str, placeholder: str = "", max_length: int = 0) -> FieldRow:
    control = Input(
        placeholder=placeholder, id=control_id(field), compact=True, max_length=max_length
    )
    return FieldRow(field, label, control)


def choice_row(field: str, label: str, choices: tuple[str, ...], blank: bool = True) -> FieldRow:
    control: Select[str] = Select(
        [(c.replace("_", " "), c) for c in choices],
        id=control_id(field),
        compact=True,
        allow_blank=blank,
        prompt="—",
        value=Select.NULL if blank else choices[0],
    )
    return FieldRow(field, label, control)


def notes_row(field: str, label: str) -> FieldRow:
    """Multi-line text (enter is a newline here; ctrl+s saves)."""
    control = TextArea(id=control_id(field), compact=True, soft_wrap=True, tab_behavior="focus")
    return FieldRow(field, label, control, classes="-multi")


class FlagBox(Checkbox):
    """A checkbox that reads `[x]` or `[ ]`: on and off differ without colour (NO_COLOR)."""

    @property
    def _button(self) -> Content:
        style = self.get_visual_style("toggle--button")
        return Content.assemble("[", ("x" if self.value else " ", style), "]")


def flag_row(field: str, label: str) -> FieldRow:
    return FieldRow(field, "", FlagBox(label, id=control_id(field), compact=True))


def show_error(container: Widget, field: str, message: str | None) -> bool:
    """Put `message` under `field` (or clear it); False when the form has no such field."""
    matches = container.query(f"#{error_id(field)}")
    if not matches:
        return False
    label = matches.first(Label)
    label.update(safe(message or "", single_line=True))
    label.set_class(bool(message), "-shown")
    return True


def read_control(widget: Widget) -> Any:
    """The raw value a control holds: text, a choice (None when blank), or a flag."""
    if isinstance(widget, Input):
        return widget.value
    if isinstance(widget, TextArea):
        return widget.text
    if isinstance(widget, Select):
        return None if widget.value == Select.NULL else widget.value
    if isinstance(widget, Checkbox):
        return widget.value
    raise TypeError(f"not a form control: {widget!r}")


def write_control(widget: Widget, value: Any) -> None:
    """Set a control from a raw value (strings for inputs, None for a blank choice)."""
    # Values from the database are cleaned of control characters (never cut: limit is huge).
    if isinstance(widget, Input):
        widget.value = clean(value, limit=1_000_000)
        widget.cursor_position = 0
    elif isinstance(widget, TextArea):
        widget.load_text(clean(value, limit=1_000_000))
    elif isinstance(widget, Select):
        widget.value = Select.NULL if value in (None, "") else value
    elif isinstance(widget, Checkbox):
        widget.value = bool(value)
    else:
        raise TypeError(f"not a form control: {widget!r}")
