"""The embedded workspace: one private server, a database for work and one for the demo."""

from __future__ import annotations

import psycopg2

from db import migrate
from db.bootstrap import ensure_login, os_login_name
from db.embedded import EmbeddedServer, default_home

WORK_DB = "switchboard"
DEMO_DB = "switchboard_demo"


def server() -> EmbeddedServer:
    return EmbeddedServer(default_home())


def demo_prefix(schema: str) -> str:
    """The role prefix of a new demo workspace's installation."""
    return f"{schema}_demo"


def _new_prefix(installer_dsn: str, schema: str, demo: bool) -> str | None:
    """The role prefix for a database not yet initialised (None: keep what it has).

    The two databases are two installations on one server: their roles differ, so the demo's
    people are strangers to the work database (docs/admin.md). An older workspace keeps the
    roles it has; a name taken already (a database dropped and made again) gets a `_2`.
    """
    if migrate.status(installer_dsn, schema)[0] != 0:
        return None
    conn = psycopg2.connect(installer_dsn)
    try:
        with conn.cursor() as cur:
            return migrate.free_prefix(cur, demo_prefix(schema) if demo else schema)
    finally:
        conn.close()


def prepare(schema: str, demo: bool = False, progress=print) -> str:
    """Start the private server, create and migrate the database, fill the demo on first use.

    Returns the DSN the app uses: the current OS user's admin login over the Unix socket.
    """
    srv = server()
    if not srv.initialized:
        progress(f"Creating your private Switchboard workspace in {srv.home} ...")
    srv.start()
    dbname = DEMO_DB if demo else WORK_DB
    srv.ensure_database(dbname)
    installer_dsn = srv.dsn(dbname)
    migrate.migrate(installer_dsn, schema, role_prefix=_new_prefix(installer_dsn, schema, demo))
    username = os_login_name()
    conn = psycopg2.connect(installer_dsn)
    try:
        with conn, conn.cursor() as cur:
            ensure_login(cur, schema, username, role="admin")
            cur.execute(f"SELECT EXISTS (SELECT 1 FROM {schema}.account)")
            empty = not cur.fetchone()[0]
    finally:
        conn.close()
    if demo and empty:
        from db import demo as demo_data

        progress("Filling the demo workspace with realistic data (first use only) ...")
        demo_data.load(installer_dsn, schema, scale=demo_data.DEFAULT_SCALE)
    return srv.dsn(dbname, user=username)
