"""B2 fuzzy_search: typo-tolerant name/company search as a rep (3+ characters, top 20 by
similarity), phone lookups, the account tree's filter for one letter, and keystroke → results
painted in the search screen at 80x24.

The queries are the dataset's own contact and account names, every few thousandth one, each
with one typo made deterministically (a letter dropped, doubled or two letters swapped, by
position). Service calls (db/services/search.py through peewee, as the rep) against the floor:
the same search_records() call on a raw psycopg2 connection as the same rep.
"""

from __future__ import annotations

import asyncio
import time

from bench.common import Row, Stats, installer_cursor, measure, measure_pair, percentile
from bench.dataset import Dataset
from db import connection
from db.connection import database
from db.services import accounts, search

NAME_KINDS = ["account", "contact"]
TOP = 20


def typo(name: str, i: int) -> str:
    """`name` with one deterministic typo (drop, double or swap a letter of its longest word)."""
    words = name.split()
    w = max(range(len(words)), key=lambda k: len(words[k]))
    word = words[w]
    if len(word) < 4:
        return name
    p = 1 + i % (len(word) - 2)
    kind = i % 3
    if kind == 0:
        word = word[:p] + word[p + 1:]
    elif kind == 1:
        word = word[:p] + word[p] + word[p:]
    else:
        word = word[:p] + word[p + 1] + word[p] + word[p + 2:]
    words[w] = word
    return " ".join(words)


