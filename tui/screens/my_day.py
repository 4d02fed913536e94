"""My day: my open follow-ups and tasks due today or overdue; done, reschedule, reassign."""

from __future__ import annotations

import uuid
from datetime import date

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from db import outbox
from db.connection import database
from db.errors import NotFound, StaleRecord, ValidationError
from db.services import activities
from db.services.activities import Activity, MyDay, Scope
from tui.messages import RecordsChanged
from tui.outbox import queue_write
from tui.screens.base import BaseScreen
from tui.text import clean, safe
from tui.widgets.activity_rows import header_content, my_day_row
from tui.widgets.record_list import Header, RecordList


class MyDayLoaded(Message):
    def __init__(self, user_id: int | None, day: MyDay | None, note: str = "") -> None:
        super().__init__()
        self.user_id = user_id
        self.day = day
        self.note = note


class FollowupQueued(Message):
    """Done or rescheduled while the database is away: the write waits in the outbox."""

    def __init__(self, activity_id: int) -> None:
        super().__init__()
        self.activity_id = activity_id


class MyDayScreen(BaseScreen):
    DEFAULT_CSS = """
    MyDayScreen #my-day-title { height: 1; padding: 0 1; background: $boost; }
    MyDayScreen #my-day-status { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("x", "complete", "Done", tooltip="Mark the follow-up done", id="my-day-done"),
        Binding("r", "reschedule", "Reschedule", tooltip="Give it a new due date",
                id="my-day-reschedule"),
        Binding("a", "reassign", "Reassign", tooltip="Give it to someone else",
                id="my-day-reassign"),
        Binding("enter", "open", "Open", tooltip="Read or edit the activity", id="my-day-open"),
        Binding("l", "log_activity", "Log", tooltip="Log a call, email, meeting, note or task",
                id="log-activity"),
        Binding("t", "my_timeline", "My activity", tooltip="Everything I did or was given",
                id="my-day-timeline"),
        Binding("ctrl+r", "refresh", "Refresh", tooltip="Read the list again", id="my-day-refresh"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.user_id: int | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(f"[b]My day[/b] · {date.today():%A %d %b}", id="my-day-title")
        yield RecordList(my_day_row, empty="Loading…", id="my-day")
        yield Static("", id="my-day-status")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(RecordList).focus()
        self.action_refresh()

    def on_screen_resume(self) -> None:
        if self.user_id is not None:
            self.action_refresh()

    # -- loading ------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="my-day")
    def load(self, note: str = "") -> None:
        with database.connection_context():
            user_id = activities.current_user_id()
            day = activities.my_day(user_id) if user_id is not None else None
        self.post_message(MyDayLoaded(user_id, day, note))

    def on_my_day_loaded(self, message: MyDayLoaded) -> None:
        self.user_id = message.user_id
        listing = self.query_one(RecordList)
        keep = listing.item.id if listing.item is not None else None
        if message.day is None:
            listing.clear(empty="Your login has no user record: ask an administrator.")
            return
        today = date.today()
        overdue = [a for a in message.day.items if a.is_overdue(today)]
        due = [a for a in message.day.items if not a.is_overdue(today)]
        rows: list[object] = []
        if overdue:
            rows += [Header(header_content(f"Overdue ({len(overdue)})")), *overdue]
        if due:
            rows += [Header(header_content(f"Due today ({len(due)})")), *due]
        listing.empty = "Nothing due today. l logs an activity, t shows your activity."
        if listing.rows or keep is not None:
            listing.swap(rows, key=lambda a: a.id)  # a re-read: cursor and scroll stay
        else:
            listing.clear()
            listing.extend(rows)
        more = f"{activities.MY_DAY_CAP}+" if message.day.more else str(len(message.day.items))
        self.query_one("#my-day-status", Static).update(
            safe(f"{more} open · {len(overdue)} overdue")
        )
        if message.note:
            self.notify(clean(message.note, single_line=True), markup=False, timeout=4)
        self.refresh_bindings()

    def on_records_changed(self, message: RecordsChanged) -> None:
        # Follow-ups come and go with any activity (assigned to me, done, moved): re-read.
        if message.changes.touches(("activity", "app_user")):
            self.load()

    # -- actions ------------------------------------------------------------------------------

    @property
    def item(self) -> Activity | None:
        return self.query_one(RecordList).item if self.is_mounted else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("complete", "reschedule", "reassign", "open"):
            return self.item is not None or None
        return True

    def on_record_list_highlighted(self, message: RecordList.Highlighted) -> None:
        self.refresh_bindings()

    def action_complete(self) -> None:
        if self.item is not None:
            self.change("complete", self.item)

    def action_reschedule(self) -> None:
        from tui.screens.activity_prompts import DuePrompt

        item = self.item
        if item is None:
            return

        def chosen(day: date | None) -> None:
            if day is not None:
                self.change("reschedule", item, day)

        self.app.push_screen(DuePrompt(), chosen)

    def action_reassign(self) -> None:
        from tui.screens.activity_prompts import UserPicker

        item = self.item
        if item is None:
            return

        def chosen(user_id: int | None) -> None:
            if user_id is not None:
                self.change("reassign", item, user_id)

        self.app.push_screen(UserPicker(), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="my-day-write")
    def change(self, verb: str, item: Activity, value: object = None) -> None:
        key = str(uuid.uuid4())  # the write's client UUID: applied once, even if replayed
        try:
            self._change(verb, item, value, key)
        except Exception as exc:
            if verb == "reassign" or not outbox.unavailable(exc):
                raise
            kind = "complete_followup" if verb == "complete" else "reschedule_followup"
            payload = {"activity_id": item.id, "version": item.version, "about": item.title}
            if verb == "reschedule":
                payload["due"] = value
            if queue_write(self.app, kind, payload, key) is None:
                raise
            self.post_message(FollowupQueued(item.id))

    def _change(self, verb: str, item: Activity, value: object, key: str) -> None:
        with database.connection_context():
            try:
                if verb == "complete":
                    activities.complete(item.id, item.version, client_uuid=key)
                    note = "done"
                elif verb == "reschedule":
                    activities.reschedule(item.id, item.version, value, client_uuid=key)  # type: ignore[arg-type]
                    note = f"moved to {value}"
                else:
                    changed = activities.reassign(item.id, item.version, value)  # type: ignore[arg-type]
                    note = f"given to {changed.assignee_name}"
            except (StaleRecord, NotFound, ValidationError) as exc:
                note = str(exc)
            user_id = activities.current_user_id()
            day = activities.my_day(user_id) if user_id is not None else None
        self.post_message(MyDayLoaded(user_id, day, note))

    def on_followup_queued(self, message: FollowupQueued) -> None:
        """Off the list as if it was stored (the App has said it waits in the outbox)."""
        listing = self.query_one(RecordList)
        rows = [r for r in listing.rows
                if not (isinstance(r, Activity) and r.id == message.activity_id)]  # fmt: skip
        cursor = listing.cursor
        listing.clear(empty="Nothing due today. l logs an activity, t shows your activity.")
        listing.extend(rows)
        listing.cursor = min(cursor, max(len(rows) - 1, 0))
        self.query_one("#my-day-status", Static).update(
            safe("⇡ saved on this machine: it will be sent when the database is back")
        )
        self.refresh_bindings()

    def action_open(self) -> None:
        from tui.screens.activity_detail import ActivityDetailScreen

        if self.item is not None:
            self.app.push_screen(ActivityDetailScreen(self.item.id))

    def action_log_activity(self) -> None:
        from tui.screens.log_activity import LogActivityScreen

        self.app.push_screen(LogActivityScreen(kind="task"))

    def action_my_timeline(self) -> None:
        from tui.screens.timeline import open_timeline

        if self.user_id is not None:
            open_timeline(self, Scope("person", self.user_id))
