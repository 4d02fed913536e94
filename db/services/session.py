"""Who is connected: the person behind the login role, for the header and for rights."""

from __future__ import annotations

from dataclasses import dataclass

from db.connection import database


@dataclass(frozen=True)
class Me:
    username: str
    display_name: str
    role: str  # agent, rep, manager or admin; "" without an active app_user row
    team: str | None
    user_id: int | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def whoami() -> Me:
    """One query: the session user's app_user row with team name (or a bare login)."""
    cursor = database.execute_sql(
        "SELECT session_user::text, u.display_name, u.role, t.name, u.id "
        "FROM (SELECT 1) one "
        "LEFT JOIN app_user u ON u.username = session_user::text AND u.active "
        "LEFT JOIN team t ON t.id = u.team_id"
    )
    username, display_name, role, team, user_id = cursor.fetchone()
    return Me(username, display_name or username, role or "", team, user_id)
