"""Log a call, email, meeting, note or task from anywhere; also edits an existing activity.

Quick call log: `l` (opens this form, from the screen that links it), `c` (kind call; the
cursor jumps to the notes), type the notes, `ctrl+s` saves. The form keeps one client UUID
from the moment it opens, so pressing save again after a lost connection can never store
the call twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, TextArea

from db import outbox
from db.connection import database
from db.errors import NotFound, StaleRecord, SwitchboardError, ValidationError, ValidationErrors
from db.services import activities, failures
from db.services.activities import Activity
from tui.outbox import queue_write
from tui.screens.activity_prompts import ConfirmDiscard
from tui.screens.worker_errors import ForwardWorkerErrors
from tui.text import safe

KIND_KEYS = {
    "c": "call", "e": "email", "m": "meeting", "n": "note", "t": "task", "s": "sms",
    "w": "webinar", "l": "letter",
}  # fmt: skip
# Service field -> the error line shown beside it ("form" collects the rest).
ERROR_SLOTS = ("kind", "subject", "body", "outcome", "duration", "occurred_at", "due_at",
               "assignee", "form")  # fmt: skip
_SLOT_OF = {"direction": "outcome", "until": "form"}


class KindPicker(Widget, can_focus=True):
    """One key picks the kind: c call, e email, m meeting, n note, t task, s sms..."""

    DEFAULT_CSS = """
    KindPicker { height: 1; width: 1fr; }
    KindPicker:focus { background: $boost; }
    """
    BINDINGS = [
        Binding(key, f"pick('{kind}')", kind.capitalize(), show=False,
                tooltip=f"Kind: {kind}", id=f"kind-{kind}")
        for key, kind in KIND_KEYS.items()
    ] + [
        Binding("left", "cycle(-1)", "Previous kind", show=False, id="kind-prev"),
        Binding("right", "cycle(1)", "Next kind", show=False, id="kind-next"),
        Binding("enter", "accept", "Accept kind", show=False, id="kind-accept"),
    ]  # fmt: skip

    kind: reactive[str] = reactive("call")

    class Chosen(Message):
        def __init__(self, kind: str) -> None:
            super().__init__()
            self.kind = kind

    def render(self) -> Content:
        parts: list[str | tuple[str, str]] = []
        for key, kind in KIND_KEYS.items():
            label = f"{key}:{kind}" if kind[0] != key else f"{key}{kind[1:]}"
            parts += [(label, "reverse bold") if kind == self.kind else (label, "dim"), " "]
        return Content.assemble(*parts)

    def action_pick(self, kind: str) -> None:
        self.kind = kind
        self.post_message(self.Chosen(kind))

    def action_cycle(self, step: int) -> None:
        kinds = list(KIND_KEYS.values())
        self.kind = kinds[(kinds.index(self.kind) + step) % len(kinds)]

    def action_accept(self) -> None:
        self.post_message(self.Chosen(self.kind))


class FormSaved(Message):
    def __init__(self, activity: Activity) -> None:
        super().__init__()
        self.activity = activity


class FormFailed(Message):
    def __init__(self, error: SwitchboardError) -> None:
        super().__init__()
        self.error = error


class FormQueued(Message):
    """The save went to the outbox (the database is away); the App says so."""


class UsersLoaded(Message):
    def __init__(self, users: list[activities.User]) -> None:
        super().__init__()
        self.users = users


class LogActivityScreen(ForwardWorkerErrors, ModalScreen[Activity | None]):
    """A modal form; dismisses with the stored Activity, or None when cancelled."""

    AUTO_FOCUS = "#kind"  # the kind picker first, whatever the load
    DEFAULT_CSS = """
    LogActivityScreen { align: center middle; }
    LogActivityScreen > Vertical {
        width: 78; height: auto; max-height: 24; border: round $primary;
        background: $surface; padding: 0 1;
    }
    LogActivityScreen .row { height: auto; }
    LogActivityScreen .row > Label { width: 10; color: $text-muted; }
    LogActivityScreen #body { height: 5; }
    LogActivityScreen .half { width: 1fr; }
    LogActivityScreen .half2 { width: 1fr; margin-left: 1; }
    LogActivityScreen .error { color: $text-error; display: none; padding-left: 10; }
    LogActivityScreen .error.shown { display: block; }
    LogActivityScreen #form-title { text-style: bold; }
    LogActivityScreen #form-hint { color: $text-muted; }
    """
    BINDINGS = [
        # Not a priority key: it comes in turn after the keys typed before it.
        Binding("ctrl+s", "save", "Save", tooltip="Save the activity", id="activity-save"),
        Binding("escape", "cancel", "Cancel", tooltip="Close (asks when there are changes)",
                id="activity-cancel"),
    ]  # fmt: skip

    def __init__(
        self,
        account_id: int | None = None,
        contact_id: int | None = None,
        opportunity_id: int | None = None,
        case_id: int | None = None,
        kind: str = "call",
        *,
        about: str = "",
        activity: Activity | None = None,
    ) -> None:
        super().__init__()
        self.links = {"account_id": account_id, "contact_id": contact_id,
                      "opportunity_id": opportunity_id, "case_id": case_id}  # fmt: skip
        self.about = about
        self.activity = activity  # edit mode when given (with its body: activities.get)
        self.initial_kind = activity.kind if activity else kind
        self.client_uuid = str(uuid.uuid4())
        self._initial: dict[str, Any] = {}
        self._finished = False

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        a = self.activity
        verb = "Edit activity" if a else "Log activity"
        outcome_options = [(Content(o.replace("_", " ")), o) for o in activities.OUTCOMES]
        with Vertical():
            yield Static(
                Content.assemble(verb, (" · " if self.about else ""), safe(self.about, 60)),
                id="form-title",
            )
            with Horizontal(classes="row"):
                yield Label("Kind")
                yield KindPicker(id="kind")
            yield self._error("kind")
            with Horizontal(classes="row"):
                yield Label("Subject")
                yield Input(
                    a.subject if a else "",
                    id="subject",
                    compact=True,
                    max_length=activities.SUBJECT_MAX,
                    placeholder="optional",
                )
            yield self._error("subject")
            with Horizontal(classes="row"):
                yield Label("Notes")
                yield TextArea(
                    a.body or "" if a else "",
                    id="body",
                    compact=True,
                    placeholder="what happened (enter is a new line)",
                )
            yield self._error("body")
            with Horizontal(classes="row"):
                yield Label("Outcome")
                yield Select(
                    outcome_options,
                    id="outcome",
                    compact=True,
                    prompt="none",
                    value=(a.outcome if a and a.outcome else Select.NULL),
                    classes="half",
                )
                yield Select(
                    [(Content("out"), "out"), (Content("in"), "in")],
                    id="direction",
                    compact=True,
                    prompt="direction",
                    value=(a.direction if a and a.direction else Select.NULL),
                    classes="half2",
                )
            yield self._error("outcome")
            with Horizontal(classes="row"):
                yield Label("Duration")
                yield Input(
                    self._duration(a),
                    id="duration",
                    compact=True,
                    placeholder="6 = 6 min, 1h30",
                    classes="half",
                )
                yield Input(
                    self._when(a.occurred_at if a else None),
                    id="when",
                    compact=True,
                    placeholder="when: now, 14:30, yesterday 9:00",
                    classes="half2",
                )
            yield self._error("duration")
            yield self._error("occurred_at")
            with Horizontal(classes="row"):
                yield Label("Follow-up")
                yield Input(
                    self._when(a.due_at if a else None),
                    id="due",
                    compact=True,
                    placeholder="due: tomorrow, fri, +3",
                    classes="half",
                )
                yield Select(
                    [], id="assignee", compact=True, prompt="assignee: me", classes="half2"
                )
            yield self._error("due_at")
            yield self._error("assignee")
            yield self._error("form")
            yield Static("^s save · tab next field · esc cancel", id="form-hint")
        # fmt: skip

    @staticmethod
    def _error(slot: str) -> Static:
        return Static("", id=f"error-{slot}", classes="error")

    @staticmethod
    def _duration(a: Activity | None) -> str:
        if a is None or a.duration_seconds is None:
            return ""
        s = a.duration_seconds
        return f"{s // 60}" if s % 60 == 0 else f"{s}s"

    @staticmethod
    def _when(value: Any) -> str:
        if value is None:
            return ""
        local = value.astimezone() if value.tzinfo else value
        return local.strftime("%Y-%m-%d %H:%M")

    def on_mount(self) -> None:
        picker = self.query_one(KindPicker)
        picker.kind = self.initial_kind
        # Focus at once (not deferred): "l c" typed in one burst must reach the picker.
        self.set_focus(picker)
        self._initial = self._values()
        self.load_users()

    # -- values -------------------------------------------------------------------------------

    def _values(self) -> dict[str, Any]:
        def sel(wid: str) -> Any:
            value = self.query_one(f"#{wid}", Select).value
            return None if value == Select.NULL else value

        return {
            "kind": self.query_one(KindPicker).kind,
            "subject": self.query_one("#subject", Input).value,
            "body": self.query_one("#body", TextArea).text,
            "outcome": sel("outcome"),
            "direction": sel("direction"),
            "duration": self.query_one("#duration", Input).value,
            "when": self.query_one("#when", Input).value,
            "due": self.query_one("#due", Input).value,
            "assignee_id": sel("assignee"),
        }

    @property
    def dirty(self) -> bool:
        return self._values() != self._initial

    # -- users for the assignee ---------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="activity-users")
    def load_users(self) -> None:
        with database.connection_context():
            users = activities.assignable_users()
        self.post_message(UsersLoaded(users))

    def on_users_loaded(self, message: UsersLoaded) -> None:
        select = self.query_one("#assignee", Select)
        current = self.activity.assignee_id if self.activity else None
        select.set_options(
            [(safe(u.display_name, 40, single_line=True), u.id) for u in message.users]
        )
        if current is not None and any(u.id == current for u in message.users):
            select.value = current
        self._initial["assignee_id"] = self._values()["assignee_id"]

    # -- keys ---------------------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        """A printable key no field took (the kind picker knows only its kind letters) is the
        start of the notes: "l x-ray booked" puts it all in the notes, not "x" into nothing.
        (Keys reach here in order, each after the last was handled: tui/keys.py.)"""
        if not event.is_printable or not event.character:
            return
        picker = self.query_one(KindPicker)
        body = self.query_one("#body", TextArea)
        if self.focused not in (None, picker) or event.character in KIND_KEYS:
            return  # a kind letter goes on to the picker's binding
        event.stop()
        body.insert(event.character)
        self.set_focus(body)

    @on(KindPicker.Chosen)
    def _kind_chosen(self) -> None:
        self.set_focus(self.query_one("#body", TextArea))  # the notes typed next land there

    def action_save(self) -> None:
        self._show_errors([])
        self.query_one("#form-hint", Static).update("saving…")
        self.save(self._values())

    def action_cancel(self) -> None:
        if not self.dirty:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmDiscard(), answered)

    # -- saving -------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="activity-save")
    def save(self, form: dict[str, Any]) -> None:
        errors: list[ValidationError] = []

        def parse(fn: Any, *args: Any) -> Any:
            try:
                return fn(*args)
            except ValidationError as exc:
                errors.append(exc)
                return None

        duration = parse(activities.parse_duration, form["duration"])
        when = parse(activities.parse_datetime, form["when"], "occurred_at")
        due = parse(activities.parse_datetime, form["due"], "due_at")
        values = {
            "kind": form["kind"], "subject": form["subject"], "body": form["body"] or None,
            "outcome": form["outcome"], "direction": form["direction"],
            "duration_seconds": duration, "occurred_at": when, "due_at": due,
            "assignee_id": form["assignee_id"],
        }  # fmt: skip
        try:
            if errors:
                raise ValidationErrors(errors) if len(errors) > 1 else errors[0]
            with database.connection_context():
                if self.activity is None:
                    saved = activities.log(**values, **self.links, client_uuid=self.client_uuid)
                else:
                    saved = activities.update(
                        self.activity.id, self.activity.version, **self._changes(form, values)
                    )
        except (ValidationError, ValidationErrors, StaleRecord, NotFound) as exc:
            self.post_message(FormFailed(exc))
            return
        except Exception as exc:  # a lost connection, a timeout: never stuck
            if self.activity is None and outbox.unavailable(exc) and self._queue(values):
                return
            self.post_message(FormFailed(SwitchboardError(failures.not_saved(exc))))
            return
        self.post_message(FormSaved(saved))

    def _queue(self, values: dict[str, Any]) -> bool:
        """(thread) The database is away: keep the new activity in the outbox, with this
        form's client UUID (if the lost save did commit, the replay finds it and stores
        nothing). A blank 'when' is now, not the moment it is finally sent."""
        payload = {**values, **self.links, "about": self.about}
        if payload.get("occurred_at") is None:
            payload["occurred_at"] = datetime.now().astimezone()
        if queue_write(self.app, "log_activity", payload, self.client_uuid) is None:
            return False
        self.post_message(FormQueued())
        return True

    def on_form_queued(self, message: FormQueued) -> None:
        if not self._finished:
            self._finished = True
            self.dismiss(None)

    def _changes(self, form: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """Only what the person changed (DESIGN.md section 6: write the changed fields)."""
        mapping = {"duration": "duration_seconds", "when": "occurred_at", "due": "due_at"}
        changes = {}
        for key, value in form.items():
            if value != self._initial.get(key):
                field = mapping.get(key, key)
                changes[field] = values[field]
        return changes

    def on_form_saved(self, message: FormSaved) -> None:
        if not self._finished:
            self._finished = True
            self.dismiss(message.activity)

    def on_form_failed(self, message: FormFailed) -> None:
        error = message.error
        if isinstance(error, ValidationErrors):
            self._show_errors(error.errors)
        elif isinstance(error, ValidationError):
            self._show_errors([error])
        else:
            self._show_errors([])
            slot = self.query_one("#error-form", Static)
            slot.update(safe(str(error), single_line=True))
            slot.set_class(True, "shown")
        self.query_one("#form-hint", Static).update("^s save · tab next field · esc cancel")

    def _show_errors(self, errors: list[ValidationError]) -> None:
        by_slot: dict[str, list[str]] = {}
        for e in errors:
            slot = _SLOT_OF.get(e.field, e.field)
            slot = slot if slot in ERROR_SLOTS else "form"
            name = e.field.replace("_at", "").replace("_", " ")
            by_slot.setdefault(slot, []).append(f"{name}: {e.message}")
        for slot in ERROR_SLOTS:
            widget = self.query_one(f"#error-{slot}", Static)
            text = "; ".join(by_slot.get(slot, []))
            widget.update(safe(text, single_line=True))
            widget.set_class(bool(text), "shown")
        focus_of = {"kind": "kind", "subject": "subject", "body": "body", "outcome": "outcome",
                    "duration": "duration", "occurred_at": "when", "due_at": "due",
                    "assignee": "assignee"}  # fmt: skip
        for slot in ERROR_SLOTS:
            if slot in by_slot and slot in focus_of:
                self.query_one(f"#{focus_of[slot]}").focus()
                break
