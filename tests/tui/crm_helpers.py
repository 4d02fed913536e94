"""Helpers for the account tree and contact detail pilot tests."""

from __future__ import annotations

from contextlib import contextmanager

from db.connection import database
from tests.terminal.model import model


class QueryCounter:
    """Counts every statement our services send (peewee's execute_sql), from any thread."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def counting_queries(monkeypatch):
    counter = QueryCounter()
    real = database.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        counter.statements.append(sql)
        return real(sql, params, *args, **kwargs)

    monkeypatch.setattr(database, "execute_sql", counting)
    try:
        yield counter
    finally:
        monkeypatch.setattr(database, "execute_sql", real)


async def settle(app, pilot, rounds: int = 3) -> None:
    """Wait for workers and the messages they post (the panel waits for a short timer)."""
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
    await app.workers.wait_for_complete()
    await pilot.pause()


def screen_text(app) -> str:
    """Everything visible on the screen, one line per screen row (24 at 80x24), modal
    screens over what they cover. A row that carries a control character (a newline, an
    escape) fails the test: a terminal would not show that row as the app drew it."""
    seen = model(app)
    assert not seen.faults, f"rows with control characters: {seen.faults}"
    return "\n".join(seen.rows)
