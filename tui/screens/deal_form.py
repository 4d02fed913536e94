"""The deal form: `DealFormScreen(deal_id=None, account_id=None, stage_id=None)`.

New (deal_id None, with the account and stage it was opened from, if any) or edit. The account
is found by typing part of its name (down moves into the results, enter picks); the primary
contact is chosen among the account's contacts. An empty probability is the stage's (and
follows the deal from stage to stage); a typed one is the person's and stays. Won and lost are
stages: a lost deal needs its reason (the board's `x` asks for it). Dismisses with a
FormResult or None. Saving, errors beside fields and conflicts: RecordFormScreen.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
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
from db.services import deals
from db.services.deals import Choice
from db.services.validation import FORECAST_CATEGORIES
from tui.screens.record_form import RecordFormScreen
from tui.text import safe, safe_markup
from tui.widgets.form_fields import (
    FieldRow,
    choice_row,
    control_id,
    read_control,
    text_row,
    write_control,
)

LABELS = {
    "account_id": "Account", "primary_contact_id": "Primary contact", "name": "Deal name",
    "amount": "Amount", "currency": "Currency", "stage_id": "Stage",
    "probability": "Probability %", "expected_close": "Expected close",
    "forecast_category": "Forecast", "owner_id": "Owner", "campaign_id": "Source campaign",
    "next_step": "Next step", "lost_reason": "Lost reason",
}  # fmt: skip
TEXTS = ("name", "amount", "currency", "probability", "expected_close", "next_step", "lost_reason")
PICKS = ("stage_id", "forecast_category", "owner_id", "campaign_id", "primary_contact_id")


class AccountHits(Message):
    def __init__(self, hits: list[Choice], seq: int) -> None:
        super().__init__()
        self.hits, self.seq = hits, seq


class ContactsLoaded(Message):
    def __init__(self, account_id: int, contacts: list[Choice]) -> None:
        super().__init__()
        self.account_id, self.contacts = account_id, contacts


class DealFormScreen(RecordFormScreen):
    KIND = "deal"
    LABELS = LABELS
    DEFAULT_CSS = """
    DealFormScreen #account-hits { height: auto; max-height: 6; margin-left: 16; }
    DealFormScreen #account-hits.-empty { display: none; }
    DealFormScreen #deal-account { padding-left: 16; height: 1; }
    DealFormScreen #deal-state { height: auto; color: $text-muted; }
    """
    BINDINGS = [Binding("down", "to_hits", "Results", show=False, id="deal-to-hits")]

    def __init__(
        self, deal_id: int | None = None, account_id: int | None = None,
        stage_id: int | None = None,
        contact_id: int | None = None,
    ) -> None:  # fmt: skip
        super().__init__(deal_id)
        self.account_id = account_id
        self.stage_id = stage_id
        self.contact_id = contact_id  # a new deal's primary contact (opened from a contact)
        self.hits: list[Choice] = []
        self.search_seq = 0
        self.found_seq = 0
        self.choices: dict[str, list[Choice]] = {}
        self.stage_probability: dict[int, int] = {}

    @property
    def holds_moves(self) -> bool:
        return self.found_seq != self.search_seq

    def compose_fields(self) -> ComposeResult:
        yield Static("", id="deal-state")
        yield FieldRow("account_id", LABELS["account_id"],
                       Input(placeholder="type part of the account's name", compact=True,
                             id=control_id("account_id")))  # fmt: skip
        yield OptionList(id="account-hits", classes="-empty")
        yield Static(Content("(no account chosen)"), id="deal-account")
        yield choice_row("primary_contact_id", LABELS["primary_contact_id"], ())
        yield text_row("name", LABELS["name"], max_length=500)
        yield text_row("amount", LABELS["amount"], placeholder="e.g. 250000")
        yield text_row("currency", LABELS["currency"], placeholder="EUR")
        yield choice_row("stage_id", LABELS["stage_id"], (), blank=True)
        yield text_row("probability", LABELS["probability"], placeholder="the stage's")
        yield text_row("expected_close", LABELS["expected_close"], placeholder="YYYY-MM-DD")
        yield choice_row("forecast_category", LABELS["forecast_category"], FORECAST_CATEGORIES)
        yield choice_row("owner_id", LABELS["owner_id"], ())
        yield choice_row("campaign_id", LABELS["campaign_id"], ())
        yield text_row("next_step", LABELS["next_step"], max_length=500)
        yield text_row(
            "lost_reason",
            LABELS["lost_reason"],
            max_length=500,
            placeholder="required when the stage is a lost one",
        )

    # -- the account picker -------------------------------------------------------------------
    @on(Input.Changed, "#f-account-id")
    def _search(self, event: Input.Changed) -> None:
        event.stop()
        if len(event.value.strip()) >= 2:
            self.search_seq += 1
            self.search(event.value, self.search_seq)

    @work(thread=True, exclusive=True, exit_on_error=False, group="account-search")
    def search(self, text: str, seq: int) -> None:
        try:
            with database.connection_context():
                hits = deals.search_accounts(text)
        except Exception:
            self.post_message(AccountHits([], seq))
            raise
        self.post_message(AccountHits(hits, seq))

    def on_account_hits(self, message: AccountHits) -> None:
        self.found_seq = max(self.found_seq, message.seq)
        if message.seq != self.search_seq:
            return
        self.hits = message.hits
        options = self.query_one("#account-hits", OptionList)
        options.clear_options()
        options.add_options([Option(safe(h.label, single_line=True)) for h in self.hits])
        options.set_class(not self.hits, "-empty")
        if self.hits:
            options.highlighted = 0

    def action_to_hits(self) -> None:
        if self.focused is self.query_one("#f-account-id") and self.hits:
            self.query_one("#account-hits", OptionList).focus()
        else:
            self.app.action_focus_next()

    def _pick(self, hit: Choice) -> None:
        self._set_account(hit.id, hit.label)
        self.query_one("#account-hits", OptionList).add_class("-empty")
        self.hits = []
        self.query_one("#f-name", Input).focus()

    def _set_account(self, account_id: int | None, name: str | None) -> None:
        changed = account_id != self.account_id
        self.account_id = account_id
        self.query_one("#deal-account", Static).update(
            safe_markup("→ [b]$name[/b]", name=name) if name else Content("(no account chosen)")
        )
        if changed or not self.choices.get("primary_contact_id"):
            self.load_contacts(account_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="deal-contacts")
    def load_contacts(self, account_id: int | None) -> None:
        with database.connection_context():
            contacts = deals.account_contacts(account_id)
        self.post_message(ContactsLoaded(account_id or 0, contacts))

    def on_contacts_loaded(self, message: ContactsLoaded) -> None:
        select = self.query_one(f"#{control_id('primary_contact_id')}", Select)
        keep = read_control(select)
        self.choices["primary_contact_id"] = message.contacts
        select.set_options([(c.label, c.id) for c in message.contacts])
        if keep in {c.id for c in message.contacts}:
            select.value = keep

    @on(OptionList.OptionSelected, "#account-hits")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._pick(self.hits[event.option_index])

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "f-account-id":
            if self.hits:
                self._pick(self.hits[0])  # enter in the search field picks the best match
            return
        self.action_save()

    @on(Select.Changed, "#f-stage-id")
    def _stage_changed(self, event: Select.Changed) -> None:
        probability = self.stage_probability.get(event.value)  # type: ignore[arg-type]
        field = self.query_one("#f-probability", Input)
        field.placeholder = f"the stage's: {probability}" if probability is not None else \
            "the stage's"  # fmt: skip

    # -- the form contract --------------------------------------------------------------------
    def raw_values(self) -> dict[str, Any]:
        raw = {f: read_control(self.query_one(f"#{control_id(f)}")) for f in TEXTS + PICKS}
        raw["account_id"] = self.account_id
        return raw

    def fill_raw(self, raw: dict[str, Any]) -> None:
        for f in TEXTS + PICKS:
            write_control(self.query_one(f"#{control_id(f)}"), raw.get(f))
        if raw.get("account_id") != self.account_id:
            self.account_id = raw.get("account_id")

    def to_raw(self, typed: dict[str, Any]) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        for f in TEXTS:
            value = typed.get(f)
            if f == "probability" and not typed.get("probability_manual"):
                value = None  # the stage's: shown as the placeholder
            if isinstance(value, Decimal):
                raw[f] = format(value, "f")
            elif isinstance(value, date):
                raw[f] = value.isoformat()
            else:
                raw[f] = "" if value is None else str(value)
        for f in PICKS:
            raw[f] = typed.get(f)
        raw["account_id"] = typed.get("account_id")
        return raw

    def _extra(self) -> dict[str, Any]:
        from db.services.pipeline import all_stages

        extra: dict[str, Any] = {"choices": deals.form_choices()}
        extra["probabilities"] = {s.id: s.probability for s in all_stages()}
        return extra

    def load(self) -> tuple[dict[str, Any], dict[str, Any]]:
        original = deals.load(self.record_id)  # type: ignore[arg-type]
        extra = self._extra()
        extra.update(deals.names(original))
        extra["contacts"] = deals.account_contacts(original["account_id"])
        return original, extra

    def load_new(self) -> dict[str, Any]:
        extra = self._extra()
        extra.update(deals.names({"account_id": self.account_id}))
        extra["contacts"] = deals.account_contacts(self.account_id)
        return extra

    def on_form_loaded(self, message: Any) -> None:
        extra = message.extra
        self.choices = dict(extra["choices"])
        self.choices["primary_contact_id"] = extra.get("contacts", [])
        self.stage_probability = extra.get("probabilities", {})
        for name, options in self.choices.items():
            select = self.query_one(f"#{control_id(name)}", Select)
            select.set_options([(c.label, c.id) for c in options])
        super().on_form_loaded(message)
        if not message.original:  # new: the stage it was opened from, the account given
            if self.stage_id is not None:
                self.query_one("#f-stage-id", Select).value = self.stage_id
            elif self.choices["stage_id"]:
                self.query_one("#f-stage-id", Select).value = self.choices["stage_id"][0].id
            self.query_one("#f-forecast-category", Select).value = "pipeline"
            if self.contact_id in {c.id for c in self.choices["primary_contact_id"]}:
                self.query_one("#f-primary-contact-id", Select).value = self.contact_id
        else:
            self.account_id = message.original.get("account_id")

    def show_extra(self, extra: dict[str, Any]) -> None:
        name = extra.get("account")
        self.query_one("#deal-account", Static).update(
            safe_markup("→ [b]$name[/b]", name=name) if name else Content("(no account chosen)")
        )
        if self.original:
            o = self.original
            if o.get("is_closed"):
                state = "Won" if o.get("is_won") else f"Lost: {o.get('lost_reason') or ''}"
                self.query_one("#deal-state", Static).update(safe(
                    f"{state} · closed {o.get('closed_at'):%Y-%m-%d}" if o.get("closed_at")
                    else state, single_line=True))  # fmt: skip
            else:
                self.query_one("#deal-state", Static).update(Content("Open deal"))
        if self.account_id is not None and self.record_id is None:
            self.query_one("#f-account-id", Input).value = ""

    def _focus_first(self) -> None:
        # An account given (from the account panel, contact or edit): start at the name.
        target = "#f-name" if self.account_id is not None else "#f-account-id"
        self.set_focus(self.query_one(target, Input))

    def current_view(self, conflict: Conflict) -> dict[str, Any]:
        return deals.load(self.record_id)  # type: ignore[arg-type]

    def write(self, raw: dict[str, Any], original: dict[str, Any] | None) -> int:
        if original is None:
            return deals.create(raw)
        deals.update(self.record_id, original, raw)  # type: ignore[arg-type]
        return int(self.record_id)  # type: ignore[arg-type]

    def describe(self, field: str, value: Any) -> str:
        for choice in self.choices.get(field, []):
            if choice.id == value:
                return choice.label
        return super().describe(field, value)
