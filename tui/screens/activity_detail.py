"""One activity to read in full; `e` edits it, `x` marks a follow-up done, esc closes."""

from __future__ import annotations

import uuid

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from db import outbox
from db.connection import database
from db.errors import NotFound, StaleRecord
from db.services import activities
from db.services.activities import Activity
from tui.outbox import queue_write
from tui.screens.worker_errors import ForwardWorkerErrors
from tui.text import clean, safe, safe_markup
from tui.widgets.activity_rows import duration_text, state_text, when_text


class DetailLoaded(Message):
    def __init__(self, activity: Activity | None, note: str = "") -> None:
        super().__init__()
        self.activity = activity
        self.note = note


class ActivityDetailScreen(ForwardWorkerErrors, ModalScreen[Activity | None]):
    """Dismisses with the changed Activity when it was edited or completed, else None."""

    DEFAULT_CSS = """
    ActivityDetailScreen { align: center middle; }
    ActivityDetailScreen > Vertical {
        width: 78; height: auto; max-height: 22; border: round $primary;
        background: $surface; padding: 0 1;
    }
    ActivityDetailScreen #detail-head { text-style: bold; }
    ActivityDetailScreen #detail-meta { color: $text-muted; }
    ActivityDetailScreen VerticalScroll { height: auto; max-height: 12; }
    ActivityDetailScreen #detail-hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("e", "edit", "Edit", tooltip="Edit this activity", id="detail-edit"),
        Binding("x", "toggle_done", "Done", tooltip="Mark the follow-up done (again: undo)",
                id="detail-done"),
        Binding("escape,q", "close", "Close", tooltip="Back to the list", id="detail-close"),
    ]  # fmt: skip

    def __init__(self, activity_id: int) -> None:
        super().__init__()
        self.activity_id = activity_id
        self.activity: Activity | None = None
        self.changed = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Loading…", id="detail-head")
            yield Static("", id="detail-meta")
            with VerticalScroll():
                yield Static("", id="detail-body")
            yield Static("e edit · x done/undo · esc close", id="detail-hint")

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="activity-detail")
    def load(self) -> None:
        with database.connection_context():
            try:
                activity = activities.get(self.activity_id)
            except NotFound as exc:
                self.post_message(DetailLoaded(None, str(exc)))
                return
        self.post_message(DetailLoaded(activity))

    @work(thread=True, exclusive=True, exit_on_error=False, group="activity-detail")
    def set_done(self, activity: Activity, done: bool) -> None:
        key = str(uuid.uuid4())  # applied once, even when replayed from the outbox
        try:
            self._set_done(activity, done, key)
        except Exception as exc:
            payload = {"activity_id": activity.id, "version": activity.version, "done": done,
                       "about": activity.title}  # fmt: skip
            if not outbox.unavailable(exc) or queue_write(
                self.app, "complete_followup", payload, key
            ) is None:
                raise

    def _set_done(self, activity: Activity, done: bool, key: str) -> None:
        with database.connection_context():
            try:
                changed = activities.complete(activity.id, activity.version, done=done,
                                              client_uuid=key)  # fmt: skip
            except StaleRecord as exc:
                self.post_message(DetailLoaded(activities.get(activity.id), str(exc)))
                return
        self.post_message(DetailLoaded(changed, "done" if done else "open again"))

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        if message.note:
            self.notify(clean(message.note, single_line=True), markup=False, timeout=4)
        if message.activity is None:
            self.query_one("#detail-head", Static).update(safe(message.note))
            return
        if self.activity is not None and message.activity.version != self.activity.version:
            self.changed = True
        self.activity = a = message.activity
        head = " · ".join(p for p in (a.kind, a.direction and {"in": "inbound", "out": "outbound"}
                                      [a.direction], a.outcome, duration_text(a.duration_seconds))
                          if p)  # fmt: skip
        self.query_one("#detail-head", Static).update(
            safe_markup("$head   $subject", head=head, subject=a.subject)
        )
        who = " → ".join(v for v in (a.author_name, a.contact_name) if v)
        meta = [when_text(a.occurred_at), who, a.account_name or ""]
        if a.due_at is not None:
            follow = f"follow-up {state_text(a)} · due {when_text(a.due_at)}"
            meta.append(f"{follow} · {a.assignee_name or 'nobody'}")
        self.query_one("#detail-meta", Static).update(safe("\n".join(m for m in meta if m)))
        self.query_one("#detail-body", Static).update(safe(a.body or "(no notes)", 20_000))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit", "toggle_done") and self.activity is None:
            return None
        if action == "toggle_done" and self.activity and self.activity.due_at is None:
            return None
        return True

    def action_edit(self) -> None:
        from tui.screens.log_activity import LogActivityScreen

        if self.activity is None:
            return

        def saved(activity: Activity | None) -> None:
            if activity is not None:
                self.changed = True
                self.post_message(DetailLoaded(activity, "saved"))

        self.app.push_screen(LogActivityScreen(activity=self.activity), saved)

    def action_toggle_done(self) -> None:
        if self.activity is not None and self.activity.due_at is not None:
            self.set_done(self.activity, self.activity.completed_at is None)

    def action_close(self) -> None:
        self.dismiss(self.activity if self.changed else None)
