"""The relationship form: `RelationshipFormScreen(contact_id, relationship_id=None)`.

Seen from contact `contact_id`: "<this contact> <type> <other contact>", e.g. "reports to
Per Ek" or "manages Per Ek". The other contact is found by typing part of a name (contacts of
the same account first): down moves into the results, enter picks one. Enter in another
one-line field (or ctrl+s) saves. Dismisses with a FormResult or None.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from db.connection import database
from db.errors import Conflict
from db.models import Contact
from db.services import relationships
from db.services.relationships import ContactHit
from tui.screens.record_form import RecordFormScreen
from tui.text import safe_markup
from tui.widgets.form_fields import (
    FieldRow,
    choice_row,
    control_id,
    read_control,
    text_row,
    write_control,
)

LABELS = {
    "to_contact_id": "Other contact", "type_key": "Relationship", "note": "Note",
    "starts_on": "Since", "ends_on": "Until", "from_contact_id": "Other contact",
    "type_id": "Relationship",
}  # fmt: skip
PLAIN = ("note", "starts_on", "ends_on")


class ContactHits(Message):
    def __init__(self, hits: list[ContactHit], seq: int) -> None:
        super().__init__()
        self.hits, self.seq = hits, seq


class RelationshipFormScreen(RecordFormScreen):
    KIND = "relationship"
    TABLE = "contact_relationship"
    LABELS = LABELS
    DEFAULT_CSS = """
    RelationshipFormScreen #contact-hits { height: auto; max-height: 8; margin-left: 16; }
    RelationshipFormScreen #contact-hits.-empty { display: none; }
    RelationshipFormScreen #other-contact { padding-left: 16; }
    """
    BINDINGS = [
        Binding("down", "to_hits", "Results", show=False, id="form-to-hits"),
    ]

    def __init__(self, contact_id: int, relationship_id: int | None = None) -> None:
        super().__init__(relationship_id)
        self.contact_id = contact_id
        self.other_id: int | None = None
        self.hits: list[ContactHit] = []
        self.type_names: dict[int, str] = {}
        self.search_seq = 0  # the latest search started
        self.found_seq = 0  # the latest whose results are shown

    @property
    def holds_moves(self) -> bool:
        """While a search runs, keys other than the name's letters wait for its results
        (`down enter` typed fast with the name picks from them, as typed slowly)."""
        return self.found_seq != self.search_seq

    def compose_fields(self) -> ComposeResult:
        yield Static("", id="this-contact")
        yield choice_row("type_key", LABELS["type_key"], ())
        yield FieldRow(
            "to_contact_id",
            LABELS["to_contact_id"],
            Input(placeholder="type a name to find", id=control_id("to_contact_id"), compact=True),
        )
        yield OptionList(id="contact-hits", classes="-empty")
        yield Static(Content("(nobody chosen yet)"), id="other-contact")
        yield text_row("note", LABELS["note"])
        yield text_row("starts_on", LABELS["starts_on"], placeholder="YYYY-MM-DD")
        yield text_row("ends_on", LABELS["ends_on"], placeholder="YYYY-MM-DD")

    # -- finding the other contact ----------------------------------------------------------
    @on(Input.Changed, "#f-to-contact-id")
    def _search(self, event: Input.Changed) -> None:
        event.stop()
        if len(event.value.strip()) >= 2:
            self.search_seq += 1
            self.search(event.value, self.search_seq)

    @work(thread=True, exclusive=True, exit_on_error=False, group="contact-search")
    def search(self, text: str, seq: int) -> None:
        try:
            with database.connection_context():
                near = Contact.select(Contact.account).where(Contact.id == self.contact_id)
                hits = relationships.search_contacts(text, near_account=near.scalar())
        except Exception:
            self.post_message(ContactHits([], seq))  # keys go on; the app reports the error
            raise
        self.post_message(ContactHits([h for h in hits if h.id != self.contact_id], seq))

    def on_contact_hits(self, message: ContactHits) -> None:
        self.found_seq = max(self.found_seq, message.seq)
        if message.seq != self.search_seq:
            return  # an older search: a newer one is on its way
        self.hits = message.hits
        options = self.query_one("#contact-hits", OptionList)
        options.clear_options()
        options.add_options(
            [
                Option(
                    safe_markup("$name  [dim]$account[/dim]", name=h.name, account=h.account or "")
                )
                for h in self.hits
            ]
        )
        options.set_class(not self.hits, "-empty")
        if self.hits:
            options.highlighted = 0

    def action_to_hits(self) -> None:
        if self.focused is self.query_one("#f-to-contact-id") and self.hits:
            self.query_one("#contact-hits", OptionList).focus()
        else:
            self.app.action_focus_next()

    def _pick(self, hit: ContactHit) -> None:
        self.other_id = hit.id
        self.query_one("#other-contact", Static).update(
            safe_markup("→ [b]$name[/b]  $account", name=hit.name, account=hit.account or "")
        )
        self.query_one("#contact-hits", OptionList).add_class("-empty")
        self.hits = []
        self.query_one("#f-note", Input).focus()

    @on(OptionList.OptionSelected, "#contact-hits")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._pick(self.hits[event.option_index])

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "f-to-contact-id" and self.hits:
            self._pick(self.hits[0])  # enter in the search field picks the best match
            return
        self.action_save()

    # -- the form contract -------------------------------------------------------------------
    def raw_values(self) -> dict[str, Any]:
        raw = {f: read_control(self.query_one(f"#{control_id(f)}")) for f in PLAIN}
        raw["type_key"] = read_control(self.query_one(f"#{control_id('type_key')}"))
        raw["to_contact_id"] = self.other_id
        return raw

    def fill_raw(self, raw: dict[str, Any]) -> None:
        for f in PLAIN:
            write_control(self.query_one(f"#{control_id(f)}"), raw.get(f))
        write_control(self.query_one(f"#{control_id('type_key')}"), raw.get("type_key"))
        self.other_id = raw.get("to_contact_id")

    def to_raw(self, typed: dict[str, Any]) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        for f in PLAIN:
            value = typed.get(f)
            raw[f] = value.isoformat() if isinstance(value, date) else (value or "")
        raw["type_key"] = typed.get("type_key")
        raw["to_contact_id"] = typed.get("other_id")
        return raw

    def raw_key(self, field: str) -> str:
        return {"from_contact_id": "to_contact_id", "type_id": "type_key"}.get(field, field)

    def _extra(self) -> dict[str, Any]:
        return {
            "type_names": relationships.type_labels(),
            "choices": relationships.type_choices(),
            "this": relationships.contact_name(self.contact_id),
        }

    def load(self) -> tuple[dict[str, Any], dict[str, Any]]:
        original = relationships.load(self.record_id, seen_from=self.contact_id)  # type: ignore[arg-type]
        extra = self._extra()
        extra["other"] = relationships.contact_name(original["other_id"])
        return original, extra

    def load_new(self) -> dict[str, Any]:
        return self._extra()

    def on_form_loaded(self, message: Any) -> None:
        # The type choices come from the database: set them before the values are filled in.
        select = self.query_one(f"#{control_id('type_key')}", Select)
        select.set_options([(c.label, c.value) for c in message.extra["choices"]])
        super().on_form_loaded(message)

    def show_extra(self, extra: dict[str, Any]) -> None:
        self.type_names = extra.get("type_names", {})
        self.query_one("#this-contact", Static).update(
            safe_markup("[b]$name[/b] …", name=extra.get("this") or self.contact_id)
        )
        if extra.get("other"):
            self.query_one("#other-contact", Static).update(
                safe_markup("→ [b]$name[/b]", name=extra["other"])
            )

    def current_view(self, conflict: Conflict) -> dict[str, Any]:
        return relationships.load(self.record_id, seen_from=self.contact_id)  # type: ignore[arg-type]

    def write(self, raw: dict[str, Any], original: dict[str, Any] | None) -> int:
        if original is None:
            return relationships.create(self.contact_id, raw)
        relationships.update(self.record_id, self.contact_id, original, raw)  # type: ignore[arg-type]
        return int(self.record_id)  # type: ignore[arg-type]

    def describe(self, field: str, value: Any) -> str:
        if field == "type_id" and value in self.type_names:
            return self.type_names[value]
        return super().describe(field, value)
