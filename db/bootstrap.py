"""First logins: the admin login that `db init` and the embedded workspace create.

The login role owns nothing and inherits its rights from the admin group role; the app_user
row ties the person to the role (DESIGN.md section 4).
"""

from __future__ import annotations

import getpass
import re

import psycopg2
from psycopg2 import sql

from db.errors import ValidationError

_ROLE_RE = re.compile(r"^[a-z_][a-z0-9_.-]{0,62}$")


def os_login_name() -> str:
    """The current OS user as a valid login role name (lower-case, safe characters)."""
    name = re.sub(r"[^a-z0-9_.-]", "_", getpass.getuser().lower()) or "user"
    if not re.match(r"^[a-z_]", name):
        name = "u_" + name
    return name[:63]


def check_username(username: str) -> str:
    if not _ROLE_RE.match(username or ""):
        raise ValidationError(
            "username",
            "use 1 to 63 lower-case letters, digits, '_', '.' or '-', starting with a letter",
        )
    return username


def ensure_login(
    cur: psycopg2.extensions.cursor,
    schema: str,
    username: str,
    role: str = "admin",
    display_name: str | None = None,
    password_verifier: str | None = None,
) -> bool:
    """Create login role `username` in group `<schema>_<role>` with an app_user row if missing.

    Returns True when the person was created. `password_verifier` is a SCRAM verifier made on
    the client (never a plaintext password). Runs as the installer (a superuser): a new login
    is made by the admin API function create_user, so it is created by `<schema>_useradmin`
    exactly like every later user (on PostgreSQL 16+ that role then manages it). A login role
    that already exists (made outside Switchboard) is adopted: granted the group, given a row.
    """
    check_username(username)
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (username,))
    role_exists = cur.fetchone() is not None
    cur.execute(
        sql.SQL("SELECT 1 FROM {}.app_user WHERE username = %s").format(sql.Identifier(schema)),
        (username,),
    )
    if cur.fetchone() is not None:
        return False
    if not role_exists:
        cur.execute(
            sql.SQL("SELECT {}.create_user(%s, %s, %s, NULL, NULL, %s)").format(
                sql.Identifier(f"{schema}_admin_api")
            ),
            (username, display_name or username, role, password_verifier),
        )
        return True
    group = sql.Identifier(f"{schema}_{role}")
    if password_verifier:
        cur.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(username), sql.Literal(password_verifier)
            )
        )
    cur.execute(sql.SQL("GRANT {} TO {}").format(group, sql.Identifier(username)))
    cur.execute(
        sql.SQL(
            "INSERT INTO {}.app_user (username, display_name, role) VALUES (%s, %s, %s) "
            "ON CONFLICT (username) DO NOTHING RETURNING id"
        ).format(sql.Identifier(schema)),
        (username, display_name or username, role),
    )
    return cur.fetchone() is not None
