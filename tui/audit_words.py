"""History and audit entries in words: field labels, yes/no, names instead of ids.

`wanted(entries)` lists the ids to look up (db/services/names.py, in the worker);
`Words(names)` then turns each change into labels and values a person reads.
"""

from __future__ import annotations

import json
from typing import Any

from db.services.history import Entry

TABLES = {
    "account": "account", "contact": "contact", "contact_phone": "phone",
    "contact_email": "email", "activity": "activity", "opportunity": "deal",
    "support_case": "case", "app_user": "person", "team": "team",
    "sharing_default": "sharing default", "account_share": "account share",
    "contact_relationship": "relationship", "campaign": "campaign", "document": "document",
}  # fmt: skip

LABELS = {
    "name": "Name", "parent_id": "Part of", "industry": "Industry", "sic_code": "SIC code",
    "employees": "Employees", "annual_revenue": "Revenue", "budget": "Budget",
    "currency": "Currency", "website": "Website", "phone": "Phone", "street": "Street",
    "postal_code": "Postal code", "city": "City", "region": "Region", "country": "Country",
    "tier": "Tier", "lifecycle": "Lifecycle", "kind": "Kind", "description": "Description",
    "owner_id": "Owner", "team_id": "Team", "custom": "Custom fields", "deleted_at": "Deleted",
    "first_name": "First name", "last_name": "Last name", "job_title": "Job title",
    "department": "Department", "account_id": "Account", "contact_id": "Contact",
    "notes": "Notes", "is_primary": "Primary", "primary": "Primary", "raw": "number",
    "e164": "number as stored", "label": "label", "email": "Email", "username": "User name",
    "display_name": "Name", "role": "Role", "active": "Active", "manager_id": "Manager",
    "sharing": "Sharing", "access": "Access", "object_type": "Records", "user_id": "Person",
    "author_id": "Author", "assignee_id": "Assigned to", "subject": "Subject",
    "occurred_at": "When", "due_at": "Due", "done_at": "Done", "amount": "Amount",
    "stage_id": "Stage", "probability": "Probability", "close_date": "Close date",
}  # fmt: skip

# Which table an id field points at; parent_id depends on the table it is in.
REFERS = {
    "owner_id": "app_user", "manager_id": "app_user", "user_id": "app_user",
    "author_id": "app_user", "assignee_id": "app_user", "team_id": "team",
    "account_id": "account", "contact_id": "contact", "stage_id": "stage",
    "primary_contact_id": "contact", "campaign_id": "campaign",
}  # fmt: skip
PARENTS = {"account": "account", "team": "team"}
NAMED = ("account", "contact", "team", "app_user")  # tables whose rows have a name


def _target(table: str, field: str) -> str | None:
    if field == "parent_id":
        return PARENTS.get(table)
    return REFERS.get(field)


def _split(table: str, field: str) -> tuple[str, str]:
    """A detail row's change is named "phone raw": (prefix, field)."""
    prefix, _, rest = field.partition(" ")
    return (prefix, rest) if rest and table in ("contact_phone", "contact_email") else ("", field)


def wanted(entries: list[Entry]) -> set[tuple[str, int]]:
    """Every (table, id) the entries name: their records, and ids in their values."""
    out: set[tuple[str, int]] = set()
    for entry in entries:
        if entry.table_name in NAMED:
            out.add((entry.table_name, entry.row_id))
        for change in entry.changes:
            target = _target(entry.table_name, _split(entry.table_name, change.field)[1])
            for value in (change.old, change.new):
                if target and isinstance(value, int):
                    out.add((target, value))
    return out


class Words:
    def __init__(self, names: dict[tuple[str, int], str]) -> None:
        self.names = names

    def record(self, entry: Entry) -> str:
        """`account Volvo AB`, `phone of contact 12`, `sharing default` ..."""
        kind = TABLES.get(entry.table_name, entry.table_name.replace("_", " "))
        name = self.names.get((entry.table_name, entry.row_id))
        if name:
            return f"{kind} {name}"
        return f"{kind} #{entry.row_id}" if entry.row_id else kind

    def label(self, entry: Entry, field: str) -> str:
        prefix, name = _split(entry.table_name, field)
        label = LABELS.get(name) or name.removesuffix("_id").replace("_", " ").capitalize()
        return f"{prefix.capitalize()} {label}" if prefix else label

    def value(self, entry: Entry, field: str, value: Any) -> str:
        if value is None or value == {} or value == [] or value == "":
            return "—"
        if isinstance(value, bool):
            return "yes" if value else "no"
        target = _target(entry.table_name, _split(entry.table_name, field)[1])
        if target and isinstance(value, int):
            return self.names.get((target, value), f"#{value}")
        if field in ("access", "sharing") and isinstance(value, str):
            return value.replace("_", " ")
        if isinstance(value, dict):
            return ", ".join(f"{k}: {self._plain(v)}" for k, v in value.items())
        if isinstance(value, list):
            return ", ".join(self._plain(v) for v in value)
        if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
            return value[:16].replace("T", " ")  # an ISO timestamp from to_jsonb
        return str(value)

    @staticmethod
    def _plain(value: Any) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        return "—" if value is None else value if isinstance(value, str) else json.dumps(value)
