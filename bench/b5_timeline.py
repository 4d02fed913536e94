"""B5 timeline: newest 50 activities of a contact and of the 50k-activity account with all its
sub-accounts, then 20 further keyset pages; and the first page painted at 80x24.

Service calls (db/services/activities.py through peewee, as a rep) against the floor: the very
same SQL (`activities.timeline_sql`) on a raw psycopg2 connection as the same rep.
"""

from __future__ import annotations

import asyncio
import time

from bench.common import Row, Stats, installer_cursor, measure, measure_pair, percentile
from bench.dataset import Dataset
from db import connection, prepared
from db.connection import database
from db.services import activities
from db.services.activities import Scope

PAGES = 20


def targets(installer_dsn: str, schema: str) -> dict[str, int]:
    """The account with most activities (50k at scale 1) and its busiest contact."""
    with installer_cursor(installer_dsn, schema) as cur:
        cur.execute("SELECT account_id, count(*) FROM activity WHERE account_id IS NOT NULL "
                    "GROUP BY account_id ORDER BY count(*) DESC LIMIT 1")  # fmt: skip
        account, n_account = cur.fetchone()
        cur.execute("SELECT contact_id, count(*) FROM activity WHERE account_id = %s "
                    "AND contact_id IS NOT NULL GROUP BY contact_id "
                    "ORDER BY count(*) DESC LIMIT 1", (account,))  # fmt: skip
        contact, n_contact = cur.fetchone()
        cur.execute("WITH RECURSIVE t(id) AS (SELECT %s::bigint UNION SELECT a.id "
                    "FROM account a JOIN t ON a.parent_id = t.id) SELECT count(*) FROM t",
                    (account,))  # fmt: skip
        n_tree = cur.fetchone()[0]
    return {"account": account, "account_activities": n_account, "contact": contact,
            "contact_activities": n_contact, "tree_accounts": n_tree}  # fmt: skip


def _cursors(scope: Scope, pages: int) -> list[activities.Cursor | None]:
    """The `before` cursors of the first page and the next `pages` pages."""
    cursors: list[activities.Cursor | None] = [None]
    for _ in range(pages):
        page = activities.timeline(scope, before=cursors[-1])
        if page.next_cursor is None:
            break
        cursors.append(page.next_cursor)
    return cursors


def _cycle(fn, items: list) -> callable:  # type: ignore[valid-type]
    state = {"i": 0}

    def call() -> None:
        fn(items[state["i"] % len(items)])
        state["i"] += 1

    return call


