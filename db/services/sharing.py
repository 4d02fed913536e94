"""Teams (a hierarchy with managers), sharing defaults per object type, account shares.

Admin-only: the database grants writes on team, sharing_default and account_share to the
admin group alone, and every change is audited by the tables' triggers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import peewee
import psycopg2

from db.connection import database
from db.errors import ValidationError
from db.services._pgerrors import translate

ACCESS = ("public_read_write", "public_read", "private")
OBJECT_TYPES = ("account", "contact", "opportunity", "activity", "support_case", "campaign")
MAX_TEAMS = 1000  # teams are few; the cap keeps a runaway table off the screen


@dataclass(frozen=True)
class Team:
    id: int
    name: str
    parent_id: int | None
    manager_id: int | None
    manager: str | None
    sharing: str | None
    depth: int


@dataclass(frozen=True)
class Share:
    id: int
    account_id: int
    user_id: int | None
    team_id: int | None
    who: str
    access: str


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except (psycopg2.Error, peewee.DatabaseError) as exc:
        raise translate(exc) from exc


def list_teams() -> list[Team]:
    """Every team in hierarchy order (parents before children), with its depth."""
    rows = database.execute_sql(
        "WITH RECURSIVE tree AS ("
        "  SELECT t.id, t.name, t.parent_id, t.manager_id, t.sharing, 0 AS depth,"
        "         ARRAY[lower(t.name), t.id::text] AS path"
        "  FROM team t WHERE t.parent_id IS NULL AND t.deleted_at IS NULL"
        "  UNION ALL"
        "  SELECT c.id, c.name, c.parent_id, c.manager_id, c.sharing, tree.depth + 1,"
        "         tree.path || ARRAY[lower(c.name), c.id::text]"
        "  FROM team c JOIN tree ON c.parent_id = tree.id WHERE c.deleted_at IS NULL"
        ") SELECT tree.id, tree.name, tree.parent_id, tree.manager_id, u.display_name,"
        "  tree.sharing, tree.depth FROM tree LEFT JOIN app_user u ON u.id = tree.manager_id"
        " ORDER BY tree.path LIMIT %s",
        (MAX_TEAMS,),
    ).fetchall()
    return [Team(*r) for r in rows]


def _check_sharing(sharing: str | None) -> None:
    if sharing is not None and sharing not in ACCESS:
        raise ValidationError("sharing", f"must be one of {', '.join(ACCESS)} or empty")


def save_team(
    name: str,
    parent_id: int | None = None,
    manager_id: int | None = None,
    sharing: str | None = None,
    team_id: int | None = None,
) -> int:
    """Create a team (team_id None) or change one; returns its id."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 200:
        raise ValidationError("name", "give a team name of 1 to 200 characters")
    _check_sharing(sharing)
    if team_id is not None and parent_id == team_id:
        raise ValidationError("parent", "a team cannot be its own parent")
    with _translated(), database.atomic():
        if team_id is None:
            cur = database.execute_sql(
                "INSERT INTO team (name, parent_id, manager_id, sharing) "
                "VALUES (%s, %s, %s, %s) RETURNING id",
                (name, parent_id, manager_id, sharing),
            )
            return int(cur.fetchone()[0])
        if parent_id is not None:
            cycle = database.execute_sql(
                "WITH RECURSIVE up AS (SELECT id, parent_id FROM team WHERE id = %s "
                "UNION SELECT t.id, t.parent_id FROM team t JOIN up ON t.id = up.parent_id) "
                "SELECT 1 FROM up WHERE id = %s",
                (parent_id, team_id),
            ).fetchall()
            if cycle:
                raise ValidationError("parent", "a team cannot sit under one of its sub-teams")
        database.execute_sql(
            "UPDATE team SET name = %s, parent_id = %s, manager_id = %s, sharing = %s "
            "WHERE id = %s",
            (name, parent_id, manager_id, sharing, team_id),
        )
        return team_id


def sharing_defaults() -> dict[str, str]:
    rows = database.execute_sql("SELECT object_type, access FROM sharing_default").fetchall()
    return dict(rows)


def set_sharing_default(object_type: str, access: str) -> None:
    if object_type not in OBJECT_TYPES:
        raise ValidationError("object_type", f"must be one of {', '.join(OBJECT_TYPES)}")
    if access not in ACCESS:
        raise ValidationError("access", f"must be one of {', '.join(ACCESS)}")
    with _translated(), database.atomic():
        cur = database.execute_sql(
            "UPDATE sharing_default SET access = %s WHERE object_type = %s",
            (access, object_type),
        )
        if cur.rowcount != 1:
            from db.errors import PermissionDenied

            raise PermissionDenied("only an admin may change the sharing defaults")


def list_shares(account_id: int, limit: int = 200) -> list[Share]:
    rows = database.execute_sql(
        "SELECT s.id, s.account_id, s.user_id, s.team_id, "
        "coalesce(u.display_name || ' (' || u.username || ')', 'team ' || t.name), s.access "
        "FROM account_share s LEFT JOIN app_user u ON u.id = s.user_id "
        "LEFT JOIN team t ON t.id = s.team_id WHERE s.account_id = %s ORDER BY s.id LIMIT %s",
        (account_id, limit),
    ).fetchall()
    return [Share(*r) for r in rows]


def add_share(
    account_id: int, user_id: int | None = None, team_id: int | None = None, access: str = "read"
) -> int:
    if (user_id is None) == (team_id is None):
        raise ValidationError("with", "share with exactly one person or one team")
    if access not in ("read", "write"):
        raise ValidationError("access", "must be read or write")
    with _translated(), database.atomic():
        cur = database.execute_sql(
            "INSERT INTO account_share (account_id, user_id, team_id, access) "
            "VALUES (%s, %s, %s, %s) RETURNING id",
            (account_id, user_id, team_id, access),
        )
        return int(cur.fetchone()[0])


def remove_share(share_id: int) -> None:
    with _translated(), database.atomic():
        # Admins hold no DELETE privilege (it would allow LOCK TABLE): migration 0009.
        database.execute_sql("SELECT delete_rows('account_share', 'id', %s)", ([share_id],))
