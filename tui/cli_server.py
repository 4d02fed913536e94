"""`switchboard server start|stop|status`: the private PostgreSQL server, and what to
connect to (each database it holds, with a DSN, and how logging in works there)."""

from __future__ import annotations

import argparse

from tui.cli_common import say, with_connect_timeout


def cmd_server(args: argparse.Namespace) -> int:
    from db import workspace

    srv = workspace.server()
    if args.action == "start":
        srv.start()
        say(f"server {srv.status()}")
    elif args.action == "stop":
        say("server stopped" if srv.stop() else "server was not running")
    else:
        say(f"server {srv.status()}")
    if args.action != "stop" and srv.running():
        _print_connect_to(srv)
    return 0


def _print_connect_to(srv) -> None:  # noqa: ANN001  (db.embedded.EmbeddedServer: lazy import)
    """What to connect to: each database of the private server and a DSN for it."""
    import psycopg2

    from db import workspace
    from db.bootstrap import os_login_name

    conn = psycopg2.connect(with_connect_timeout(srv.dsn()))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT datname FROM pg_database WHERE datname = ANY (%s) ORDER BY 1",
                        ([workspace.WORK_DB, workspace.DEMO_DB],))  # fmt: skip
            present = {row[0] for row in cur.fetchall()}
    finally:
        conn.close()
    uses = {workspace.WORK_DB: "switchboard, db ..., user ... (without --demo)",
            workspace.DEMO_DB: "switchboard --demo (and --demo before db or user)"}  # fmt: skip
    for name in (workspace.WORK_DB, workspace.DEMO_DB):
        if name in present:
            say(f"database {name}: {uses[name]}")
            say(f"  --dsn \"{srv.dsn(name, user=os_login_name())}\"")
    say("every local connection is trusted (no password): user=NAME logs in as that person")
