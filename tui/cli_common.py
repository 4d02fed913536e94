"""What every `switchboard` command shares: cleaned output, the connect timeout, where."""

from __future__ import annotations


def say(text: str) -> None:
    """Print one line cleaned as the screens clean database values (tui/text.py): nothing a
    value holds (escapes, C1 controls, bidi overrides) reaches the terminal."""
    from tui.text import clean

    print(clean(text, limit=100_000, single_line=True))


def with_connect_timeout(dsn: str) -> str:
    """`dsn` with the app's connect timeout unless it sets its own: a server that accepts and
    never answers costs the CLI seconds, not forever (libpq's default is to wait)."""
    from psycopg2.extensions import make_dsn, parse_dsn

    from db import connection

    params = parse_dsn(dsn)
    if "connect_timeout" in params:
        return dsn
    return make_dsn(dsn, connect_timeout=connection.CONNECT_TIMEOUT_S)


def where(dsn: str) -> str:
    """'database X on HOST' for a DSN, so a person sees which database a command looked at."""
    from psycopg2.extensions import parse_dsn

    params = parse_dsn(dsn)
    host = params.get("host") or "the local socket"
    return f"database {params.get('dbname', '(default)')} on {host}"
