"""Server-side prepared statements for the hottest queries.

Under row-level security a query is planned with every policy of every table it reads, nested:
a timeline page reads activity, account, contact and app_user, whose policies read account,
account_share and contact again. Planning that costs 1.5-4 ms, as much as running it. A prepared
statement is planned once per connection (after five runs PostgreSQL keeps a generic plan when
it is no worse), so later pages and later visits pay only for execution. docs/performance.md
has the figures.

`execute(sql, params)` takes the same `%(name)s` SQL as `database.execute_sql` and returns its
cursor. Statements are named after a hash of their text and prepared lazily on each pooled
connection; PREPARE outlives transactions (it is not rolled back), so the registry is per
connection object and goes with it. A plan made stale by a migration is re-planned by the
server itself. Parameter types are inferred by the server from where they are used; write a cast
(`%(x)s::bigint`) where the context does not say.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
import weakref
from typing import Any

from db.connection import database

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


@functools.lru_cache(maxsize=256)
def convert(sql: str) -> tuple[str, tuple[str, ...]]:
    """`%(name)s` placeholders to `$n` (the same name, the same number); and the names."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    # `%%` stays: peewee hands every statement to psycopg2 with parameters, which turns it to %.
    return _PLACEHOLDER.sub(number, sql), tuple(names)


@functools.lru_cache(maxsize=256)
def statement_name(sql: str) -> str:
    return "sb_" + hashlib.blake2b(sql.encode(), digest_size=10).hexdigest()


def execute(sql: str, params: dict[str, Any]):  # noqa: ANN201 (a DB-API cursor)
    """Run `sql` with `params` as a prepared statement on the current connection."""
    name = statement_name(sql)
    conn = database.connection()
    with _lock:
        done = _prepared.setdefault(conn, set())
        fresh = name not in done
    text, names = convert(sql)
    if fresh:
        database.execute_sql(f"PREPARE {name} AS {text}")
        with _lock:
            done.add(name)
    args = ", ".join(["%s"] * len(names))
    call = f"EXECUTE {name}({args})" if names else f"EXECUTE {name}"
    return database.execute_sql(call, [params[n] for n in names])
