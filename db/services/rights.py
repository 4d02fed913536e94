"""What the person connected may do, asked of PostgreSQL once per session.

The database enforces every right by itself; this only lets the UI dim what would be refused.
Derived from the login's group roles through has_table_privilege / has_column_privilege /
has_schema_privilege, so it can never disagree with the grants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from db.connection import database, settings

TABLES = (
    "account", "contact", "contact_phone", "contact_email", "contact_relationship",
    "opportunity", "support_case", "activity", "campaign", "campaign_member", "document",
    "team", "sharing_default", "account_share", "audit_log", "pipeline", "stage", "tag",
    "custom_field", "glossary_term",
)  # fmt: skip
# The tables delete_rows() (migration 0009) deletes from, for admins.
DELETABLE = frozenset(TABLES) - {"audit_log", "sharing_default"}
PRIVILEGES = {"read": "SELECT", "create": "INSERT", "edit": "UPDATE", "purge": "DELETE"}


@dataclass(frozen=True)
class Rights:
    role: str
    granted: frozenset[tuple[str, str]] = field(default_factory=frozenset)  # (action, table)
    admin_api: bool = False

    @property
    def is_admin(self) -> bool:
        return self.admin_api

    def can(self, action: str, table: str) -> bool:
        """action: read, create, edit, purge, reassign (edit owner), or admin (manage people)."""
        if action == "admin":
            return self.admin_api
        return (action, table) in self.granted

    def reason(self, action: str, table: str) -> str:
        """The message shown when a refused action is tried anyway."""
        who = self.role or "this login"
        noun = table.replace("_", " ")
        if action == "admin":
            return "only an admin may do that"
        verb = {"create": "create", "edit": "change", "purge": "purge", "reassign": "reassign",
                "read": "see"}.get(action, action)  # fmt: skip
        return f"a {who} may not {verb} {noun} records"


NOBODY = Rights(role="")


def load_rights() -> Rights:
    """One query: every (action, table) the session user holds."""
    schema = settings().schema
    pairs = [(action, table) for table in TABLES for action in PRIVILEGES]
    # Column grants count: a rep may UPDATE most columns of account, but not owner_id.
    # Purging is delete_rows() (migration 0009): nobody holds DELETE on a table any more.
    purge = f"has_function_privilege('{schema}.delete_rows(text, text, bigint[])', 'EXECUTE')"
    checks = ", ".join(
        f"({purge if t in DELETABLE else 'false'} AND %s IS NOT NULL)"
        if a == "purge"
        else f"has_any_column_privilege(%s, '{PRIVILEGES[a]}')"
        for a, t in pairs
    )
    sql = (
        f"SELECT {checks}, has_column_privilege(%s, 'owner_id', 'UPDATE'), "
        "(has_schema_privilege(%s, 'USAGE') AND coalesce(me.role = 'admin', false)), "
        "me.role FROM (SELECT 1) one LEFT JOIN app_user me "
        "ON me.username = session_user::text AND me.active"
    )
    params = [f"{schema}.{t}" for _, t in pairs] + [f"{schema}.account", f"{schema}_admin_api"]
    row = database.execute_sql(sql, params).fetchone()
    granted = {pair for pair, ok in zip(pairs, row[: len(pairs)], strict=True) if ok}
    if row[len(pairs)]:
        for table in ("account", "contact", "opportunity", "support_case", "campaign"):
            granted.add(("reassign", table))
    # The admin screen only for an active admin person of this installation (as check_caller).
    return Rights(role=row[-1] or "", granted=frozenset(granted), admin_api=bool(row[-2]))
