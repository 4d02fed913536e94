"""The activity timeline of a contact, an account (with or without its sub-accounts), an
opportunity, a case or a person: newest first, grouped by day, pages loaded as you scroll."""

from __future__ import annotations

import uuid
from datetime import date

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.worker import get_current_worker

from db import outbox
from db.connection import database
from db.errors import NotFound, StaleRecord
from db.services import activities
from db.services.activities import Activity, Cursor, Page, Scope, local_day
from tui.messages import RecordsChanged
from tui.outbox import queue_write
from tui.screens.base import BaseScreen
from tui.screens.timeline_filter import TimelineFilter, TimelineFilterScreen
from tui.text import clean, safe, safe_markup
from tui.widgets.activity_rows import day_label, header_content, timeline_row
from tui.widgets.record_list import Header, RecordList

MAX_ITEMS = 5_000  # beyond this the person narrows the filter instead of scrolling on


class PageLoaded(Message):
    def __init__(self, generation: int, page: Page) -> None:
        super().__init__()
        self.generation = generation
        self.page = page


class NameLoaded(Message):
    def __init__(self, generation: int, name: str) -> None:
        super().__init__()
        self.generation = generation
        self.name = name


class PageReread(Message):
    def __init__(self, generation: int, page: Page) -> None:
        super().__init__()
        self.generation = generation
        self.page = page


class ActivityChanged(Message):
    def __init__(self, activity: Activity | None, note: str = "") -> None:
        super().__init__()
        self.activity = activity
        self.note = note