def queries(ds: Dataset, n: int) -> dict[str, list[str]]:
    with installer_cursor(ds.installer_dsn, ds.schema) as cur:
        cur.execute("SELECT count(*) FROM contact")
        total = cur.fetchone()[0]
        step = max(1, total // n)
        cur.execute("SELECT full_name FROM contact WHERE id %% %s = 7 AND full_name <> '' "
                    "ORDER BY id LIMIT %s", (step, n))  # fmt: skip
        people = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT count(*) FROM account")
        step = max(1, cur.fetchone()[0] // n)
        cur.execute("SELECT name FROM account WHERE id %% %s = 3 ORDER BY id LIMIT %s", (step, n))
        companies = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT e164 FROM contact_phone WHERE id %% %s = 5 AND e164 LIKE '+46%%' "
                    "ORDER BY id LIMIT %s", (max(1, total // n), n))  # fmt: skip
        phones = [r[0] for r in cur.fetchall()]
    names = [typo(x, i) for i, x in enumerate(people + companies)]
    names = [q for q in names if len(q) >= 3]
    # a number as people type it: national, with spaces, or only its last 7 digits
    typed = []
    for i, e164 in enumerate(phones):
        national = "0" + e164[3:]
        typed.append([f"{national[:3]} {national[3:6]} {national[6:]}", e164[-7:], e164][i % 3])
    return {"names": names, "phones": typed, "companies": companies}


def _cycle(fn, items: list):
    state = {"i": 0}

    def call() -> None:
        fn(items[state["i"] % len(items)])
        state["i"] += 1

    return call


async def _paint_times(texts: list[str]) -> tuple[Stats, Stats, int]:
    """Type each text into the search screen (all but its last letter as one burst), then its
    last key, and time from that key to the first frame that shows the whole text's results
    (painted), and to idle (settled); ms. Also counts results of an older text shown after the
    last key (must be 0)."""
    from textual import events
    from textual.keys import _character_to_key

    from tui.app import SwitchboardApp
    from tui.screens.search import SearchScreen

    state: dict[str, object] = {"target": None, "drawn": False, "at": None, "event": None,
                                "stale": 0}  # fmt: skip
    show = SearchScreen._show

    def watched_show(self: SearchScreen, seq: int, text: str, results) -> None:  # noqa: ANN001
        show(self, seq, text, results)
        if text == state["target"]:
            state["drawn"] = True
        elif state["drawn"]:
            state["stale"] = int(state["stale"]) + 1  # type: ignore[arg-type]

    app = SwitchboardApp()
    display = app._display

    def watched_display(screen, renderable) -> None:  # noqa: ANN001
        display(screen, renderable)
        if renderable is not None and state["drawn"] and state["at"] is None:
            state["at"] = time.perf_counter()
            state["event"].set()  # type: ignore[union-attr]

    SearchScreen._show = watched_show  # type: ignore[method-assign]
    app._display = watched_display  # type: ignore[method-assign]
    painted: list[float] = []
    settled: list[float] = []
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            screen = SearchScreen()
            await app.push_screen(screen)
            await pilot.pause()
            box = screen.query_one("#search-box")
            for i, text in enumerate(texts):
                state.update(target=None, drawn=False)
                box.value = ""
                await app.workers.wait_for_complete()
                await pilot.pause(0.05)
                # all but the last letter as one burst (as a terminal delivers fast typing) and
                # its results; then the last key, timed: a keystroke and its answer
                for ch in text[:-1]:
                    app.post_message(events.Key(ch if ch.isalnum() else _character_to_key(ch), ch))
                await app.workers.wait_for_complete()
                await pilot.pause(0.05)
                await app.workers.wait_for_complete()
                event = asyncio.Event()
                state.update(target=text, drawn=False, at=None, event=event)
                ch = text[-1]
                t0 = time.perf_counter()
                app.post_message(events.Key(ch if ch.isalnum() else _character_to_key(ch), ch))
                await asyncio.wait_for(event.wait(), 10)
                at = state["at"]
                await app.workers.wait_for_complete()
                await pilot.pause()
                if i >= 2:  # warm-up
                    painted.append((at - t0) * 1000)  # type: ignore[operator]
                    settled.append((time.perf_counter() - t0) * 1000)
    finally:
        SearchScreen._show = show  # type: ignore[method-assign]

    def stats(times: list[float]) -> Stats:
        return Stats(sorted(times)[len(times) // 2], percentile(times, 0.95), len(times))

    return stats(painted), stats(settled), int(state["stale"])  # type: ignore[arg-type]


def run(ds: Dataset, reps: int = 100) -> list[Row]:
    q = queries(ds, max(reps, 10))
    names, phones = q["names"], q["phones"]
    q = {"companies": q["companies"]}
    connection.configure(ds.user_dsn, ds.schema)
    raw = connection.raw_connect(ds.user_dsn, ds.schema)
    raw.autocommit = True
    cur = raw.cursor()

    def floor(text: str, kinds: list[str], limit: int) -> None:
        cur.execute("SELECT kind, id, label, detail, account_id, contact_id, rank, score FROM "
                    "search_records(%s, NULL, '{}'::text[], '{}'::text[], %s::text[], %s)",
                    (text, kinds, limit))  # fmt: skip
        cur.fetchall()

    def floor_phone(text: str) -> None:
        phones_, suffixes = search.phone_keys(text)
        cur.execute("SELECT * FROM search_records('', NULL, %s::text[], %s::text[], "
                    "%s::text[], 10)", (phones_, suffixes, list(search.KINDS)))  # fmt: skip
        cur.fetchall()

    def floor_filter(letter: str) -> None:
        cur.execute("SELECT filter_account_ids(%s, NULL, NULL, 101)", (letter,))
        cur.fetchall()

    letters = list("abcdefghijklmnoprstuvw")
    rows: list[Row] = []
    try:
        with database.connection_context():
            found = sum(1 for t in names[:50]
                        if search.search(t, kinds=NAME_KINDS, limit_per_kind=TOP).hits)
            s, base = measure_pair(
                _cycle(lambda t: search.search(t, kinds=NAME_KINDS, limit_per_kind=TOP), names),
                _cycle(lambda t: floor(t, NAME_KINDS, TOP), names), reps)  # fmt: skip
            rows.append(Row("B2.query", f"names & companies, 1 typo, top {TOP} per kind",
                            s.p95, base.p95, "ms", "p95 <= 30 ms", s.p95 <= 30.0,
                            {"service": s.as_dict(), "floor": base.as_dict(), "user": ds.rep,
                             "queries": len(names), "found_of_first_50": found,
                             "examples": names[:5]}))  # fmt: skip
            s, base = measure_pair(
                _cycle(lambda t: search.search(t, limit_per_kind=10), names),
                _cycle(lambda t: floor(t, list(search.KINDS), 10), names), reps)  # fmt: skip
            rows.append(Row("B2.query_all_kinds", "the search screen's query: 4 kinds, top 10",
                            s.p95, base.p95, "ms", "p95 <= 30 ms (info)", None,
                            {"service": s.as_dict(), "floor": base.as_dict()}))  # fmt: skip
            s, base = measure_pair(_cycle(search.search, phones), _cycle(floor_phone, phones),
                                   reps)  # fmt: skip
            rows.append(Row("B2.phone", "phone: national, +E.164 or last 7 digits", s.p95,
                            base.p95, "ms", "p95 <= 30 ms", s.p95 <= 30.0,
                            {"service": s.as_dict(), "floor": base.as_dict(),
                             "examples": phones[:3]}))  # fmt: skip
            s, base = measure_pair(
                _cycle(lambda c: accounts.roots(limit=100, name_filter=c), letters),
                _cycle(floor_filter, letters), reps)  # fmt: skip
            rows.append(Row("B2.tree_filter_letter", "account tree filter, first letter (page)",
                            s.p95, base.p95, "ms", "p95 < 100 ms", s.p95 < 100.0,
                            {"service": s.as_dict(), "floor": base.as_dict()}))  # fmt: skip
            # two letters as people type them: the start of a company's name
            two = sorted({c[:2].lower() for c in q["companies"] if len(c) >= 2})
            s2 = measure(_cycle(lambda c: accounts.roots(limit=100, name_filter=c), two), reps)
            rows.append(Row("B2.tree_filter_2", "account tree filter, two letters", s2.p95, None,
                            "ms", "p95 < 100 ms (info)", None,
                            {"service": s2.as_dict(), "texts": two}))  # fmt: skip
            rare = ["qx", "zq", "xj", "ae"]  # rare pairs: no page fills, every match is sorted
            s3 = measure(_cycle(lambda c: accounts.roots(limit=100, name_filter=c), rare), reps)
            rows.append(Row("B2.tree_filter_rare2", "account tree filter, rare letter pairs",
                            s3.p95, None, "ms", "(info)", None,
                            {"service": s3.as_dict(), "texts": rare}))  # fmt: skip
    finally:
        raw.close()
        database.close_all()
    paint, settle, stale = asyncio.run(_paint_times(names[: max(5, min(reps, 40))]))
    database.close_all()
    rows.append(Row("B2.painted", "search screen: last key -> results painted", paint.p95,
                    None, "ms", "p95 <= 100 ms, 0 stale", paint.p95 <= 100.0 and stale == 0,
                    {"paint": paint.as_dict(), "settled": settle.as_dict(),
                     "stale_paints_after_last_key": stale}))  # fmt: skip
    return rows
