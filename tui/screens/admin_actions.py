"""What the admin screen's keys do: the forms for users, teams, sharing defaults, shares and
the audit filter. Mixed into AdminScreen (tui/screens/admin.py), whose `_open`, `_run`,
`load` and tables these use."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from textual.widgets import DataTable

from db.errors import ValidationError
from db.services import sharing, users
from tui.rights import refused
from tui.screens.admin_form import AdminForm, Field
from tui.text import safe_markup

ROLE_OPTIONS = [(r, r) for r in users.ROLES]
ACCESS_OPTIONS = [(a.replace("_", " "), a) for a in sharing.ACCESS]
# The admin API's own rules (0002 create_user), checked before "Create this user?" is asked.
USERNAME = re.compile(r"^[a-z_][a-z0-9_.-]{0,62}$")
USERNAME_RULE = "use 1 to 63 lower-case letters, digits, '_', '.' or '-', starting with a letter"


def check_passwords(v: dict) -> None:
    if (v["password"] or "") != (v["again"] or ""):
        raise ValidationError("again", "the two passwords differ")
    if v["password"]:
        users.check_password(v["password"])


def check_new_user(v: dict) -> None:
    if not USERNAME.match((v["username"] or "").strip()):
        raise ValidationError("username", USERNAME_RULE)
    if not (v["display_name"] or "").strip():
        raise ValidationError("display_name", "give a name of 1 to 200 characters")
    check_passwords(v)


class AdminActions:
    """Needs the AdminScreen it is mixed into (tables, `load`, `_open`, `_run`)."""

    # -- users -----------------------------------------------------------------------------
    def action_new(self) -> None:
        if refused(self.app, "admin", ""):
            return
        self._load_teams_then("new_user" if self.section == "users" else "new_team")

    def _form_new_user(self) -> None:
        def save(v: dict) -> int:
            check_passwords(v)
            return users.create_user(v["username"] or "", v["display_name"] or "",
                                     v["role"] or "rep", int(v["team"]) if v["team"] else None,
                                     v["email"] or None, v["password"] or None)  # fmt: skip

        self._open(AdminForm("New user", [
            Field("username", "User name (their database login)"),
            Field("display_name", "Name"),
            Field("role", "Role", "rep", options=ROLE_OPTIONS),
            Field("team", "Team", options=self._team_options()),
            Field("email", "Email"),
            Field("password", "Password (empty: peer or certificate login)", password=True),
            Field("again", "Password again", password=True),
        ], save, confirm="Create this user?", check=check_new_user), "users")  # fmt: skip

    def action_edit(self) -> None:
        if self.section == "users":
            u = self._selected_user()
            if u is None:
                return
            self._open(AdminForm(f"Edit {u.username}", [
                Field("display_name", "Name", u.display_name),
                Field("email", "Email", u.email or ""),
            ], lambda v: users.update_user(u.username, v["display_name"] or "", v["email"]),
                confirm=f"Save changes to {u.username}?"), "users")  # fmt: skip
        elif self.section == "teams":
            self._load_teams_then("edit_team")
        elif self.section == "sharing":
            self._form_default()

    def action_password(self) -> None:
        u = self._selected_user()
        if u is None:
            return

        def save(v: dict) -> None:
            check_passwords(v)
            users.set_password(u.username, v["password"] or "")

        self._open(AdminForm(f"New password for {u.username}", [
            Field("password", "Password", password=True),
            Field("again", "Password again", password=True),
        ], save, confirm=f"Reset the password of {u.username}?", check=check_passwords),
            "users")  # fmt: skip

    def action_toggle_active(self) -> None:
        u = self._selected_user()
        if u is None:
            return
        from tui.screens.confirm import ConfirmModal

        verb = "Disable" if u.active else "Re-enable"
        question = safe_markup(f"{verb} [b]$name[/b]? " + (
            "Their open sessions end now." if u.active else ""), name=u.username)  # fmt: skip

        def answered(yes: bool | None) -> None:
            if yes:
                self._run(users.disable_user if u.active else users.enable_user, u.username)

        self.app.push_screen(ConfirmModal(question), answered)

    def action_role(self) -> None:
        u = self._selected_user()
        if u is None:
            return
        self._open(AdminForm(f"Role of {u.username}", [
            Field("role", "Role", u.role, options=ROLE_OPTIONS),
        ], lambda v: users.set_role(u.username, v["role"] or ""),
            confirm=f"Change the role of {u.username}?"), "users")  # fmt: skip

    def action_team(self) -> None:
        if self._selected_user() is not None:
            self._load_teams_then("user_team")

    def _form_user_team(self) -> None:
        u = self._selected_user()
        if u is None:
            return
        self._open(AdminForm(f"Team of {u.username}", [
            Field("team", "Team", str(u.team_id or ""), options=self._team_options()),
        ], lambda v: users.set_team(u.username, int(v["team"]) if v["team"] else None),
            confirm=f"Move {u.username}?"), "users")  # fmt: skip

    # -- teams -----------------------------------------------------------------------------
    def _team_form(self, team: sharing.Team | None) -> None:
        people = [(f"{u.display_name} ({u.username})", str(u.id)) for u in self.user_rows]

        def save(v: dict) -> int:
            manager = v["manager"] or None
            return sharing.save_team(v["name"] or "", int(v["parent"]) if v["parent"] else None,
                                     int(manager) if manager else None, v["sharing"] or None,
                                     team.id if team else None)  # fmt: skip

        self._open(AdminForm("New team" if team is None else f"Edit team {team.name}", [
            Field("name", "Name", team.name if team else ""),
            Field("parent", "Part of", str(team.parent_id or "") if team else "",
                  options=self._team_options()),
            Field("manager", "Manager", str(team.manager_id or "") if team else "", options=people),
            Field("sharing", "Sharing override (empty: organisation default)",
                  (team.sharing or "") if team else "", options=ACCESS_OPTIONS),
        ], save, confirm="Save this team?"), "teams")  # fmt: skip

    def _form_new_team(self) -> None:
        self._team_form(None)

    def _form_edit_team(self) -> None:
        table = self.query_one("#teams-table", DataTable)
        if not self.teams:
            self.app.notify("no team yet: n creates one", severity="warning")
            return
        self._team_form(self.teams[min(max(table.cursor_row, 0), len(self.teams) - 1)])

    # -- sharing ---------------------------------------------------------------------------
    def _form_default(self) -> None:
        table = self.query_one("#defaults-table", DataTable)
        obj = sharing.OBJECT_TYPES[min(max(table.cursor_row, 0), len(sharing.OBJECT_TYPES) - 1)]
        self._open(AdminForm(f"Default access to {obj} records", [
            Field("access", "Access", self.defaults.get(obj, ""), options=ACCESS_OPTIONS),
        ], lambda v: sharing.set_sharing_default(obj, v["access"] or ""),
            confirm=f"Change who sees {obj} records?"), "sharing")  # fmt: skip

    def action_filter(self) -> None:
        if self.section == "sharing":
            def pick(v: dict) -> int:
                from db.errors import ValidationError

                try:
                    return int(v["account"] or "")
                except ValueError:
                    raise ValidationError("account", "give the account's number") from None

            def done(result: Any) -> None:
                if isinstance(result, int):
                    self.share_account = result
                    self.load("sharing")

            self.app.push_screen(AdminForm("Shares of account", [
                Field("account", "Account number", str(self.share_account or "")),
            ], pick), done)  # fmt: skip
            return

        def parse(v: dict) -> dict:
            from db.errors import ValidationError

            out: dict[str, Any] = {"actor": v["actor"] or None, "table": v["table"] or None}
            for key in ("since", "until"):
                if v[key]:
                    try:
                        out[key] = datetime.fromisoformat(v[key])
                    except ValueError:
                        raise ValidationError(key, "use YYYY-MM-DD or YYYY-MM-DD HH:MM") from None
            return out

        def done(result: Any) -> None:
            if isinstance(result, dict):
                self.audit_filter = result
                self.load("audit")

        f = self.audit_filter
        self.app.push_screen(AdminForm("Filter the audit log", [
            Field("actor", "Person (login)", f.get("actor") or ""),
            Field("table", "Table", f.get("table") or ""),
            Field("since", "From (YYYY-MM-DD)", str(f.get("since") or "")),
            Field("until", "Before (YYYY-MM-DD)", str(f.get("until") or "")),
        ], parse), done)  # fmt: skip

    def action_share(self) -> None:
        account = self.share_account
        if account is None:
            return

        def save(v: dict) -> int:
            from db.errors import ValidationError

            who = (v["with"] or "").strip()
            if not who:
                raise ValidationError("with", "give a user name or a team name")
            if v["kind"] == "team":
                return sharing.add_share(account, team_id=users.team_id_by_name(who),
                                         access=v["access"] or "read")  # fmt: skip
            return sharing.add_share(account, user_id=users.get_user(who).id,
                                     access=v["access"] or "read")  # fmt: skip

        self._open(AdminForm(f"Share account #{account}", [
            Field("kind", "With a", "user", options=[("person", "user"), ("team", "team")]),
            Field("with", "User name or team name", aliases=["team", "username"]),
            Field("access", "Access", "read", options=[("read", "read"), ("write", "write")]),
        ], save, confirm="Share this account?"), "sharing")  # fmt: skip
