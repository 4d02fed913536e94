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


POWERS = ("rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication", "rolbypassrls")
_POWER_NAMES = ("SUPERUSER", "CREATEROLE", "CREATEDB", "REPLICATION", "BYPASSRLS")


def login_powers(cur: psycopg2.extensions.cursor, username: str) -> list[str]:
    """What makes an existing login more than a person: attributes and pg_* roles it holds."""
    cur.execute(
        f"SELECT {', '.join(POWERS)}, ARRAY(SELECT g.rolname::text FROM pg_roles g "
        "WHERE g.rolname LIKE 'pg\\_%%' AND pg_has_role(r.oid, g.oid, 'MEMBER') "
        "ORDER BY g.rolname) FROM pg_roles r WHERE r.rolname = %s",
        (username,),
    )
    row = cur.fetchone()
    if row is None:
        return []
    return [n for n, on in zip(_POWER_NAMES, row[:-1], strict=True) if on] + list(row[-1])


def is_own_login(cur: psycopg2.extensions.cursor, prefix: str, username: str) -> bool:
    """Does the existing login belong to the installation with role prefix `prefix` alone?

    True when it is a member of this installation's group roles and of nothing else, and holds
    no power (the test the admin API applies, migration 0008).
    """
    groups = [f"{prefix}_{r}" for r in ("agent", "rep", "manager", "admin")]
    cur.execute(
        "SELECT array_agg(g.rolname::text) FROM pg_auth_members m "
        "JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member "
        "WHERE r.rolname = %s",
        (username,),
    )
    member_of = set(cur.fetchone()[0] or [])
    return bool(member_of) and member_of <= set(groups) and not login_powers(cur, username)


def ensure_login(
    cur: psycopg2.extensions.cursor,
    schema: str,
    username: str,
    role: str = "admin",
    display_name: str | None = None,
    password_verifier: str | None = None,
    allow_privileged: bool = False,
) -> bool:
    """Create login role `username` in this installation's group `role` with an app_user row.

    Returns True when the person was created. `password_verifier` is a SCRAM verifier made on
    the client (never a plaintext password). Runs as the installer (a superuser): a new login
    is made by the admin API function create_user, so it is created by `<prefix>_useradmin`
    exactly like every later user (on PostgreSQL 16+ that role then manages it). A login role
    that already exists (made outside Switchboard, or a person of another installation) is
    adopted: granted the group, given a row. One that holds power (SUPERUSER, CREATEROLE,
    CREATEDB, REPLICATION, BYPASSRLS, a pg_* role) is refused unless `allow_privileged`: its
    holder would get this installation's admin rights on top of a DBA's.
    """
    from db.migrate import installed_prefix

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
    powers = login_powers(cur, username)
    if powers and not allow_privileged:
        raise ValidationError(
            "admin",
            f"the existing login {username} holds {', '.join(powers)}: as a person of this "
            "installation it would keep a DBA's powers (and the admin API could not manage it); "
            "pick another login, or pass --allow-privileged-admin if that is what you want",
        )
    prefix = installed_prefix(cur, schema)
    if password_verifier:
        cur.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(username), sql.Literal(password_verifier)
            )
        )
    if not powers:
        cur.execute(
            sql.SQL("SELECT {}.set_login_defaults(%s)").format(
                sql.Identifier(f"{schema}_admin_api")
            ),
            (username,),
        )
    cur.execute(
        sql.SQL("GRANT {} TO {}").format(
            sql.Identifier(f"{prefix}_{role}"), sql.Identifier(username)
        )
    )
    cur.execute(
        sql.SQL(
            "INSERT INTO {}.app_user (username, display_name, role) VALUES (%s, %s, %s) "
            "ON CONFLICT (username) DO NOTHING RETURNING id"
        ).format(sql.Identifier(schema)),
        (username, display_name or username, role),
    )
    return cur.fetchone() is not None
