"""Cases (key 6): my open cases or the team queue (unassigned first), by SLA due time, with the time
left in words; status keys, priority, take a case, open its timeline."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from db.connection import database
from db.errors import SwitchboardError
from db.services import activities, callbacks, cases
from db.services.activities import Scope
from db.services.cases import Case
from tui.screens.base import BaseScreen
from tui.text import clean, safe

STATUS_KEYS = {"o": "open", "w": "waiting", "v": "resolved", "x": "closed"}


class CasesLoaded(Message):
    def __init__(self, items: list[Case], note: str = "", generation: int = 0) -> None:
        super().__init__()
        self.items = items
        self.note = note
        self.generation = generation


def case_line(case: Case, width: int = 78) -> str:
    """One case in 76 cells: '#12 subject · who · status priority · SLA time left'."""
    who = case.contact_name or case.account_name or ""
    left = f"#{case.id} {clean(case.subject, 26, True)}"
    mid = f"{case.status} {case.priority}"
    sla = cases.time_left(case.due_at) if case.is_open else (case.status)
    text = f"{left:<32} {clean(who, 14, True):<14} {mid:<15} {sla:>12}"
    return clean(text, width, True)


class CasesScreen(BaseScreen):
    DEFAULT_CSS = """
    CasesScreen #cases-title { height: 1; padding: 0 1; background: $boost; }
    CasesScreen #cases { height: 1fr; border: none; }
    CasesScreen #cases-status { height: 1; padding: 0 1; }
    """
    BINDINGS = [
        Binding("q", "toggle", "my/team", tooltip="My cases / the team queue", id="cases-toggle"),
        Binding("o", "status('o')", "open", tooltip="Status: open", id="cases-open"),
        Binding("w", "status('w')", "waiting", tooltip="Status: waiting on customer",
                id="cases-waiting"),
        Binding("v", "status('v')", "resolved", tooltip="Status: resolved", id="cases-resolved"),
        Binding("x", "status('x')", "closed", tooltip="Status: closed", id="cases-closed"),
        Binding("p", "priority", "priority", tooltip="Next priority (SLA follows)",
                id="cases-priority"),
        Binding("a", "take", "take", tooltip="Assign the case to me", id="cases-take"),
        Binding("e", "edit", "edit", tooltip="Subject, due time, assignee", id="cases-edit"),
        Binding("t", "timeline", "timeline", tooltip="The case's timeline", id="cases-timeline"),
        Binding("ctrl+r", "refresh", "Refresh", tooltip="Read the list again", id="cases-refresh"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.team = False
        self.items: list[Case] = []
        self.generation = 0  # the newest load or change: older answers are dropped
        self.changing = False

    def compose_body(self) -> ComposeResult:
        yield Static("", id="cases-title")
        yield OptionList(id="cases")
        yield Static("", id="cases-status")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(OptionList).focus()
        self.action_refresh()

    def on_screen_resume(self) -> None:
        if not self.changing:  # back from a dialog whose change is on its way: it reloads
            self.action_refresh()

    def _title(self) -> None:
        which = "Team queue (unassigned first)" if self.team else "My cases"
        self.query_one("#cases-title", Static).update(
            f"Cases · {which} · q switches · SLA: urgent 4h, high 8h, normal 24h, low 72h"
        )

    def action_refresh(self, note: str = "") -> None:
        self.note = note  # kept through re-reads after change notices ("#12: closed")
        self._title()
        self.generation += 1
        self.load(self.team, note, self.generation)

    @work(thread=True, exclusive=True, exit_on_error=False, group="cases-load")
    def load(self, team: bool, note: str = "", generation: int = 0) -> None:
        with database.connection_context():
            if team:
                items = cases.team_queue()
            else:
                me = activities.current_user_id()
                items = cases.my_cases(me) if me is not None else []
        self.post_message(CasesLoaded(items, note, generation))

    def on_cases_loaded(self, message: CasesLoaded) -> None:
        if message.generation != self.generation:
            return
        self.changing = False
        self.note = message.note
        listing = self.query_one(OptionList)
        keep = listing.highlighted
        self.items = message.items
        listing.clear_options()
        width = max(40, self.size.width - 2)
        for case in message.items:
            listing.add_option(Option(safe(case_line(case, width), single_line=True),
                                      id=str(case.id)))  # fmt: skip
        if not message.items:
            empty = "Nobody's case is waiting." if self.team else "No open case is yours."
            listing.add_option(Option(safe(empty), id="none", disabled=True))
        else:
            listing.highlighted = min(keep or 0, len(message.items) - 1)
        self.query_one("#cases-status", Static).update(
            safe(message.note or f"{len(message.items)} open", single_line=True)
        )

    @property
    def item(self) -> Case | None:
        index = self.query_one(OptionList).highlighted
        if index is None or not 0 <= index < len(self.items):
            return None
        return self.items[index]

    def action_toggle(self) -> None:
        self.team = not self.team
        self.action_refresh()

    def action_status(self, key: str) -> None:
        if self.item is not None:
            self.change(self.item, status=STATUS_KEYS[key])

    def action_priority(self) -> None:
        item = self.item
        if item is not None:
            order = cases.PRIORITIES
            self.change(item, priority=order[(order.index(item.priority) + 1) % len(order)])

    def action_take(self) -> None:
        if self.item is not None:
            self.change(self.item, assignee_id="me")

    def change(self, item: Case, **values: object) -> None:
        self.changing = True
        self.generation += 1
        self._change(item, self.generation, values)

    @work(thread=True, exclusive=True, exit_on_error=False, group="cases-write")
    def _change(self, item: Case, generation: int, values: dict) -> None:
        with database.connection_context():
            try:
                if values.get("assignee_id") == "me":
                    values["assignee_id"] = activities.current_user_id()
                if "due_text" in values:
                    due = activities.parse_datetime(str(values.pop("due_text")), "due")
                    if due is not None:
                        values["due_at"] = due
                if "assignee_text" in values:
                    values["assignee_id"] = callbacks.resolve_assignee(
                        str(values.pop("assignee_text")), "assignee")
                changed = cases.change(item.id, item.version, **values)
                note = (f"#{changed.id}: {cases.STATUS_WORDS[changed.status]}, "
                        f"{changed.priority}, SLA {cases.time_left(changed.due_at)}")  # fmt: skip
            except SwitchboardError as exc:
                note = str(exc)
            if self.team:
                items = cases.team_queue()
            else:
                me = activities.current_user_id()
                items = cases.my_cases(me) if me is not None else []
        self.post_message(CasesLoaded(items, note, generation))

    def action_edit(self) -> None:
        from tui.screens.console_prompts import CaseEditPrompt

        item = self.item
        if item is None:
            return

        def edited(edit) -> None:  # noqa: ANN001
            if edit is not None:
                self.change(item, subject=edit.subject, due_text=edit.due_text,
                            assignee_text=edit.assignee)  # fmt: skip

        self.app.push_screen(CaseEditPrompt(item.subject, item.assignee_name or ""), edited)

    def action_timeline(self) -> None:
        from tui.screens.timeline import open_timeline

        if self.item is not None:
            open_timeline(self, Scope("case", self.item.id))

    def on_records_changed(self, message) -> None:  # noqa: ANN001 (live's RecordsChanged)
        changes = message.changes
        if self.changing:
            # A write of ours is on its way and re-reads the list after its commit, which
            # covers whatever this notice is about; a re-read now would supersede its answer.
            return
        if getattr(changes, "everything", False) or changes.touches("support_case"):
            self.action_refresh(getattr(self, "note", ""))


def open_case_prompt(origin, contact_id: int | None = None,  # noqa: ANN001 (a screen)
                     account_id: int | None = None) -> None:  # fmt: skip
    """`k` on a contact or an account: ask subject and priority, open the case (assigned to
    whoever opens it), and say so. The console has its own (it also reloads the card)."""
    from tui.screens.console_prompts import CasePrompt

    def create(choice) -> None:  # noqa: ANN001
        if choice is None:
            return

        def work_() -> None:
            try:
                with database.connection_context():
                    case = cases.create(choice.subject, contact_id=contact_id,
                                        account_id=account_id, priority=choice.priority,
                                        assignee_id=activities.current_user_id())  # fmt: skip
                text = (f"Case #{case.id} opened ({case.priority}, SLA "
                        f"{cases.time_left(case.due_at)}); 6 shows your cases")  # fmt: skip
                severity = "information"
            except SwitchboardError as exc:
                text, severity = f"Case not opened: {exc}", "error"
            origin.app.call_from_thread(origin.app.notify, clean(text, single_line=True),
                                        markup=False, severity=severity)  # fmt: skip

        origin.run_worker(work_, thread=True, exit_on_error=False, group="open-case")

    origin.app.push_screen(CasePrompt(), create)
