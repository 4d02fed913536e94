"""B1 caller lookup: a phone number as dialled (international, national in its country, the
last 8 digits as caller ID gives them) → the caller card's data (contact, account, flags, open
cases, open deals, last 5 activities, relationships), as a rep under RLS; and → the card
painted in the call console at 80x24.

Service: db/services/callers.lookup (phonenumbers parsing + one prepared statement through
peewee). Floor: the very same prepared statement on a raw psycopg2 connection as the same rep,
with the parameters computed beforehand; and a `SELECT 1` round trip.
"""

from __future__ import annotations

import asyncio
import random
import time

from bench.common import Row, Stats, measure, measure_pair, percentile
from bench.dataset import Dataset
from db import connection, prepared
from db.connection import database
from db.services import callers

SAMPLE = 60


def numbers(cur, n: int = SAMPLE) -> list[tuple[str, str | None]]:
    """(as dialled, region) for phones of contacts the rep can see: a third international
    with spaces, a third national in their own country, a third the last 8 digits."""
    import phonenumbers

    cur.execute("SELECT e164 FROM contact_phone TABLESAMPLE SYSTEM (1) REPEATABLE (1984) "
                "WHERE e164 IS NOT NULL LIMIT %s", (n * 4,))  # fmt: skip
    phones = [r[0] for r in cur.fetchall()]
    if len(phones) < n:  # a tiny dataset: take them all
        cur.execute("SELECT e164 FROM contact_phone WHERE e164 IS NOT NULL ORDER BY id LIMIT %s",
                    (n * 4,))  # fmt: skip
        phones = [r[0] for r in cur.fetchall()]
    out: list[tuple[str, str | None]] = []
    for i, e164 in enumerate(phones):
        parsed = phonenumbers.parse(e164, None)
        region = phonenumbers.region_code_for_number(parsed)
        if i % 3 == 0:
            out.append((phonenumbers.format_number(
                parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL), None))  # fmt: skip
        elif i % 3 == 1 and region:
            out.append((phonenumbers.format_number(
                parsed, phonenumbers.PhoneNumberFormat.NATIONAL), region))  # fmt: skip
        else:
            out.append((e164[-8:], None))
        if len(out) >= n:
            break
    return out


def _cycle(fn, items: list):  # noqa: ANN202
    state = {"i": 0}

    def call() -> None:
        fn(items[state["i"] % len(items)])
        state["i"] += 1

    return call


async def _paint_times(dialled: list[tuple[str, str | None]], reps: int) -> Stats:
    """The console's Number field gets a number (as enter does) → the frame with the card."""
    from tui.app import SwitchboardApp
    from tui.screens.console import ConsoleScreen

    state: dict[str, object] = {"drawn": False, "at": None, "event": None}
    loaded = ConsoleScreen.on_caller_loaded

    def watched_loaded(self: ConsoleScreen, message) -> None:  # noqa: ANN001
        loaded(self, message)
        state["drawn"] = True

    app = SwitchboardApp(start_screen="console")
    display = app._display

    def watched_display(screen, renderable) -> None:  # noqa: ANN001
        display(screen, renderable)
        if renderable is not None and state["drawn"] and state["at"] is None:
            state["at"] = time.perf_counter()
            state["event"].set()  # type: ignore[union-attr]

    ConsoleScreen.on_caller_loaded = watched_loaded  # type: ignore[method-assign]
    app._display = watched_display  # type: ignore[method-assign]
    painted: list[float] = []
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            console = app.screen
            assert isinstance(console, ConsoleScreen)
            for i in range(reps + 2):
                number, _region = dialled[i % len(dialled)]
                event = asyncio.Event()
                state.update(drawn=False, at=None, event=event)
                t0 = time.perf_counter()
                console.open_number(number)
                await event.wait()
                at = state["at"]
                await pilot.pause()
                if i >= 2:
                    painted.append((at - t0) * 1000)  # type: ignore[operator]
                console._end()  # the next call (the wrap-up is not what is timed)
                await pilot.pause()
    finally:
        ConsoleScreen.on_caller_loaded = loaded  # type: ignore[method-assign]
    return Stats(sorted(painted)[len(painted) // 2], percentile(painted, 0.95), len(painted))


def run(ds: Dataset, reps: int = 200) -> list[Row]:
    connection.configure(ds.user_dsn, ds.schema)
    raw = connection.raw_connect(ds.user_dsn, ds.schema)
    raw.autocommit = True
    cur = raw.cursor()
    rows: list[Row] = []
    try:
        dialled = numbers(cur)
        random.Random(1984).shuffle(dialled)
        params = {d: callers.lookup_params(*d) for d in dialled}
        name = prepared.statement_name(callers.LOOKUP_SQL)
        text, names = prepared.convert(callers.LOOKUP_SQL)
        cur.execute(f"PREPARE {name} AS {text}")
        call = f"EXECUTE {name}({', '.join(['%s'] * len(names))})"

        def raw_lookup(d: tuple[str, str | None]) -> None:
            p = params[d]
            cur.execute(call, [p[n] for n in names])
            cur.fetchall()

        def select_one() -> None:
            cur.execute("SELECT 1")
            cur.fetchall()

        with database.connection_context():
            kinds = {"card": 0, "several": 0, "none": 0}
            for d in dialled:
                found = callers.lookup(*d)
                kinds["none" if found is None else "several" if isinstance(found, list)
                      else "card"] += 1  # fmt: skip
            calls: list[str] = []
            real = database.execute_sql

            def counting(sql, params=None, *args, **kwargs):  # noqa: ANN001, ANN202
                calls.append(sql)
                return real(sql, params, *args, **kwargs)

            database.execute_sql = counting  # type: ignore[method-assign]
            try:
                callers.lookup(*dialled[0])
            finally:
                database.execute_sql = real  # type: ignore[method-assign]
            trips = len(calls)
            s, base = measure_pair(_cycle(lambda d: callers.lookup(*d), dialled),
                                   _cycle(raw_lookup, dialled), reps)  # fmt: skip
            rt = measure(select_one, reps)
        ok = s.p95 <= 5.0 and s.p95 <= 1.3 * base.p95 and trips <= 2
        rows.append(Row("B1.lookup_data", f"{len(dialled)} numbers (intl, national, last 8), "
                        "card data as a rep", s.p95, base.p95, "ms",
                        "p95 <= 5 ms and <= 1.3x floor; <= 2 round trips", ok,
                        {"service": s.as_dict(), "floor": base.as_dict(),
                         "select_1": rt.as_dict(), "round_trips": trips, "results": kinds,
                         "user": ds.rep}))  # fmt: skip
    finally:
        raw.close()
        database.close_all()
    paint = asyncio.run(_paint_times(dialled, max(5, min(reps, 60))))
    database.close_all()
    rows.append(Row("B1.painted", "number entered -> caller card painted at 80x24",
                    paint.p95, None, "ms", "p95 <= 50 ms", paint.p95 <= 50.0,
                    {"paint": paint.as_dict()}))  # fmt: skip
    return rows