class TimelineScreen(BaseScreen):
    """`TimelineScreen(Scope("contact", 7))`; Scope kinds: contact, account, account_tree
    (the account with all its sub-accounts), opportunity, case, person."""

    DEFAULT_CSS = """
    TimelineScreen #timeline-title { height: 1; padding: 0 1; background: $boost; }
    TimelineScreen #timeline-status { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("l", "log_activity", "Log", tooltip="Log a call, email, meeting or note",
                id="log-activity"),
        Binding("enter", "open", "Open", tooltip="Read or edit the activity", id="timeline-open"),
        Binding("x", "toggle_done", "Done", tooltip="Mark the follow-up or task done (again: undo)",
                id="timeline-done"),
        Binding("f", "filter", "Filter", tooltip="Filter by kind, author and date",
                id="timeline-filter"),
        Binding("s", "toggle_sub_accounts", "Sub-accounts",
                tooltip="Include or leave out the sub-accounts", id="timeline-sub-accounts"),
        Binding("escape", "back", "Back", tooltip="Back to the previous screen",
                id="timeline-back"),
    ]  # fmt: skip

    def __init__(self, scope: Scope, name_hint: str = "", first_page: Page | None = None) -> None:
        super().__init__()
        self.scope = scope
        self.name_hint = name_hint
        self.first_page = first_page  # fetched before the push (open_timeline): no 2nd frame
        self.filter = TimelineFilter()
        self.generation = 0
        self.next_cursor: Cursor | None = None
        # Not `loading`: that is Textual's own reactive, which covers the screen with a spinner
        # and holds its layout until it is set back.
        self.fetching = False
        self.last_day: date | None = None
        self.count = 0
        self.stale = False  # a change came while a page was loading: re-read after it

    def compose_body(self) -> ComposeResult:
        from textual.widgets import Static

        yield Static("", id="timeline-title")
        yield RecordList(self._render_item, empty="Loading…", id="timeline")
        yield Static("", id="timeline-status")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(RecordList).focus()
        if self.first_page is None:
            self.reload()
            return
        page, self.first_page = self.first_page, None
        self.generation += 1
        self._update_title()
        self.on_page_loaded(PageLoaded(self.generation, page))
        if not self.name_hint:
            self.load_name(self.generation, self.scope)

    # -- loading ------------------------------------------------------------------------------

    def _render_item(self, item: Activity, width: int):  # noqa: ANN202 (Content)
        return timeline_row(item, width)

    def reload(self) -> None:
        """Start again from the newest (after a filter change, a toggle, a new activity)."""
        self.generation += 1
        self.next_cursor = None
        self.last_day = None
        self.count = 0
        self.query_one(RecordList).clear(empty="Loading…")
        self._update_title()
        self._status("loading…")
        self.fetching = True
        self.load_page(self.generation, self.scope, None, self.filter,
                       want_name=not self.name_hint)  # fmt: skip

    @work(thread=True, exclusive=True, exit_on_error=False, group="timeline")
    def load_page(
        self, generation: int, scope: Scope, before: Cursor | None, filt: TimelineFilter,
        want_name: bool = False,
    ) -> None:  # fmt: skip
        with database.connection_context():
            # The page first, so it is on screen as soon as it can be; then, when the caller
            # did not know it, the name for the title.
            page = activities.timeline(
                scope, before=before, kinds=filt.kinds or None, author_id=filt.author_id,
                since=filt.since, until=filt.until,
            )  # fmt: skip
            if get_current_worker().is_cancelled:
                return
            self.post_message(PageLoaded(generation, page))
            if want_name:
                name = activities.scope_name(scope)
                if not get_current_worker().is_cancelled:
                    self.post_message(NameLoaded(generation, name))

    @work(thread=True, exclusive=True, exit_on_error=False, group="timeline-name")
    def load_name(self, generation: int, scope: Scope) -> None:
        with database.connection_context():
            name = activities.scope_name(scope)
        if not get_current_worker().is_cancelled:
            self.post_message(NameLoaded(generation, name))

    def on_name_loaded(self, message: NameLoaded) -> None:
        if message.generation == self.generation:
            self.name_hint = message.name
            self._update_title()

    def on_page_loaded(self, message: PageLoaded) -> None:
        if message.generation != self.generation:
            return  # an answer to a question nobody asks any more
        self.fetching = False
        rows: list[object] = []
        for item in message.page.items:
            day = local_day(item.occurred_at)
            if day != self.last_day:
                rows.append(Header(header_content(day_label(day))))
                self.last_day = day
            rows.append(item)
        self.count += len(message.page.items)
        self.next_cursor = message.page.next_cursor
        timeline = self.query_one(RecordList)
        if not rows and self.count == 0:
            timeline.clear(
                empty="No activities"
                + (" match the filter." if self.filter != TimelineFilter() else " yet: l logs one.")
            )
        timeline.extend(rows)
        self._status_after_page()
        if self.stale:
            self.reread()

    def _status_after_page(self) -> None:
        if self.next_cursor is None:
            self._status(f"{self.count:,} shown · end of timeline")
        elif self.count >= MAX_ITEMS:
            self._status(f"{self.count:,} shown · f filter by date to see older ones")
        else:
            self._status(f"{self.count:,} shown · more load as you scroll")

    # -- live: re-read what is shown, in place ------------------------------------------------

    def on_records_changed(self, message: RecordsChanged) -> None:
        # Any activity may belong here (a new one has no id we know), and a name may change
        # with its account or contact: re-read the rows shown, at most once in flight.
        if message.changes.touches(("activity", "contact", "account", "app_user")):
            if self.fetching and not message.changes.everything:
                self.stale = True
            else:
                self.reread()

    def reread(self) -> None:
        """Read the newest rows again, as many as are shown (up to 500), and swap them in:
        the highlighted activity and the scroll position stay."""
        self.stale = False
        self.generation += 1
        self.fetching = True
        limit = min(max(self.count, activities.PAGE), 500)
        self.reread_page(self.generation, self.scope, self.filter, limit)

    @work(thread=True, exclusive=True, exit_on_error=False, group="timeline")
    def reread_page(self, generation: int, scope: Scope, filt: TimelineFilter, limit: int) -> None:
        with database.connection_context():
            page = activities.timeline(
                scope, limit=limit, kinds=filt.kinds or None, author_id=filt.author_id,
                since=filt.since, until=filt.until,
            )  # fmt: skip
        if not get_current_worker().is_cancelled:
            self.post_message(PageReread(generation, page))

    def on_page_reread(self, message: PageReread) -> None:
        if message.generation != self.generation:
            return
        self.fetching = False
        rows: list[object] = []
        self.last_day = None
        for item in message.page.items:
            day = local_day(item.occurred_at)
            if day != self.last_day:
                rows.append(Header(header_content(day_label(day))))
                self.last_day = day
            rows.append(item)
        self.count = len(message.page.items)
        self.next_cursor = message.page.next_cursor
        timeline = self.query_one(RecordList)
        timeline.empty = "No activities" + (
            " match the filter." if self.filter != TimelineFilter() else " yet: l logs one.")
        timeline.swap(rows, key=lambda a: a.id)
        self._status_after_page()
        self.refresh_bindings()
        if self.stale:
            self.reread()

    def on_record_list_near_end(self, message: RecordList.NearEnd) -> None:
        if self.fetching or self.next_cursor is None or self.count >= MAX_ITEMS:
            return
        self.fetching = True
        self._status(f"{self.count:,} shown · loading more…")
        self.load_page(self.generation, self.scope, self.next_cursor, self.filter)

    def _update_title(self) -> None:
        kind = {"account_tree": "  (+ sub-accounts)", "person": "  (my activity)"}.get(
            self.scope.kind, ""
        )
        self.query_one("#timeline-title").update(
            safe_markup(
                "[b]Timeline[/b] · $name$kind   $filter",
                name=self.name_hint,
                kind=kind,
                filter=self.filter.describe(),
            ),
            layout=False,  # one fixed line: no layout pass
        )  # fmt: skip

    def _status(self, text: str) -> None:
        self.query_one("#timeline-status").update(safe(text), layout=False)

    # -- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_sub_accounts":
            return self.scope.kind in ("account", "account_tree") or None
        if action == "back":
            return len(self.app.screen_stack) > 1 or None
        if action == "toggle_done":
            item = self.query_one(RecordList).item if self.is_mounted else None
            return (item is not None and item.due_at is not None) or None
        if action == "open":
            return (self.is_mounted and self.query_one(RecordList).item is not None) or None
        return True

    def on_record_list_highlighted(self, message: RecordList.Highlighted) -> None:
        self.refresh_bindings()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_toggle_sub_accounts(self) -> None:
        kind = "account" if self.scope.kind == "account_tree" else "account_tree"
        self.scope = Scope(kind, self.scope.id)
        self.reload()

    def action_filter(self) -> None:
        def chosen(result: TimelineFilter | None) -> None:
            if result is not None and result != self.filter:
                self.filter = result
                self.reload()

        self.app.push_screen(TimelineFilterScreen(self.filter), chosen)

    def action_log_activity(self) -> None:
        from tui.screens.log_activity import LogActivityScreen

        links = {"contact": "contact_id", "account": "account_id", "account_tree": "account_id",
                 "opportunity": "opportunity_id", "case": "case_id"}  # fmt: skip
        kwargs = {links[self.scope.kind]: self.scope.id} if self.scope.kind in links else {}

        def saved(activity: Activity | None) -> None:
            if activity is not None:
                self.call_later(self.reload)

        self.app.push_screen(LogActivityScreen(**kwargs, about=self.name_hint), saved)

    def action_open(self) -> None:
        from tui.screens.activity_detail import ActivityDetailScreen

        item = self.query_one(RecordList).item
        if item is None:
            return

        def closed(changed: Activity | None) -> None:
            if changed is not None:
                self.on_activity_changed(ActivityChanged(changed))

        self.app.push_screen(ActivityDetailScreen(item.id), closed)

    def action_toggle_done(self) -> None:
        item = self.query_one(RecordList).item
        if item is not None and item.due_at is not None:
            self.set_done(item.id, item.version, item.completed_at is None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="timeline-write")
    def set_done(self, activity_id: int, version: int, done: bool) -> None:
        key = str(uuid.uuid4())  # applied once, even when replayed from the outbox
        try:
            self._set_done(activity_id, version, done, key)
        except Exception as exc:
            payload = {"activity_id": activity_id, "version": version, "done": done}
            if not outbox.unavailable(exc) or queue_write(
                self.app, "complete_followup", payload, key
            ) is None:
                raise

    def _set_done(self, activity_id: int, version: int, done: bool, key: str) -> None:
        with database.connection_context():
            try:
                changed = activities.complete(activity_id, version, done=done, client_uuid=key)
                note = "done" if done else "open again"
            except (StaleRecord, NotFound) as exc:
                changed = None if isinstance(exc, NotFound) else activities.get(activity_id)
                note = str(exc)
        self.post_message(ActivityChanged(changed, note))

    def on_activity_changed(self, message: ActivityChanged) -> None:
        if message.activity is not None:
            new = message.activity
            self.query_one(RecordList).replace(lambda a: a.id == new.id, new)
            self.refresh_bindings()
        if message.note:
            self.notify(clean(message.note, single_line=True), markup=False, timeout=4)


PREFETCH_WAIT = 0.25  # seconds: a slower first page is shown loading on the opened screen


def open_timeline(origin: Widget, scope: Scope, name_hint: str = "") -> None:
    """Open a timeline from `origin` (a screen): fetch its first page, then push the screen with
    it, so it appears once, filled (B5 "painted"), rather than empty and then again.

    If the page takes longer than PREFETCH_WAIT (or fails), the screen opens at once and loads
    (or reports) the page itself; a page that arrives after that is dropped."""
    state = {"open": False}

    def push(page: Page | None) -> None:
        if state["open"] or not origin.is_attached:
            return
        state["open"] = True
        origin.app.push_screen(TimelineScreen(scope, name_hint, first_page=page))

    def fetch() -> None:
        try:
            with database.connection_context():
                page = activities.timeline(scope)
        except Exception:  # noqa: BLE001 (the screen's own load reports it)
            page = None
        origin.app.call_from_thread(push, page)

    origin.set_timer(PREFETCH_WAIT, lambda: push(None))
    origin.run_worker(fetch, thread=True, group="open-timeline", exit_on_error=False)
