"""The account form: `AccountFormScreen(account_id=None, parent_id=None)`.

New (account_id None) under `parent_id` (None: a root account), or edit an existing one. The
parent is fixed here (moving an account in the hierarchy is the tree's job). Creating warns
about accounts with the same or a similar name. Dismisses with a FormResult or None.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from db.phones import display as phone_display
from db.services import account_edit, duplicates
from db.services.duplicates import Candidate
from db.services.validation import ACCOUNT_KINDS, ACCOUNT_LIFECYCLES, ACCOUNT_TIERS
from tui.screens.record_form import RecordFormScreen
from tui.text import safe_markup
from tui.widgets.form_fields import (
    choice_row,
    control_id,
    notes_row,
    read_control,
    text_row,
    write_control,
)

LABELS = {
    "name": "Name", "industry": "Industry", "sic_code": "SIC code", "employees": "Employees",
    "annual_revenue": "Revenue", "currency": "Currency", "website": "Website", "phone": "Phone",
    "city": "City", "country": "Country", "tier": "Tier", "lifecycle": "Lifecycle",
    "kind": "Kind", "description": "Description",
}  # fmt: skip
CHOICES = {"tier": ACCOUNT_TIERS, "lifecycle": ACCOUNT_LIFECYCLES, "kind": ACCOUNT_KINDS}


class AccountFormScreen(RecordFormScreen):
    KIND = "account"
    LABELS = LABELS

    def __init__(self, account_id: int | None = None, parent_id: int | None = None) -> None:
        super().__init__(account_id)
        self.parent_id = parent_id

    def compose_fields(self) -> ComposeResult:
        yield Static("", id="account-parent")
        for field in account_edit.FIELDS:
            if field in CHOICES:
                yield choice_row(field, LABELS[field], CHOICES[field])
            elif field == "description":
                yield notes_row(field, LABELS[field])
            else:
                yield text_row(field, LABELS[field])

    def raw_values(self) -> dict[str, Any]:
        return {f: read_control(self.query_one(f"#{control_id(f)}")) for f in account_edit.FIELDS}

    def fill_raw(self, raw: dict[str, Any]) -> None:
        for f in account_edit.FIELDS:
            write_control(self.query_one(f"#{control_id(f)}"), raw.get(f))

    def to_raw(self, typed: dict[str, Any]) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        for f in account_edit.FIELDS:
            value = typed.get(f)
            if f in CHOICES:
                raw[f] = value
            elif isinstance(value, Decimal):
                raw[f] = format(value, "f")
            elif f == "phone" and value:
                raw[f] = phone_display(value, value)
            else:
                raw[f] = "" if value is None else str(value)
        return raw

    def load(self) -> tuple[dict[str, Any], dict[str, Any]]:
        original = account_edit.load(self.record_id)  # type: ignore[arg-type]
        self.parent_id = original.get("parent_id")
        return original, {"parent": account_edit.name_of(self.parent_id)}

    def load_new(self) -> dict[str, Any]:
        return {"parent": account_edit.name_of(self.parent_id)}

    def show_extra(self, extra: dict[str, Any]) -> None:
        parent = extra.get("parent")
        line = (
            safe_markup("Under: [b]$parent[/b]", parent=parent)
            if parent
            else Content("A top-level account")
        )
        self.query_one("#account-parent", Static).update(line)

    def find_duplicates(self, raw: dict[str, Any]) -> list[Candidate]:
        return duplicates.account_candidates(raw.get("name") or "")

    def write(self, raw: dict[str, Any], original: dict[str, Any] | None) -> int:
        if original is None:
            return account_edit.create(raw, parent_id=self.parent_id)
        account_edit.update(self.record_id, original, raw)  # type: ignore[arg-type]
        return int(self.record_id)  # type: ignore[arg-type]

    def describe(self, field: str, value: Any) -> str:
        if field == "phone" and value:
            return phone_display(value, value)
        return super().describe(field, value)
