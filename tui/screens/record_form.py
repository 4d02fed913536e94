"""What every record form shares: load, save in a worker, errors beside fields, conflicts,
duplicate warnings and the unsaved-changes warning.

Keys: tab/shift+tab move (round the fields only), enter in a one-line field saves, ctrl+s
saves anywhere, escape cancels (asking first when something changed). Every printable key
belongs to the form (no screen switching from inside it), and keys typed before the form has
loaded wait for it (`holds_keys`, see tui/keys.py): a burst lands as slow typing would.
A form dismisses with a FormResult: action "saved" (the record's id) or "open" (the person
chose an existing duplicate to open instead: the caller opens it), or None when cancelled.

Subclasses set KIND and LABELS and implement compose_fields, raw_values/fill_raw (the
widgets' raw values), to_raw (typed record → raw), and in the worker thread: load,
find_duplicates and write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Static

from db.connection import database
from db.errors import Conflict, ValidationError, ValidationErrors
from db.outbox import unavailable
from db.services import failures
from db.services.duplicates import Candidate
from tui.live import LiveScreen
from tui.messages import RecordsChanged
from tui.presence import PresenceHolder
from tui.screens.confirm import ConfirmModal
from tui.screens.conflict import ConflictModal
from tui.screens.duplicates import DuplicateModal
from tui.screens.worker_errors import ForwardWorkerErrors
from tui.text import safe, safe_markup
from tui.widgets.footer import KeyFooter
from tui.widgets.form_fields import control_id, show_error


@dataclass(frozen=True)
class FormResult:
    kind: str  # "account", "contact", "relationship"
    record_id: int
    action: str  # "saved" or "open"


class FormLoaded(Message):
    def __init__(self, original: dict[str, Any], extra: dict[str, Any]) -> None:
        super().__init__()
        self.original, self.extra = original, extra


class FormSaved(Message):
    def __init__(self, record_id: int) -> None:
        super().__init__()
        self.record_id = record_id


class FormRejected(Message):
    def __init__(self, errors: list[ValidationError]) -> None:
        super().__init__()
        self.errors = errors


class FormConflicted(Message):
    def __init__(self, conflict: Conflict, current: dict[str, Any]) -> None:
        super().__init__()
        self.conflict, self.current = conflict, current


class FormDuplicates(Message):
    def __init__(self, candidates: list[Candidate]) -> None:
        super().__init__()
        self.candidates = candidates


class FormQueued(Message):
    """The save waits in the offline outbox (the App said so in a notification)."""


class FormFailed(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ChangedUnderneath(Message):
    """The record was saved by someone else while this form is open (a re-read said so)."""

    def __init__(self, version: object) -> None:
        super().__init__()
        self.version = version


class RecordFormScreen(
    PresenceHolder, LiveScreen, ForwardWorkerErrors, Screen[FormResult | None]
):
    IS_FORM: ClassVar[bool] = True  # printable keys are the form's (tui/keys.py)
    PRESENCE_EDITING: ClassVar[bool] = True  # others see "… editing" while the form is open
    KIND: ClassVar[str] = "record"
    TABLE: ClassVar[str | None] = None  # the SQL table of the record (default: KIND)
    LABELS: ClassVar[dict[str, str]] = {}
    DEFAULT_CSS = """
    RecordFormScreen #form-title { height: 1; background: $panel; text-style: bold; padding: 0 1; }
    RecordFormScreen #form-body { height: 1fr; padding: 0 1; }
    RecordFormScreen #form-message { height: auto; padding: 0 1; color: $text-warning; }
    RecordFormScreen .section { margin-top: 1; color: $text-muted; text-style: bold; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", tooltip="Save (enter in a one-line field too)",
                id="form-save"),
        Binding("escape", "cancel", "Cancel", tooltip="Leave; asks first if something changed",
                id="form-cancel"),
    ]  # fmt: skip

    def __init__(self, record_id: int | None = None) -> None:
        super().__init__()
        self.record_id = record_id
        self.original: dict[str, Any] | None = None
        self.initial_raw: dict[str, Any] = {}
        self.saving = False
        self.ready = False

    @property
    def holds_keys(self) -> bool:
        """Keys typed with the one that opened the form ("n Acme Tab ...") wait until the
        form has loaded and its first field has focus (the app holds them: tui/keys.py)."""
        return not self.ready

    # -- to implement --------------------------------------------------------------------
    def compose_fields(self) -> ComposeResult:
        yield from ()

    def title_text(self) -> Content:
        verb = "Edit" if self.record_id else "New"
        return Content(f"{verb} {self.KIND}")

    def show_presence(self, text: str) -> None:
        """Who else has the record open, beside the title ("Edit contact · Erik editing")."""
        title = self.title_text()
        if text:
            title = Content.assemble(title, ("  ·  " + text, "italic"))
        self.query_one("#form-title", Static).update(title)

    def raw_values(self) -> dict[str, Any]:
        raise NotImplementedError

    def fill_raw(self, raw: dict[str, Any]) -> None:
        raise NotImplementedError

    def to_raw(self, typed: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def load(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(thread) The record's typed values incl. version, plus extra display data."""
        raise NotImplementedError

    def load_new(self) -> dict[str, Any]:
        """(thread) Display data for a new record (parent name...)."""
        return {}

    def find_duplicates(self, raw: dict[str, Any]) -> list[Candidate]:
        return []

    def write(self, raw: dict[str, Any], original: dict[str, Any] | None) -> int:
        """(thread) Validate and save; returns the record id."""
        raise NotImplementedError

    def queue_offline(self, raw: dict[str, Any], original: dict[str, Any] | None) -> bool:
        """(thread) The database is away: keep the save in the offline outbox (tui/outbox.py)
        and return True, or return False to say "Not saved" (the default)."""
        return False

    def current_view(self, conflict: Conflict) -> dict[str, Any]:
        """(thread) The record as it is now, in the shape `to_raw` reads."""
        return conflict.current

    def show_extra(self, extra: dict[str, Any]) -> None:
        """Show display data from `load`/`load_new` (read-only lines)."""

    def describe(self, field: str, value: Any) -> str:
        """A value for the conflict dialog."""
        return "—" if value in (None, "", ()) else str(value)

    # -- shared --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(self.title_text(), id="form-title")
        # Not focusable itself: tab and shift+tab go round the fields only.
        with VerticalScroll(id="form-body", can_focus=False):
            yield from self.compose_fields()
        yield Static("", id="form-message")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#form-body").disabled = self.record_id is not None
        if self.record_id is not None:
            self.hold_presence(self.KIND, self.record_id)  # a KIND without presence: ignored
        # Load once the form has been drawn: every control (a Select's inner label too) is
        # composed by then, so filling them in cannot race their mounting.
        self.call_after_refresh(self.load_record)

    @work(thread=True, exclusive=True, exit_on_error=False, group="form-load")
    def load_record(self) -> None:
        with database.connection_context():
            if self.record_id is None:
                self.post_message(FormLoaded({}, self.load_new()))
            else:
                original, extra = self.load()
                self.post_message(FormLoaded(original, extra))

    def on_form_loaded(self, message: FormLoaded) -> None:
        if message.original:
            self.original = message.original
            self.fill_raw(self.to_raw(message.original))
        self.show_extra(message.extra)
        body = self.query_one("#form-body")
        body.disabled = False
        # Rows mounted by fill_raw compose their controls on the next refresh: read after it.
        self.call_after_refresh(self._settled)

    def _settled(self) -> None:
        self.initial_raw = self.raw_values()
        self._focus_first()
        self.ready = True

    def _focus_first(self) -> None:
        for widget in self.query_one("#form-body").query("Input, Select, TextArea, Checkbox"):
            if widget.focusable:
                self.set_focus(widget)  # at once: keys held for the form go in next
                break

    def dirty(self) -> bool:
        return self.raw_values() != self.initial_raw

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self, check_duplicates: bool = True) -> None:
        if self.saving or (self.record_id is not None and self.original is None):
            return
        self.saving = True
        self._message("Saving…")
        self.save_record(self.raw_values(), self.original, check_duplicates)

    @work(thread=True, exclusive=True, exit_on_error=False, group="form-save")
    def save_record(
        self, raw: dict[str, Any], original: dict[str, Any] | None, check_duplicates: bool
    ) -> None:
        # Every way out posts a message that ends the "Saving…" state: a save that dies of a
        # dropped connection, a terminated backend or a timeout says so; ctrl+s works again.
        try:
            with database.connection_context():
                if check_duplicates and self.record_id is None:
                    candidates = self.find_duplicates(raw)
                    if candidates:
                        self.post_message(FormDuplicates(candidates))
                        return
                record_id = self.write(raw, original)
        except ValidationErrors as exc:
            self.post_message(FormRejected(exc.errors))
        except ValidationError as exc:
            self.post_message(FormRejected([exc]))
        except Conflict as exc:
            try:
                with database.connection_context():
                    current = self.current_view(exc)
            except Exception as lost:  # any failure: see above
                self.post_message(FormFailed(failures.not_saved(lost)))
                return
            self.post_message(FormConflicted(exc, current))
        except Exception as exc:  # any failure: see above
            if unavailable(exc) and self.queue_offline(raw, original):
                self.post_message(FormQueued())
                return
            self.post_message(FormFailed(failures.not_saved(exc)))
        else:
            self.post_message(FormSaved(record_id))

    def _message(self, text: str | Content) -> None:
        self.query_one("#form-message", Static).update(
            text if isinstance(text, Content) else safe(text)
        )

    # -- live: the record changed underneath ----------------------------------------------
    CHANGED = "Changed by someone else meanwhile: ctrl+s merges your changes with theirs."

    def on_records_changed(self, message: RecordsChanged) -> None:
        """Never overwrite what is typed: check the version, and say so if it moved. The save
        then goes through the merge and the conflict dialog as always."""
        table = self.TABLE or self.KIND
        if self.record_id is None or self.original is None or self.saving:
            return
        if message.changes.touches(table, [self.record_id]):
            self.check_version()

    @work(thread=True, exclusive=True, exit_on_error=False, group="form-version")
    def check_version(self) -> None:
        with database.connection_context():
            original, _extra = self.load()
        version = original.get("version")
        if self.original is not None and version != self.original.get("version"):
            self.post_message(ChangedUnderneath(version))

    def on_changed_underneath(self, message: ChangedUnderneath) -> None:
        if not self.saving:
            self._message(self.CHANGED)

    def on_form_saved(self, message: FormSaved) -> None:
        self.saving = False
        self.app.notify(f"Saved the {self.KIND}.", markup=False)
        self.dismiss(FormResult(self.KIND, message.record_id, "saved"))

    def on_form_queued(self, message: FormQueued) -> None:
        self.saving = False
        self.dismiss(FormResult(self.KIND, self.record_id, "queued"))  # type: ignore[arg-type]

    def on_form_failed(self, message: FormFailed) -> None:
        self.saving = False
        self._message(message.text)

    def on_form_rejected(self, message: FormRejected) -> None:
        self.saving = False
        body = self.query_one("#form-body")
        for label in body.query(".field-error"):
            label.remove_class("-shown")
        unplaced = []
        for error in message.errors:
            if not show_error(body, error.field, error.message):
                unplaced.append(str(error))
        count = len(message.errors)
        summary = f"Not saved: {count} field{'s' if count > 1 else ''} to correct."
        self._message(" ".join([summary, *unplaced]))
        self._focus_first_error([e.field for e in message.errors])

    def _focus_first_error(self, fields: list[str]) -> None:
        """Focus the error that comes first on the screen (not first in validation order)."""
        wanted = set()
        for name in fields:
            wanted.add(control_id(name))
            section, _, index = name.partition(".")
            if index:  # a row of a list ("phones.1"): its value input
                wanted.add(f"{section}-value-{index}")
        for widget in self.query_one("#form-body").query("Input, Select, TextArea, Checkbox"):
            if widget.id in wanted and widget.focusable:
                widget.focus()
                return

    def on_form_duplicates(self, message: FormDuplicates) -> None:
        self.saving = False
        self._message("")

        def chosen(choice: tuple[str, Candidate | None] | None) -> None:
            if choice is None:
                return
            action, candidate = choice
            if action == "open" and candidate is not None:
                self.dismiss(FormResult(candidate.kind, candidate.id, "open"))
            elif action == "continue":
                self.action_save(check_duplicates=False)

        self.app.push_screen(DuplicateModal(self.KIND, message.candidates), chosen)

    def on_form_conflicted(self, message: FormConflicted) -> None:
        self.saving = False
        conflict, current = message.conflict, message.current
        self._message(safe_markup("[b]Conflict:[/b] $text", text=str(conflict)))
        mine_raw = self.raw_values()
        initial = self.initial_raw

        def resolved(choices: dict[str, str] | None) -> None:
            if choices is None:
                self._message("Not saved. Your text is still here; ctrl+s tries again.")
                return
            theirs_raw = self.to_raw(current)
            merged = dict(theirs_raw)
            for key, value in mine_raw.items():
                if value != initial.get(key):  # I changed it: mine, unless I chose theirs
                    merged[key] = value
            for name, who in choices.items():
                key = self.raw_key(name)
                merged[key] = mine_raw.get(key) if who == "mine" else theirs_raw.get(key)
            self.original = current
            self.fill_raw(merged)
            self.initial_raw = theirs_raw
            self.action_save(check_duplicates=False)

        self.app.push_screen(ConflictModal(conflict, self.LABELS, self.describe), resolved)

    def raw_key(self, field: str) -> str:
        """The raw form key of a stored field (they are the same unless a form maps them)."""
        return field

    def action_cancel(self) -> None:
        if not self.dirty():
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmModal(Content("You have unsaved changes. Discard them?"), "Discard", "Keep"),
            answered,
        )
