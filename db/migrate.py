"""Apply the numbered SQL migrations in db/migrations/ under an advisory lock.

Safe to run twice and from two terminals at once: the second waits for the lock, then finds
nothing to do. A database whose schema is newer than this client is refused, never touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import psycopg2

from db.errors import SchemaError

_NAME_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


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


def render(sql: str, schema: str) -> str:
    return sql.replace("{{schema}}", schema)


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


def migrate(dsn: str, schema: str) -> list[Migration]:
    """Apply every pending migration in one transaction; return those applied."""
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"switchboard:{schema}",))
            version = current_version(cur, schema)
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
                cur.execute(render(migration.sql, schema))
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
