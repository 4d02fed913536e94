"""The contact form: `ContactFormScreen(contact_id=None, account_id=None)`.

Name, job, several phones and emails (ctrl+n adds a row to the phones or emails list that has
the focus, ctrl+r removes the focused row), personal facts, do-not-call/email flags, notes.
Phones are read in the contact's country, else the account's,
else the default region, and saved as E.164; a line under them shows the focused one as it
will be stored. An unchanged phone keeps its stored number. Creating warns about
likely duplicates (same email, same phone, similar name in the same account). The contact
and its phones and emails are saved in one transaction. Dismisses with a FormResult or None.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Input, Label, Select, Static

from db import phones
from db.errors import ValidationErrors
from db.outbox import Entry
from db.services import account_edit, contact_edit, duplicates
from db.services.duplicates import Candidate
from db.services.validation import EMAIL_KINDS, JOB_ROLES, PHONE_KINDS, validate_phones
from tui.messages import OutboxChanged
from tui.outbox import outbox_of, queue_write
from tui.screens.record_form import RecordFormScreen
from tui.text import clean, safe_markup
from tui.widgets.form_fields import (
    choice_row,
    control_id,
    error_id,
    flag_row,
    notes_row,
    read_control,
    text_row,
    write_control,
)

LABELS = {
    "first_name": "First name", "last_name": "Last name", "salutation": "Salutation",
    "job_title": "Job title", "job_role": "Job role", "department": "Department",
    "birthday": "Birthday", "spouse_name": "Spouse", "interests": "Interests", "city": "City",
    "country": "Country", "do_not_call": "Do not call", "do_not_email": "Do not email",
    "notes": "Notes", "phones": "Phones", "emails": "Emails",
}  # fmt: skip
TEXT_FIELDS = (
    "first_name", "last_name", "salutation", "job_title", "department", "birthday",
    "spouse_name", "interests", "city", "country",
)  # fmt: skip
LISTS = {"phones": PHONE_KINDS, "emails": EMAIL_KINDS}


class ListRow(Horizontal):
    """One phone or email: kind and value."""

    DEFAULT_CSS = """
    ListRow { height: 1; }
    ListRow Select { width: 16; }
    ListRow Input { width: 1fr; }
    """

    def __init__(self, section: str, index: int, kind: str | None, value: str) -> None:
        super().__init__()
        self.section, self.index = section, index
        self.kind, self.value = kind, value

    def compose(self) -> ComposeResult:
        kinds = LISTS[self.section]
        yield Select(
            [(k, k) for k in kinds], value=self.kind or kinds[0], allow_blank=False, compact=True,
            id=f"{self.section}-kind-{self.index}",
        )  # fmt: skip
        yield Input(
            clean(self.value, limit=1000),
            placeholder="+46 31 59 00 00" if self.section == "phones" else "name@example.com",
            compact=True, id=f"{self.section}-value-{self.index}",
        )  # fmt: skip


class ContactFormScreen(RecordFormScreen):
    KIND = "contact"
    LABELS = LABELS
    DEFAULT_CSS = """
    ContactFormScreen .list { height: auto; }
    ContactFormScreen .list .field-error { color: $text-error; padding-left: 16; display: none; }
    ContactFormScreen .list .field-error.-shown { display: block; }
    ContactFormScreen #phone-preview { color: $text-muted; padding-left: 16; height: auto; }
    """
    BINDINGS = [
        Binding("ctrl+n", "add_row", "Add row", tooltip="Add a phone or email (where focused)",
                id="form-add-row"),
        Binding("ctrl+r", "remove_row", "Remove row", tooltip="Remove the focused phone/email",
                id="form-remove-row"),
    ]  # fmt: skip

    def __init__(
        self, contact_id: int | None = None, account_id: int | None = None,
        replay: Entry | None = None, phone: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__(contact_id)
        self.account_id = account_id
        # An edit from the offline outbox that met someone else's change: the form opens with
        # the person's values on the version they started from, and saves them at once, so
        # the conflict dialog shows mine, theirs and the original (docs/outbox.md).
        self.replay = replay
        self.phone = phone  # a new contact's first phone, filled in (the console's unknown caller)
        self.account_region = phones.default_region()  # the account's country's, once loaded
        self.stored_phones: dict[str, str | None] = {}  # raw text -> E.164 as stored

    def compose_fields(self) -> ComposeResult:
        yield Static("", id="contact-account")
        for field in ("first_name", "last_name", "job_title"):
            yield text_row(field, LABELS[field])
        yield choice_row("job_role", LABELS["job_role"], JOB_ROLES)
        yield text_row("department", LABELS["department"])
        for section in LISTS:
            yield Label(f"{LABELS[section]}  (ctrl+n add, ctrl+r remove)", classes="section",
                        markup=False)
            yield Vertical(id=section, classes="list")
            if section == "phones":
                yield Static("", id="phone-preview")
        yield Label("Person", classes="section")
        yield text_row("birthday", LABELS["birthday"], placeholder="YYYY-MM-DD")
        for field in ("spouse_name", "interests", "city", "country", "salutation"):
            yield text_row(field, LABELS[field])
        yield flag_row("do_not_call", LABELS["do_not_call"])
        yield flag_row("do_not_email", LABELS["do_not_email"])
        yield notes_row("notes", LABELS["notes"])

    def on_mount(self) -> None:
        self._build_lists({"phones": [(None, self.phone or "")], "emails": [(None, "")]})
        super().on_mount()

    # -- phone and email rows ----------------------------------------------------------------
    def _rows(self, section: str) -> list[tuple[str | None, str]]:
        rows = []
        for row in self.query_one(f"#{section}").query(ListRow):
            selects, inputs = row.query(Select), row.query(Input)
            if not selects or not inputs:  # not composed yet: it will show what it was made with
                rows.append((row.kind or LISTS[section][0], row.value))
                continue
            kind = selects.first().value
            if kind == Select.NULL:  # mounted this refresh: its Select has no value yet
                kind = row.kind or LISTS[section][0]
            rows.append((kind, inputs.first().value))
        return rows

    def _build_lists(self, raw: dict[str, Any], focus: tuple[str, int] | None = None) -> None:
        """Make each list show `raw[section]` (at least one, maybe blank, row), in place."""
        for section in LISTS:
            rows = list(raw.get(section) or []) or [(None, "")]
            container = self.query_one(f"#{section}")
            existing = list(container.query(ListRow))
            for index, (kind, value) in enumerate(rows):
                if index < len(existing):
                    row = existing[index]
                    selects, inputs = row.query(Select), row.query(Input)
                    if not selects or not inputs:  # not composed yet: compose with these
                        row.kind, row.value = kind, value
                        continue
                    selects.first().value = kind or LISTS[section][0]
                    write_control(inputs.first(), value)
                else:
                    container.mount(ListRow(section, index, kind, value))
                    container.mount(
                        Label("", id=error_id(f"{section}.{index}"), classes="field-error")
                    )
            for row in existing[len(rows) :]:
                for label in container.query(f"#{error_id(f'{section}.{row.index}')}"):
                    label.remove()
                row.remove()
        if focus:
            section, index = focus

            def _focus() -> None:
                found = self.query(f"#{section}-value-{index}")
                if found:
                    found.first().focus()

            self.call_after_refresh(_focus)

    def _focused_row(self) -> tuple[str, int] | None:
        node = self.focused
        while node is not None and not isinstance(node, ListRow):
            node = node.parent  # type: ignore[assignment]
        return (node.section, node.index) if isinstance(node, ListRow) else None

    def _focused_section(self) -> str:
        node = self.focused
        while node is not None:
            if node.id in LISTS:
                return node.id  # type: ignore[return-value]
            node = node.parent  # type: ignore[assignment]
        return "phones"

    def action_add_row(self) -> None:
        section = self._focused_section()
        raw = self.raw_values()
        raw[section] = [*self._rows(section), (None, "")]
        self._build_lists(raw, focus=(section, len(raw[section]) - 1))

    def action_remove_row(self) -> None:
        where = self._focused_row()
        if where is None:
            self.notify("Focus a phone or email row to remove it.", markup=False)
            return
        section, index = where
        raw = self.raw_values()
        rows = self._rows(section)
        del rows[index]
        raw[section] = rows
        self._build_lists(raw, focus=(section, max(0, min(index, len(rows) - 1))))

    @on(Input.Submitted)
    def _row_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    # -- the form contract -------------------------------------------------------------------
    def raw_values(self) -> dict[str, Any]:
        raw: dict[str, Any] = {
            f: read_control(self.query_one(f"#{control_id(f)}"))
            for f in (*TEXT_FIELDS, "job_role", "do_not_call", "do_not_email", "notes")
        }
        for section in LISTS:
            raw[section] = self._rows(section)  # blank rows too: errors are per row index
        return raw

    def fill_raw(self, raw: dict[str, Any]) -> None:
        for f in (*TEXT_FIELDS, "job_role", "do_not_call", "do_not_email", "notes"):
            write_control(self.query_one(f"#{control_id(f)}"), raw.get(f))
        self._build_lists(raw)

    def to_raw(self, typed: dict[str, Any]) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        for f in contact_edit.FIELDS:
            value = typed.get(f)
            if f in ("do_not_call", "do_not_email"):
                raw[f] = bool(value)
            elif f == "job_role":
                raw[f] = value
            elif isinstance(value, date):
                raw[f] = value.isoformat()
            else:
                raw[f] = "" if value is None else str(value)
        raw["phones"] = [(k, r) for k, r, *_ in typed.get("phones") or ()]
        raw["emails"] = [(k, e) for k, e, *_ in typed.get("emails") or ()]
        return raw

    def load(self) -> tuple[dict[str, Any], dict[str, Any]]:
        original = contact_edit.load(self.record_id)  # type: ignore[arg-type]
        self.account_id = original.get("account_id")
        return original, self.load_new()

    def load_new(self) -> dict[str, Any]:
        return {
            "account": account_edit.name_of(self.account_id),
            "region": contact_edit.phone_region({}, self.account_id),
        }

    # -- the phone preview: the number as it will be stored --------------------------------
    @on(Input.Changed)
    def _phone_or_country_changed(self, event: Input.Changed) -> None:
        if (event.input.id or "").startswith("phones-value-") or event.input.id == "f-country":
            self._show_phone_preview(event.input if event.input.id != "f-country" else None)

    def _show_phone_preview(self, focused: Input | None = None) -> None:
        """One line under the phones: what the focused (else first) phone will be saved as,
        read in the contact's country, else the account's (what contact_edit does)."""
        inputs = list(self.query_one("#phones").query(Input))
        box = focused or next((i for i in inputs if i.has_focus), None) or next(
            (i for i in inputs if i.value.strip()), None
        )
        text = box.value.strip() if box is not None else ""
        if not text:
            line = ""
        elif text in self.stored_phones and self.stored_phones[text]:
            line = f"{text} → {phones.display(self.stored_phones[text])} (as stored)"
        else:
            country = self.query_one("#f-country", Input).value
            region = phones.region_for(country) or self.account_region
            line = f"{text} {phones.preview(text, region)}"
        self.query_one("#phone-preview", Static).update(clean(line, single_line=True))

    def show_extra(self, extra: dict[str, Any]) -> None:
        self.account_region = extra.get("region") or self.account_region
        if self.original:
            self.stored_phones = {
                raw.strip(): e164 for _k, raw, e164, *_ in self.original.get("phones") or ()
            }
        self.call_after_refresh(self._show_phone_preview)
        account = extra.get("account")
        line = (
            safe_markup("At: [b]$account[/b]", account=account)
            if account
            else Content("A contact without an account")
        )
        self.query_one("#contact-account", Static).update(line)

    def find_duplicates(self, raw: dict[str, Any]) -> list[Candidate]:
        try:
            region = phones.region_for(raw.get("country")) or self.account_region
            numbers = [row[2] for row in validate_phones(raw["phones"], region)]
        except ValidationErrors:
            numbers = []  # the save reports them; duplicates by name and email still count
        return duplicates.contact_candidates(
            raw.get("first_name") or "",
            raw.get("last_name") or "",
            emails=[e.strip() for _k, e in raw["emails"] if e.strip()],
            phones_e164=numbers,
            account_id=self.account_id,
        )

    def write(self, raw: dict[str, Any], original: dict[str, Any] | None) -> int:
        if original is None:
            return contact_edit.create(raw, raw["phones"], raw["emails"], self.account_id)
        contact_edit.update(self.record_id, original, raw, raw["phones"], raw["emails"])  # type: ignore[arg-type]
        box = outbox_of(self.app)
        if self.replay is not None and box is not None:
            box.done(self.replay.uuid)  # stored through the form: the outbox entry is over
            self.app.post_message(OutboxChanged(box.count()))
        return int(self.record_id)  # type: ignore[arg-type]

    def queue_offline(self, raw: dict[str, Any], original: dict[str, Any] | None) -> bool:
        """(thread) An edit of a stored contact waits in the outbox with the version it
        started from; the replay writes only what differs from that (a new contact is not
        queued: "Not saved", ctrl+s later)."""
        if original is None or self.record_id is None:
            return False
        form = {k: v for k, v in raw.items() if k not in LISTS}
        initial = self.initial_raw
        payload = {
            "contact_id": self.record_id, "original": original, "form": form,
            "phones": raw["phones"], "emails": raw["emails"],
            "fields": [k for k, v in raw.items() if v != initial.get(k)],
            "about": " ".join(p for p in (raw.get("first_name"), raw.get("last_name")) if p),
        }  # fmt: skip
        if queue_write(self.app, "edit_contact", payload) is None:
            return False
        if self.replay is not None and (box := outbox_of(self.app)) is not None:
            box.discard(self.replay.uuid)  # replaced by this newer save of the same edit
            self.app.post_message(OutboxChanged(box.count()))
        return True

    def _settled(self) -> None:
        super()._settled()
        entry = self.replay
        if entry is None or self.original is None:
            return
        started = dict(entry.payload["original"])
        for key in LISTS:
            started[key] = tuple(tuple(r) for r in started.get(key) or ())
        mine = {**entry.payload["form"],
                **{k: [tuple(r) for r in entry.payload.get(k) or ()] for k in LISTS}}  # fmt: skip
        self.original = started
        self.initial_raw = self.to_raw(started)
        self.fill_raw(mine)
        self._message("Saved on this machine while the database was away; saving it now…")
        self.call_after_refresh(self.action_save, False)

    def describe(self, field: str, value: Any) -> str:
        if field == "phones":
            return ", ".join(f"{k} {raw}" for k, raw, *_ in value or ()) or "—"
        if field == "emails":
            return ", ".join(f"{k} {e}" for k, e, *_ in value or ()) or "—"
        if isinstance(value, bool):
            return "yes" if value else "no"
        return super().describe(field, value)
