"""Apply the numbered SQL migrations in db/migrations/ under an advisory lock.

Safe to run twice and from two terminals at once: the second waits for the lock (a bounded
time, then it names the session holding it), then finds nothing to do. A database whose schema
is newer than this client is refused, never touched.

Role names: an installation's owner and group roles are `<prefix>_owner`, `<prefix>_rep`, ...
The prefix is chosen at init (default: the schema name, today's names), never an existing
role's (roles are server-wide: docs/admin.md "Two organisations on one server"), and kept in
the schema as `<schema>.role_prefix()`. Migrations write `{{roles}}_rep`; `{{schema}}_rep`
means the same (older files, and a safety net).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from importlib import resources

import psycopg2

from db.errors import SchemaError

_NAME_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_PREFIX_RE = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")
# Every role an installation creates, as `<prefix>_<suffix>`.
GROUP_SUFFIXES = (
    "owner", "agent", "rep", "manager", "admin", "user", "useradmin", "deleter", "telephony",
)
_LEGACY_ROLE_RE = re.compile(r"\{\{schema\}\}_(" + "|".join(GROUP_SUFFIXES) + r")\b")
LOCK_WAIT_S = 30.0  # how long `db migrate` waits for another migrator before naming it


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    """The migrations shipped with this client, in order."""
    found = []
    for entry in resources.files("db.migrations").iterdir():
        match = _NAME_RE.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    return found


def latest_version() -> int:
    migrations = available()
    return migrations[-1].version if migrations else 0


def render(sql: str, schema: str, roles: str | None = None) -> str:
    """The migration's text for `schema` whose roles are named `<roles>_...`."""
    sql = _LEGACY_ROLE_RE.sub(r"{{roles}}_\1", sql)
    return sql.replace("{{roles}}", roles or schema).replace("{{schema}}", schema)


def check_prefix(prefix: str) -> str:
    if not _PREFIX_RE.match(prefix or ""):
        raise SchemaError(
            f"role prefix {prefix!r}: use 1 to 40 lower-case letters, digits or '_', "
            "starting with a letter"
        )
    return prefix


def installed_prefix(cur: psycopg2.extensions.cursor, schema: str) -> str:
    """The installation's role prefix: `<schema>.role_prefix()`, else (before 0008) the schema."""
    cur.execute("SELECT to_regprocedure(%s)", (f"{schema}.role_prefix()",))
    if cur.fetchone()[0] is None:
        return schema
    cur.execute(f"SELECT {schema}.role_prefix()")
    return str(cur.fetchone()[0])


def check_roles_free(cur: psycopg2.extensions.cursor, prefix: str) -> None:
    """Refuse a new installation whose roles exist already: Switchboard never adopts a role."""
    names = [f"{prefix}_{s}" for s in GROUP_SUFFIXES]
    cur.execute(
        "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s) ORDER BY rolname", (names,)
    )
    taken = [r[0] for r in cur.fetchall()]
    if taken:
        raise SchemaError(
            f"the role {taken[0]} already exists on this server (another Switchboard "
            "installation, or made by hand): a new installation never adopts a role it did not "
            "create; choose this installation's own with --role-prefix NAME (db init, demo)"
        )


def free_prefix(cur: psycopg2.extensions.cursor, base: str) -> str:
    """`base`, else `base_2`, `base_3`...: the first prefix none of whose roles exist yet."""
    n = 1
    while True:
        prefix = base if n == 1 else f"{base[:36]}_{n}"
        cur.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname = ANY(%s)",
            ([f"{prefix}_{s}" for s in GROUP_SUFFIXES],),
        )
        if cur.fetchone()[0] == 0:
            return prefix
        n += 1


def _take_lock(cur: psycopg2.extensions.cursor, schema: str, wait_s: float) -> None:
    """The migrator's advisory lock, waited for `wait_s` at most; else name who holds it."""
    key = f"switchboard:{schema}"
    deadline = time.monotonic() + wait_s
    delay = 0.02
    while True:
        cur.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", (key,))
        if cur.fetchone()[0]:
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 0.5)
    cur.execute(
        "SELECT a.pid, a.usename, a.application_name, a.state FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.objsubid = 1 AND ((l.classid::bigint << 32) | l.objid::bigint) = "
        "(hashtext(%s)::bigint & x'ffffffffffffffff'::bigint)",
        (key,),
    )
    holders = cur.fetchall()
    who = "; ".join(
        f"pid {pid}, user {user}, application {app or '(none)'}, {state}"
        for pid, user, app, state in holders
    ) or "a session that has since ended"
    raise SchemaError(
        f"another session holds the migration lock of schema {schema} ({who}); waited "
        f"{wait_s:g} s: try again when it is done, or end it with pg_terminate_backend(pid)"
    )


def current_version(cur: psycopg2.extensions.cursor, schema: str) -> int:
    """The schema's version, 0 when it has none yet."""
    cur.execute("SELECT to_regclass(%s)", (f"{schema}.schema_migrations",))
    if cur.fetchone()[0] is None:
        return 0
    cur.execute(f"SELECT coalesce(max(version), 0) FROM {schema}.schema_migrations")
    return int(cur.fetchone()[0])


def check_compatible(version: int) -> None:
    """Raise SchemaError unless a schema at `version` is the one this client speaks."""
    latest = latest_version()
    if version == 0:
        raise SchemaError(
            "the database has no Switchboard schema: run 'switchboard db init --dsn ...' "
            "as the database owner"
        )
    if version > latest:
        raise SchemaError(
            f"the database schema is version {version}, newer than this client "
            f"(which knows up to {latest}): upgrade switchboard"
        )
    if version < latest:
        raise SchemaError(
            f"the database schema is version {version}, older than this client ({latest}): "
            "run 'switchboard db migrate'"
        )


def migrate(
    dsn: str, schema: str, role_prefix: str | None = None, lock_wait_s: float = LOCK_WAIT_S
) -> list[Migration]:
    """Apply every pending migration in one transaction; return those applied.

    `role_prefix` names a new installation's roles (default: the schema name); an existing
    installation keeps its own, and a different one asked for is refused.
    """
    conn = psycopg2.connect(dsn, application_name="switchboard migrate")
    try:
        with conn, conn.cursor() as cur:
            _take_lock(cur, schema, lock_wait_s)
            version = current_version(cur, schema)
            if version == 0:
                roles = check_prefix(role_prefix or schema)
                check_roles_free(cur, roles)
            else:
                roles = installed_prefix(cur, schema)
                if role_prefix and role_prefix != roles:
                    raise SchemaError(
                        f"schema {schema} is installed with role prefix {roles}, not "
                        f"{role_prefix}: a prefix is chosen once, at init"
                    )
            latest = latest_version()
            if version > latest:
                raise SchemaError(
                    f"the database schema is version {version}, newer than this client "
                    f"(which knows up to {latest}): refusing to touch it; upgrade switchboard"
                )
            applied = []
            for migration in available():
                if migration.version <= version:
                    continue
                cur.execute("RESET ROLE; RESET search_path")
                cur.execute(render(migration.sql, schema, roles))
                cur.execute(
                    f"INSERT INTO {schema}.schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
                applied.append(migration)
            cur.execute("RESET ROLE; RESET search_path")
        return applied
    finally:
        conn.close()


def status(dsn: str, schema: str) -> tuple[int, int]:
    """(version of the database's schema, latest version this client knows)."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            return current_version(cur, schema), latest_version()
    finally:
        conn.close()
