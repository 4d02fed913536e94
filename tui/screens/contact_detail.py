"""One contact: who they are (personal facts apart from the company), how to reach them, who
they are related to (one key away), what happened lately, and what is open.

Opened from a list, `[` and `]` walk that list ("2 of 44"); esc goes back. A refresh is a fixed
six queries whatever the contact holds (detail: 2, relationships, activities, deals, cases).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from db.connection import database
from db.services import contacts
from db.services.accounts import ActivityRow, OpportunityRow
from db.services.contacts import CaseRow, ContactDetail, Relationship
from tui.messages import RecordsChanged
from tui.presence import PresenceHolder
from tui.screens.base import BaseScreen
from tui.text import clean, safe, safe_markup
from tui.widgets.record_lines import activity_line, case_line, deal_line, fit, lines

JOB_ROLES = {
    "decision_maker": "Decision maker", "economic_buyer": "Economic buyer",
    "influencer": "Influencer", "champion": "Champion", "user": "User",
    "gatekeeper": "Gatekeeper", "technical": "Technical", "other": "Other",
}  # fmt: skip


@dataclass(frozen=True)
class ContactView:
    detail: ContactDetail
    relationships: list[Relationship]
    activities: list[ActivityRow]
    deals: list[OpportunityRow]
    cases: list[CaseRow]


class ContactLoaded(Message):
    def __init__(self, contact_id: int, view: ContactView) -> None:
        super().__init__()
        self.contact_id = contact_id
        self.view = view


class ContactDetailScreen(PresenceHolder, BaseScreen):
    DEFAULT_CSS = """
    ContactDetailScreen #contact-header { height: 1; padding: 0 1; background: $boost; }
    ContactDetailScreen #contact-crumb { height: 1; padding: 0 1; }
    ContactDetailScreen #contact-crumb-path { width: 1fr; }
    ContactDetailScreen #contact-position { width: auto; }
    ContactDetailScreen #contact-body { height: 1fr; padding: 0 1; }
    ContactDetailScreen #contact-facts { height: auto; }
    ContactDetailScreen #contact-person { width: 1fr; height: auto; }
    ContactDetailScreen #contact-reach { width: 1fr; height: auto; padding-left: 1;
        border-left: solid $primary; }
    ContactDetailScreen #contact-relationships {
        height: auto; max-height: 6; border: none; padding: 0;
    }
    """
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the list", id="contact-back"),
        Binding(
            "left_square_bracket",
            "step(-1)",
            "Prev",
            tooltip="Previous contact of the list",
            id="contact-prev",
        ),
        Binding(
            "right_square_bracket",
            "step(1)",
            "Next",
            tooltip="Next contact of the list",
            id="contact-next",
        ),
        Binding(
            "r",
            "relationships",
            "Related",
            tooltip="Go to the relationships (enter opens)",
            id="contact-related",
        ),
        Binding(
            "h",
            "history",
            "History",
            tooltip="Who changed this contact, and when",
            id="contact-history",
        ),
        Binding("e", "edit", "Edit", tooltip="Edit this contact, phones and emails",
                id="contact-edit", priority=True),
        Binding("a", "add_relationship", "Relate", tooltip="Add a relationship to someone",
                id="contact-relate", show=False),
        Binding("x", "remove_relationship", "Unrelate",
                tooltip="Remove the highlighted relationship", id="contact-unrelate", show=False),
        Binding("d,delete", "delete", "Delete", tooltip="Move this contact to the trash",
                id="contact-delete", show=False),
        # priority: run before the keys typed after it are passed on ("l c notes" in a burst)
        Binding("l", "log_activity", "Log", tooltip="Log a call (l c, notes, ctrl+s), email...",
                id="contact-log", priority=True),
        Binding("o", "deals", "Deals", tooltip="Open deals with this person as primary "
                "contact: open one or add one for the account", id="contact-deals", show=False),
        Binding("k", "open_case", "Case", tooltip="Open a support case for this contact",
                id="contact-case", show=False),
        # A letter: digits are screens everywhere (docs/keymap.md); 3 is My day here too.
        Binding("t", "timeline", "Timeline", tooltip="Everything that happened with this person",
                id="contact-timeline", priority=True),
    ]  # fmt: skip

    def __init__(self, contact_id: int, sibling_ids: list[int] | None = None, index: int = 0):
        super().__init__()
        self.sibling_ids = list(sibling_ids or [contact_id])
        if not 0 <= index < len(self.sibling_ids) or self.sibling_ids[index] != contact_id:
            self.sibling_ids, index = [contact_id], 0
        self.index = index
        self.contact_id = contact_id
        self.view: ContactView | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(safe("loading…"), id="contact-header")
        with Horizontal(id="contact-crumb"):
            yield Static("", id="contact-crumb-path")
            yield Static("", id="contact-position")
        with VerticalScroll(id="contact-body"):
            with Horizontal(id="contact-facts"):
                yield Static("", id="contact-person")
                yield Static("", id="contact-reach")
            yield Static("Relationships", classes="section-title")
            yield OptionList(id="contact-relationships")
            yield Static("Latest", classes="section-title")
            yield Static("", id="contact-activities")
            yield Static("Open", classes="section-title")
            yield Static("", id="contact-open")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#contact-relationships").focus()
        self.load(self.contact_id)
        self.hold_presence("contact", self.contact_id)  # "Erik also here" in the status bar

    @work(thread=True, exclusive=True, exit_on_error=False, group="contact")
    def load(self, contact_id: int) -> None:
        with database.connection_context():
            view = ContactView(
                detail=contacts.detail(contact_id),
                relationships=contacts.relationships(contact_id),
                activities=contacts.latest_activities(contact_id, limit=5),
                deals=contacts.open_opportunities(contact_id, limit=5),
                cases=contacts.open_cases(contact_id, limit=5),
            )
        if not get_current_worker().is_cancelled:
            self.post_message(ContactLoaded(contact_id, view))

    # What this screen shows besides the contact: through its account.
    AROUND = ("contact_phone", "contact_email", "contact_relationship", "activity",
              "opportunity", "support_case", "account")

    def on_records_changed(self, message: RecordsChanged) -> None:
        changes = message.changes
        view = self.view
        account = [view.detail.account_id] if view and view.detail.account_id else None
        if changes.touches("contact", [self.contact_id]) or (
            changes.touches(self.AROUND, accounts=account) if account else
            changes.touches(self.AROUND)
        ) or view is None:
            self.load(self.contact_id)

    def on_contact_loaded(self, message: ContactLoaded) -> None:
        if message.contact_id != self.contact_id:
            return
        # A re-read (change notice) keeps the highlighted relationship and the scroll position.
        rels_before = self.query_one("#contact-relationships", OptionList)
        keep_rel = rels_before.highlighted if self.view is not None else None
        body = self.query_one("#contact-body", VerticalScroll)
        keep_y = body.scroll_y if self.view is not None else None
        self.view = v = message.view
        d = v.detail
        name = clean(d.full_name, limit=60, single_line=True)
        parts = [clean(x, limit=40, single_line=True) for x in (d.job_title, d.account_name) if x]
        self.query_one("#contact-header", Static).update(
            safe_markup("[b]$name[/b]$rest", name=name, rest="".join(f" · {p}" for p in parts))
        )
        path = " › ".join(clean(c.name, limit=30, single_line=True) for c in d.breadcrumb)
        self.query_one("#contact-crumb-path", Static).update(
            safe(path or "no account", single_line=True)
        )
        position = (
            f"[{self.index + 1} of {len(self.sibling_ids)}]" if len(self.sibling_ids) > 1 else ""
        )
        self.query_one("#contact-position", Static).update(safe(position))
        self.query_one("#contact-person", Static).update(lines(self._person(d)))
        self.query_one("#contact-reach", Static).update(lines(self._reach(d), "no phone or email"))
        rels = self.query_one("#contact-relationships", OptionList)
        rels.clear_options()
        for r in v.relationships:
            ended = f" (until {r.ends_on.isoformat()})" if r.ends_on else ""
            title = f" · {fit(r.other_title, 20).rstrip()}" if r.other_title else ""
            rels.add_option(Option(
                safe_markup("[dim]$label[/] $name$title$ended", label=fit(r.label, 14),
                            name=clean(r.other_name, limit=40, single_line=True), title=title,
                            ended=ended),
                id=f"r{r.id}-{r.other_id}",
            ))  # fmt: skip
        if not v.relationships:
            rels.add_option(Option(safe("no relationships"), id="none", disabled=True))
        elif keep_rel is not None:
            rels.highlighted = min(keep_rel, len(v.relationships) - 1)
        else:
            rels.highlighted = 0
        acts = (activity_line(a, with_contact=False) for a in v.activities)
        self.query_one("#contact-activities", Static).update(lines(acts, "no activity yet"))
        opened = [Content("deal ") + deal_line(o) for o in v.deals]
        opened += [case_line(c) for c in v.cases]
        self.query_one("#contact-open", Static).update(lines(opened, "nothing open"))
        if keep_y is not None:
            body.scroll_to(y=keep_y, animate=False, immediate=True)
        self.refresh_bindings()

    def _person(self, d: ContactDetail) -> list[Content]:
        role = JOB_ROLES.get(d.job_role or "", "")
        first = " · ".join(x for x in (role, clean(d.department, limit=40, single_line=True)) if x)
        out = [safe(first)] if first else []
        if d.birthday or d.spouse_name:
            bday = f"Birthday {d.birthday.strftime('%d %b')}" if d.birthday else ""
            spouse = (
                f"Spouse: {clean(d.spouse_name, limit=40, single_line=True)}"
                if d.spouse_name
                else ""
            )
            out.append(safe(" · ".join(x for x in (bday, spouse) if x)))
        if d.interests:
            out.append(safe_markup("Interests: $i", i=clean(d.interests, limit=60)))
        place = ", ".join(clean(x, limit=40, single_line=True) for x in (d.city, d.country) if x)
        if place:
            out.append(safe(place))
        out.append(safe_markup(
            "Do not email: $e · Do not call: $c",
            e="[YES]" if d.do_not_email else "no", c="[YES]" if d.do_not_call else "no",
        ))  # fmt: skip
        if d.notes:
            out.append(safe_markup("[dim]Note:[/] $n", n=clean(d.notes, limit=120)))
        return out

    def _reach(self, d: ContactDetail) -> list[Content]:
        out = []
        for p in d.phones:
            star = " ★" if p.is_primary else ""
            out.append(safe_markup("[dim]$kind[/] $number$star", kind=fit(p.kind, 7),
                                   number=p.number, star=star))  # fmt: skip
        for e in d.emails:
            star = " ★" if e.is_primary else ""
            out.append(safe_markup("$email$star", email=clean(e.email, limit=60), star=star))
        if d.owner_name:
            out.append(safe_markup("[dim]Owner[/] $o", o=d.owner_name))
        return out

    # ----------------------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "step":
            target = self.index + int(parameters[0])  # type: ignore[call-overload]
            return True if 0 <= target < len(self.sibling_ids) else None
        if action in ("history", "edit", "delete", "add_relationship", "log_activity",
                      "timeline"):
            return True if self.view is not None else None
        if action == "remove_relationship":
            return True if self._highlighted_relationship() is not None else None
        return True

    def _highlighted_relationship(self) -> int | None:
        rels = self.query_one("#contact-relationships", OptionList)
        if rels.highlighted is None or rels.option_count == 0:
            return None
        option_id = rels.get_option_at_index(rels.highlighted).id or ""
        return int(option_id[1:].split("-")[0]) if option_id.startswith("r") else None

    def action_open_case(self) -> None:
        from tui.screens.cases import open_case_prompt

        open_case_prompt(self, contact_id=self.contact_id)

    def action_log_activity(self) -> None:
        from tui.screens.log_activity import LogActivityScreen

        if self.view is None:
            return
        about = clean(self.view.detail.full_name, limit=60, single_line=True)
        screen = LogActivityScreen(contact_id=self.contact_id, about=about)
        self.app.push_screen(screen, self._changed)

    def action_timeline(self) -> None:
        from db.services.activities import Scope
        from tui.screens.timeline import open_timeline

        if self.view is not None:
            name = clean(self.view.detail.full_name, limit=60, single_line=True)
            open_timeline(self, Scope("contact", self.contact_id), name)

    def action_deals(self) -> None:
        from tui.screens.deal_list import DealListModal

        if self.view is not None:
            detail = self.view.detail
            title = "Open deals · " + clean(detail.full_name, limit=60, single_line=True)
            screen = DealListModal(title, detail.account_id, contact_id=self.contact_id)
            self.app.push_screen(screen, self._changed)

    def action_edit(self) -> None:
        from tui.screens.contact_form import ContactFormScreen

        self.app.push_screen(ContactFormScreen(contact_id=self.contact_id), self._changed)

    def action_add_relationship(self) -> None:
        from tui.screens.relationship_form import RelationshipFormScreen

        self.app.push_screen(RelationshipFormScreen(self.contact_id), self._changed)

    def action_remove_relationship(self) -> None:
        from tui.screens.confirm import start_delete

        rel_id = self._highlighted_relationship()
        if rel_id is not None:
            start_delete(self, "relationship", rel_id, on_done=self._changed)

    def action_delete(self) -> None:
        from tui.screens.confirm import start_delete

        name = self.view.detail.full_name if self.view else None
        start_delete(self, "contact", self.contact_id, name,
                     on_done=lambda ok: self.app.pop_screen() if ok else None)  # fmt: skip

    def _changed(self, result: object) -> None:
        """A form or delete finished: `None`/False means nothing changed."""
        if not result or getattr(result, "action", "") == "queued":  # waits in the outbox
            return
        if getattr(result, "action", "") == "open" and getattr(result, "kind", "") == "contact":
            self.app.push_screen(ContactDetailScreen(result.record_id))  # type: ignore[attr-defined]
            return
        self.load(self.contact_id)

    def action_step(self, delta: int) -> None:
        target = self.index + delta
        if not 0 <= target < len(self.sibling_ids):
            return
        self.index = target
        self.contact_id = self.sibling_ids[target]
        self.view = None
        self.query_one("#contact-header", Static).update(safe("loading…"))
        self.load(self.contact_id)
        self.hold_presence("contact", self.contact_id)
        self.refresh_bindings()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_relationships(self) -> None:
        self.set_focus(self.query_one("#contact-relationships", OptionList))

    @on(OptionList.OptionSelected, "#contact-relationships")
    def _related_chosen(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or ""
        if option_id.startswith("r"):
            other = int(option_id.split("-")[1])
            self.app.push_screen(ContactDetailScreen(other))

    def action_history(self) -> None:
        if self.view is None:
            return
        from tui.screens.history import HistoryScreen

        title = clean(self.view.detail.full_name, limit=60, single_line=True)
        self.app.push_screen(HistoryScreen("contact", self.contact_id, title))
