"""Admin (key 0, admins only): users, teams, sharing defaults and shares, the audit log.

Every change goes through db/services (the admin API or admin-only grants), asks for
confirmation, reports errors by field and is audited by the database's triggers.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import ContentSwitcher, DataTable, Static

from db.connection import database
from db.services import history, names, sharing, users
from tui.audit_words import Words, wanted
from tui.messages import RecordsChanged
from tui.rights import refused
from tui.screens.admin_actions import AdminActions
from tui.screens.admin_form import AdminForm
from tui.screens.base import BaseScreen
from tui.screens.history import AUDIT_COLUMNS, entry_rows
from tui.text import cell, safe_markup
from tui.widgets.fitted_table import FittedTable

SECTIONS = {"users": "Users", "teams": "Teams", "sharing": "Sharing", "audit": "Audit"}


class Loaded(Message):
    def __init__(self, section: str, data: Any, append: bool = False) -> None:
        super().__init__()
        self.section, self.data, self.append = section, data, append


TABLE_OF = {"users": "#users-table", "teams": "#teams-table", "sharing": "#defaults-table",
            "audit": "#audit-table"}  # fmt: skip


class AdminScreen(AdminActions, BaseScreen):
    DEFAULT_CSS = """
    AdminScreen #admin-title { height: 1; padding: 0 1; text-style: bold; }
    AdminScreen ContentSwitcher { height: 1fr; }
    AdminScreen DataTable { height: 1fr; }
    AdminScreen .admin-note { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("u", "section('users')", "Users", tooltip="People and logins", id="admin-users"),
        Binding("t", "section('teams')", "Teams", tooltip="Teams and managers", id="admin-teams"),
        Binding("s", "section('sharing')", "Sharing", tooltip="Defaults and shares",
                id="admin-sharing"),
        Binding("a", "section('audit')", "Audit", tooltip="Who changed what", id="admin-audit"),
        Binding("n", "new", "New", tooltip="New user or team", id="admin-new"),
        Binding("e", "edit", "Edit", tooltip="Edit the selected row", id="admin-edit"),
        Binding("p", "password", "Password", tooltip="Reset the password", id="admin-password"),
        Binding("d", "toggle_active", "Disable/enable", tooltip="Disable or re-enable the login",
                id="admin-disable"),
        Binding("r", "role", "Role", tooltip="Change role", id="admin-role"),
        Binding("g", "team", "Team", tooltip="Change team", id="admin-team"),
        Binding("f", "filter", "Filter", tooltip="Filter the audit log / pick an account",
                id="admin-filter"),
        Binding("plus", "share", "Share", tooltip="Share an account", id="admin-share"),
        Binding("m", "more", "More", tooltip="Load the next page", id="admin-more"),
        Binding("k", "stages", "Stages", tooltip="Pipelines and their stages", id="admin-stages"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.refreshing: str | None = None  # the section being re-read after a change
        self.section = "users"
        self.user_rows: list[users.User] = []
        self.users_after: str | None = None
        self.teams: list[sharing.Team] = []
        self.defaults: dict[str, str] = {}
        self.share_account: int | None = None
        self.shares: list[sharing.Share] = []
        self.audit_filter: dict[str, Any] = {}
        self.audit_before: history.Cursor | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("Admin › Users", id="admin-title")
        with ContentSwitcher(initial="users"):
            with Vertical(id="users"):
                yield DataTable(id="users-table", cursor_type="row")
                yield Static("", classes="admin-note", id="users-note")
            with Vertical(id="teams"):
                yield DataTable(id="teams-table", cursor_type="row")
            with Vertical(id="sharing"):
                yield DataTable(id="defaults-table", cursor_type="row")
                yield Static("", classes="admin-note", id="shares-note")
                yield DataTable(id="shares-table", cursor_type="row")
            with Vertical(id="audit"):
                yield Static("", classes="admin-note", id="audit-note")
                yield FittedTable(AUDIT_COLUMNS, id="audit-table")

    def on_mount(self) -> None:
        super().on_mount()
        # Fixed widths that fit 80 columns: tables filled while their tab is hidden never
        # re-measure auto-width columns (they stayed as wide as their headers).
        widths = {
            "#users-table": (("user", 14), ("name", 22), ("role", 8), ("team", 14), ("state", 8)),
            "#teams-table": (("team", 28), ("manager", 22), ("sharing", 20)),
            "#defaults-table": (("object", 16), ("default access", 20)),
            "#shares-table": (("shared with", 44), ("access", 8)),
        }  # fmt: skip
        for table_id, columns in widths.items():
            table = self.query_one(table_id, DataTable)
            for label, width in columns:
                table.add_column(label, width=width)
        if refused(self.app, "admin", ""):
            return
        self.load("users")

    # -- availability ----------------------------------------------------------------------
    ACTIONS_BY_SECTION = {
        "new": {"users", "teams"}, "edit": {"users", "teams", "sharing"},
        "password": {"users"}, "toggle_active": {"users"}, "role": {"users"}, "team": {"users"},
        "filter": {"audit", "sharing"}, "share": {"sharing"}, "more": {"users", "audit"},
    }  # fmt: skip

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        sections = self.ACTIONS_BY_SECTION.get(action)
        if sections is None:
            return True
        if self.section not in sections:
            return False
        if action == "share" and self.share_account is None:
            return None
        return True

    def action_section(self, section: str) -> None:
        self.section = section
        self.query_one(ContentSwitcher).current = section
        self.query_one("#admin-title", Static).update(f"Admin › {SECTIONS[section]}")
        self.refresh_bindings()
        self.load(section)
        table_id = {"users": "#users-table", "teams": "#teams-table",
                    "sharing": "#defaults-table", "audit": "#audit-table"}[section]  # fmt: skip
        self.query_one(table_id, DataTable).focus()

    # -- loading ---------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="admin-load")
    def load(self, section: str, more: bool = False) -> None:
        with database.connection_context():
            if section == "users":
                data: Any = users.list_users(after=self.users_after if more else None)
            elif section == "teams":
                data = sharing.list_teams()
            elif section == "sharing":
                shares = sharing.list_shares(self.share_account) if self.share_account else []
                data = (sharing.sharing_defaults(), shares)
            else:
                page = history.audit(before=self.audit_before if more else None,
                                     **self.audit_filter)  # fmt: skip
                data = (page, names.names(wanted(page.entries)))
        self.post_message(Loaded(section, data, more))

    # What each section shows; the audit log shows every change.
    LIVE_TABLES = {"users": ("app_user", "team"), "teams": ("team", "app_user"),
                   "sharing": ("sharing_default", "account_share", "team", "app_user")}  # fmt: skip

    def on_records_changed(self, message: RecordsChanged) -> None:
        tables = self.LIVE_TABLES.get(self.section)
        changes = message.changes
        if changes.everything or tables is None or changes.touches(tables):
            if tables is None and not (changes.everything or changes.ids):
                return
            self.refreshing = self.section
            self.load(self.section)

    def on_loaded(self, message: Loaded) -> None:
        table = self.query_one(TABLE_OF[message.section], DataTable) if (
            message.section in TABLE_OF) else None  # fmt: skip
        keep = None
        if table is not None and self.refreshing == message.section:
            keep = (table.cursor_row, table.scroll_y)
            self.refreshing = None
        getattr(self, f"_show_{message.section}")(message.data, message.append)
        if keep is not None and table is not None and table.row_count:
            table.move_cursor(row=min(keep[0], table.row_count - 1), animate=False)
            table.scroll_to(y=keep[1], animate=False, immediate=True)
        self.refresh_bindings()

    def _show_users(self, page: users.UserPage, append: bool) -> None:
        table = self.query_one("#users-table", DataTable)
        if not append:
            table.clear()
            self.user_rows = []
        for u in page.users:
            table.add_row(cell(u.username, 14), cell(u.display_name, 22), cell(u.role, 8),
                          cell(u.team or "—", 14), cell("active" if u.active else "disabled"))
        self.user_rows += page.users
        self.users_after = page.next_after
        more = " · m: more" if page.next_after else ""
        self.query_one("#users-note", Static).update(
            f"{len(self.user_rows)} shown{more} · n new e edit p password d disable r role g team"
        )

    def _show_teams(self, teams: list[sharing.Team], append: bool) -> None:
        table = self.query_one("#teams-table", DataTable)
        table.clear()
        self.teams = teams
        for t in teams:
            table.add_row(cell("  " * t.depth + t.name, 28), cell(t.manager or "—", 22),
                          cell((t.sharing or "organisation default").replace("_", " "), 20))

    def _show_sharing(self, data: tuple[dict[str, str], list[sharing.Share]], append: bool) -> None:
        self.defaults, self.shares = data
        table = self.query_one("#defaults-table", DataTable)
        table.clear()
        for obj in sharing.OBJECT_TYPES:
            table.add_row(cell(obj, 16), cell(self.defaults.get(obj, "").replace("_", " "), 20))
        note = (f"shares of account #{self.share_account} · + share" if self.share_account
                else "f: pick an account to see and add its shares")  # fmt: skip
        self.query_one("#shares-note", Static).update(note)
        shares = self.query_one("#shares-table", DataTable)
        shares.clear()
        for s in self.shares:
            shares.add_row(cell(s.who, 44), cell(s.access, 8))

    def _show_audit(self, data: tuple[history.Page, dict], append: bool) -> None:
        page, found = data
        words = Words(found)
        rows = [r for entry in page.entries for r in entry_rows(entry, words, with_record=True)]
        self.query_one("#audit-table", FittedTable).set_rows(rows, append=append)
        self.audit_before = page.next_before
        f = self.audit_filter
        desc = ", ".join(f"{k}={v}" for k, v in f.items() if v) or "everything"
        self.query_one("#audit-note", Static).update(
            safe_markup("filter: $desc · f filter · m more", desc=desc)
        )

    def action_stages(self) -> None:
        from tui.screens.admin_stages import StagesScreen

        self.app.push_screen(StagesScreen())

    def action_more(self) -> None:
        if self.section == "users" and self.users_after:
            self.load("users", more=True)
        elif self.section == "audit" and self.audit_before:
            self.load("audit", more=True)

    # -- helpers ---------------------------------------------------------------------------
    def _selected_user(self) -> users.User | None:
        table = self.query_one("#users-table", DataTable)
        if not self.user_rows or table.cursor_row < 0:
            self.app.notify("select a person first", severity="warning")
            return None
        return self.user_rows[min(table.cursor_row, len(self.user_rows) - 1)]

    def _team_options(self) -> list[tuple[str, str]]:
        return [("  " * t.depth + t.name, str(t.id)) for t in self.teams]

    def _open(self, form: AdminForm, reload: str) -> None:
        def done(result: Any) -> None:
            if result is not None:
                self.app.notify("saved", markup=False)
                self.load(reload)

        self.app.push_screen(form, done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="admin-teams-for-form")
    def _load_teams_then(self, then: str) -> None:
        with database.connection_context():
            teams = sharing.list_teams()
        self.post_message(Loaded("teams_form", (teams, then)))

    def _show_teams_form(self, data: tuple[list[sharing.Team], str], append: bool) -> None:
        self.teams, then = data
        getattr(self, f"_form_{then}")()

    @work(thread=True, exclusive=True, exit_on_error=False, group="admin-action")
    def _run(self, fn, *args: Any) -> None:
        with database.connection_context():
            fn(*args)
        self.post_message(Loaded("done", self.section))

    def _show_done(self, section: str, append: bool) -> None:
        self.app.notify("done", markup=False)
        self.load(section)