async def _paint_times(scope: Scope, reps: int) -> tuple[Stats, Stats]:
    """Open the timeline the way its key does (`open_timeline` from the account tree) and time
    it until the frame holding its first page is drawn (painted), and until the app is idle
    again (settled); milliseconds.

    "Painted" is the first frame the compositor hands to the driver after the timeline's list
    has drawn a line with activities in it: what the person sees. "Settled" adds Pilot's wait
    for the app to go idle (at least one 20 ms sampling window), so it is an upper bound."""
    from tui.app import SwitchboardApp
    from tui.screens.timeline import TimelineScreen, open_timeline
    from tui.widgets.record_list import RecordList

    state: dict[str, object] = {"drawn": False, "at": None, "event": None}
    render_line = RecordList.render_line

    def watched_render_line(self: RecordList, y: int):  # noqa: ANN202
        if self.items and isinstance(self.screen, TimelineScreen):
            state["drawn"] = True
        return render_line(self, y)

    app = SwitchboardApp()
    display = app._display

    def watched_display(screen, renderable) -> None:  # noqa: ANN001
        display(screen, renderable)
        if renderable is not None and state["drawn"] and state["at"] is None:
            state["at"] = time.perf_counter()
            state["event"].set()  # type: ignore[union-attr]

    RecordList.render_line = watched_render_line  # type: ignore[method-assign]
    app._display = watched_display  # type: ignore[method-assign]
    painted: list[float] = []
    settled: list[float] = []
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            origin = app.screen
            for i in range(reps + 2):
                # Wait on an event, not a polling loop: a busy event loop would hold the GIL
                # and slow the worker that fetches the page.
                event = asyncio.Event()
                state.update(drawn=False, at=None, event=event)
                t0 = time.perf_counter()
                open_timeline(origin, scope, "bench")
                await event.wait()
                at = state["at"]
                await pilot.pause()  # until idle: whatever the opening set off is done
                if i >= 2:  # warm-up
                    painted.append((at - t0) * 1000)  # type: ignore[operator]
                    settled.append((time.perf_counter() - t0) * 1000)
                assert isinstance(app.screen, TimelineScreen)
                await app.pop_screen()
                await pilot.pause()
    finally:
        RecordList.render_line = render_line  # type: ignore[method-assign]

    def stats(times: list[float]) -> Stats:
        return Stats(sorted(times)[len(times) // 2], percentile(times, 0.95), len(times))

    return stats(painted), stats(settled)


def run(ds: Dataset, reps: int = 50) -> list[Row]:
    t = targets(ds.installer_dsn, ds.schema)
    connection.configure(ds.user_dsn, ds.schema)
    raw = connection.raw_connect(ds.user_dsn, ds.schema)
    raw.autocommit = True
    cur = raw.cursor()
    contact = Scope("contact", t["contact"])
    tree = Scope("account_tree", t["account"])

    ready: set[str] = set()

    def raw_page(scope: Scope, before: activities.Cursor | None) -> None:
        # The floor runs what the service sends: the same prepared statement, raw.
        sql, params = activities.timeline_sql(scope, before=before)
        name = prepared.statement_name(sql)
        text, names = prepared.convert(sql)
        if name not in ready:
            cur.execute(f"PREPARE {name} AS {text}")
            ready.add(name)
        cur.execute(f"EXECUTE {name}({', '.join(['%s'] * len(names))})",
                    [params[n] for n in names])  # fmt: skip
        cur.fetchall()

    def unprepared_page(scope: Scope, before: activities.Cursor | None) -> None:
        sql, params = activities.timeline_sql(scope, before=before)
        cur.execute(sql, params)
        cur.fetchall()

    rows: list[Row] = []
    try:
        with database.connection_context():
            visible = len(activities.timeline(tree).items)
            pages = _cursors(tree, PAGES)
            cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + activities.timeline_sql(tree)[0],
                        activities.timeline_sql(tree)[1])  # fmt: skip
            plan_ms = cur.fetchone()[0][0]["Execution Time"]
            cases = [
                ("B5.contact_first", f"contact, newest 50 of {t['contact_activities']:,}",
                 lambda: activities.timeline(contact), lambda: raw_page(contact, None),
                 lambda: unprepared_page(contact, None)),
                ("B5.account_first",
                 f"account+{t['tree_accounts'] - 1} subs, newest 50 of "
                 f"{t['account_activities']:,}+",
                 lambda: activities.timeline(tree), lambda: raw_page(tree, None),
                 lambda: unprepared_page(tree, None)),
                ("B5.account_pages", f"account tree, pages 2-{len(pages)} (keyset)",
                 _cycle(lambda c: activities.timeline(tree, before=c), pages[1:]),
                 _cycle(lambda c: raw_page(tree, c), pages[1:]),
                 _cycle(lambda c: unprepared_page(tree, c), pages[1:])),
            ]  # fmt: skip
            stats: dict[str, Stats] = {}
            for rid, what, service, floor, unprepared in cases:
                s, base = measure_pair(service, floor, reps)
                plain = measure(unprepared, reps)  # planned every time: what PREPARE saves
                stats[rid] = s
                ok = s.p95 <= 1.2 * base.p95 and s.p95 < 5.0
                rows.append(Row(rid, what, s.p95, base.p95, "ms",
                                "p95 <= 1.2x floor and < 5 ms", ok,
                                {"service": s.as_dict(), "floor": base.as_dict(),
                                 "raw_unprepared": plain.as_dict(),
                                 "user": ds.rep, "visible_first_page": visible, **t,
                                 "explain_execution_ms": plan_ms}))  # fmt: skip
            last = _cycle(lambda c: activities.timeline(tree, before=c), pages[-1:])
            deep, first = measure_pair(last, lambda: activities.timeline(tree), reps)
        flat = deep.p95 / first.p95
        rows.append(Row("B5.flat_with_depth", f"page {len(pages)} vs page 1 (p95 ratio)", flat,
                        None, "x", "<= 1.5x (flat with depth)", flat <= 1.5,
                        {"page_last": deep.as_dict(), "page_first": first.as_dict()}))  # fmt: skip
    finally:
        raw.close()
        database.close_all()
    paint, settle = asyncio.run(_paint_times(tree, max(5, min(reps, 40))))
    database.close_all()
    rows.append(Row("B5.painted", "account tree timeline: t -> first page painted",
                    paint.p95, None, "ms", "p95 <= 60 ms", paint.p95 <= 60.0,
                    {"paint": paint.as_dict(), "settled": settle.as_dict()}))  # fmt: skip
    return rows
