"""B7 live_fanout: a commit by one client → received by N headless listening clients.

Each client is a `db.live.Listener` (the app's own listening code: parse, count, coalesce),
without Textual. One writer updates account rows at a target rate (10 and 100 writes/s) while
50 and 200 clients listen; every client times each notice from the moment its write was sent
(the clock is CLOCK_MONOTONIC, shared by the processes). Two latencies per configuration:

- received: commit sent → the notice parsed in the client;
- delivered: commit sent → the coalesced batch the app would post as `RecordsChanged` (the
  hub's policy, tui/live.py: a WINDOW after the first notice, no sooner than MIN_GAP after the
  previous batch). This is the figure against the target (p99 ≤ 250 ms); the screen then adds
  its re-read and one frame (~17 ms, STACK-FACTS.md).

Floors in the same run: a two-connection NOTIFY ping-pong (one way = round trip / 2), and the
writer's throughput without notices (`session_replication_role = replica`: no audit row, no
notice) next to its throughput with the trigger and 0 or N listeners.

It runs on a server of its own (a throwaway EmbeddedServer with max_connections 400): 200
listening connections would take every slot of the shared bench server, and the cost of a
notice does not depend on the size of the data set.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import selectors
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2

from bench.common import Row, percentile
from bench.dataset import Dataset
from db import migrate
from db.embedded import EmbeddedServer, free_port
from db.live import Listener

SCHEMA = "switchboard"
ACCOUNTS = 2_000
TARGET_MS = 250.0
LOSS_MAX = 0.10
THROUGHPUT_SECONDS = 3.0


def sizes(scale: float) -> tuple[list[int], list[int]]:
    """(client counts, write rates): BENCHMARKS.md's at scale ≥ 0.5, a tiny run below."""
    if scale >= 0.5:
        return [50, 200], [10, 100]
    return [2, 4], [10, 50]


# ------------------------------------------------------------------------------- the server


def own_server() -> tuple[EmbeddedServer, Path]:
    home = Path(tempfile.mkdtemp(prefix="sb-b7-"))
    settings = {"max_connections": "400", "shared_buffers": "'64MB'"}
    srv = EmbeddedServer(home, port=free_port(), fast_unsafe=True, settings=settings)
    srv.start()
    srv.ensure_database("b7")
    dsn = srv.dsn("b7")
    migrate.migrate(dsn, SCHEMA)
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute("SET search_path = switchboard, public; SET session_replication_role = replica")
        cur.execute("INSERT INTO account (name) SELECT 'B7 account ' || i "
                    "FROM generate_series(1, %s) i", (ACCOUNTS,))  # fmt: skip
    conn.close()
    return srv, home


def account_ids(dsn: str) -> list[int]:
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM switchboard.account ORDER BY id")
        ids = [r[0] for r in cur.fetchall()]
    conn.close()
    return ids


# ------------------------------------------------------------------------------- clients


def _recorder(got: list, client: int):  # noqa: ANN202
    def seen(_table: str, row_id: int) -> None:
        got.append((client, row_id, time.monotonic()))

    return seen


def _clients(dsn: str, count: int, ready, stop, out) -> None:  # noqa: ANN001 (mp objects)
    """One process: `count` listeners on one selector; sends [(client, id, t), ...] at stop."""
    got: list[tuple[int, int, float]] = []
    sel = selectors.DefaultSelector()
    listeners = []
    for n in range(count):
        lst = Listener(dsn, SCHEMA, max_ids=10**9)
        lst.connect()
        lst.observe = _recorder(got, n)
        sel.register(lst.fileno(), selectors.EVENT_READ, lst)
        listeners.append(lst)
    ready.release()
    while not stop.is_set():
        for key, _ in sel.select(0.05):
            lst = key.data
            lst.drain()
            lst.take()  # the batch the app would deliver: dropped here, timed below
    out.put([(c, i, t) for c, i, t in got])
    for lst in listeners:
        lst.close()


class Fleet:
    """`clients` listeners spread over a few processes (the machine's cores)."""

    def __init__(self, dsn: str, clients: int) -> None:
        procs = max(1, min(os.cpu_count() or 1, 4, clients))
        ctx = mp.get_context("fork")
        self.ready = ctx.Semaphore(0)
        self.stop = ctx.Event()
        self.out = ctx.Queue()
        shares = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
        self.offsets = [sum(shares[:i]) for i in range(procs)]
        self.procs = [ctx.Process(target=_clients, args=(dsn, k, self.ready, self.stop, self.out))
                      for k in shares]  # fmt: skip
        self.shares = shares

    def __enter__(self) -> Fleet:
        for p in self.procs:
            p.start()
        for _ in self.procs:
            if not self.ready.acquire(timeout=120):
                raise RuntimeError("the listening clients did not connect")
        return self

    def collect(self) -> list[tuple[int, int, float]]:
        self.stop.set()
        rows: list[tuple[int, int, float]] = []
        # Each process numbers its clients from 0: results come back in any order, so the
        # client key is (process result index, client): distinct per list is all we need.
        for k in range(len(self.procs)):
            part = self.out.get(timeout=120)
            rows += [(k * 100_000 + c, i, t) for c, i, t in part]
        return rows

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for p in self.procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()


# ------------------------------------------------------------------------------- writer


class Writes:
    """What one paced writer did: send times by row, each write's duration, the rate held."""

    def __init__(self) -> None:
        self.sent: dict[int, float] = {}
        self.durations: list[float] = []  # ms, statement with its commit (autocommit)
        self.rate = 0.0


def write_at(dsn: str, ids: list[int], rate: float, count: int) -> Writes:
    """UPDATE one account per write at `rate` writes/s from one connection."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    out = Writes()
    with conn.cursor() as cur:
        cur.execute("SET search_path = switchboard, public")
        start = time.monotonic()
        for n in range(count):
            due = start + n / rate
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            row = ids[n % len(ids)]
            t0 = out.sent[row] = time.monotonic()
            # a new value every time: an UPDATE that changes nothing sends no notice
            cur.execute("UPDATE account SET city = %s WHERE id = %s",
                        (f"c{time.monotonic_ns()}", row))  # fmt: skip
            out.durations.append((time.monotonic() - t0) * 1000)
        out.rate = count / (time.monotonic() - start)
    conn.close()
    return out


def tps(dsn: str, ids: list[int], seconds: float, replica: bool = False) -> float:
    """Writes per second from one connection at full speed."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    done = 0
    with conn.cursor() as cur:
        cur.execute("SET search_path = switchboard, public")
        if replica:
            cur.execute("SET session_replication_role = replica")
        end = time.monotonic() + seconds
        start = time.monotonic()
        while time.monotonic() < end:
            cur.execute("UPDATE account SET city = %s WHERE id = %s",
                        (f"t{time.monotonic_ns()}", ids[done % len(ids)]))  # fmt: skip
            done += 1
        elapsed = time.monotonic() - start
    conn.close()
    return done / elapsed


@contextmanager
def notices_off(dsn: str) -> Iterator[None]:
    """record_change() without its pg_notify (the audit row still written): the writer's
    floor "without notices". Only ever on B7's own server; put back afterwards."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_get_functiondef('switchboard.record_change'::regproc)")
        original = cur.fetchone()[0]
        silent, n = re.subn(r"PERFORM pg_notify\(.*?\)::text\);", "", original, flags=re.S)
        if n != 1:
            raise RuntimeError("record_change() no longer has one pg_notify: update B7")
        cur.execute(silent)
        try:
            yield
        finally:
            cur.execute(original)
    conn.close()


def ping_pong(dsn: str, reps: int) -> list[float]:
    """One-way NOTIFY latency in ms: A notifies, B answers, A waits; round trip / 2."""
    a, b = psycopg2.connect(dsn), psycopg2.connect(dsn)
    a.autocommit = b.autocommit = True
    a.cursor().execute("LISTEN b7_pong")
    b.cursor().execute("LISTEN b7_ping")
    sel_a, sel_b = selectors.DefaultSelector(), selectors.DefaultSelector()
    sel_a.register(a.fileno(), selectors.EVENT_READ)
    sel_b.register(b.fileno(), selectors.EVENT_READ)

    def wait(conn, sel) -> None:  # noqa: ANN001
        while True:
            conn.poll()
            if conn.notifies:
                del conn.notifies[:]
                return
            sel.select(5)

    out = []
    for _ in range(reps + 5):
        t0 = time.perf_counter()
        a.cursor().execute("NOTIFY b7_ping")
        wait(b, sel_b)
        b.cursor().execute("NOTIFY b7_pong")
        wait(a, sel_a)
        out.append((time.perf_counter() - t0) * 500)
    a.close()
    b.close()
    return out[5:]


# ------------------------------------------------------------------------------- analysis


def delivered(received: list[tuple[int, int, float]], window: float, gap: float) -> dict:
    """For each (client, id, t): the time the hub's policy would deliver its batch."""
    by_client: dict[int, list[tuple[float, int]]] = {}
    for client, row, t in received:
        by_client.setdefault(client, []).append((t, row))
    result: dict[tuple[int, int], float] = {}
    for client, items in by_client.items():
        items.sort()
        last = -1e9
        i = 0
        while i < len(items):
            flush = max(items[i][0] + window, last + gap)
            while i < len(items) and items[i][0] <= flush:
                result[(client, items[i][1])] = flush
                i += 1
            last = flush
    return result


def summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": statistics.median(values),
            "p95": percentile(values, 0.95), "p99": percentile(values, 0.99),
            "max": max(values)}  # fmt: skip


def run(ds: Dataset, reps: int) -> list[Row]:
    from tui.live import MIN_GAP, WINDOW

    clients_list, rates = sizes(ds.scale)
    seconds = max(reps / 100, 1.0)
    srv, home = own_server()
    rows: list[Row] = []
    try:
        dsn = srv.dsn("b7")
        ids = account_ids(dsn)
        pp = ping_pong(dsn, max(50, min(reps, 500)))
        one_way = statistics.median(pp)
        rows.append(Row("B7.pingpong", "NOTIFY one way, two connections (median)", one_way,
                        None, "ms", "floor", None,
                        {"p99": percentile(pp, 0.99), "n": len(pp)}))  # fmt: skip
        for clients in clients_list:
            for rate in rates:
                count = min(max(10, int(rate * seconds)), ACCOUNTS)
                with Fleet(dsn, clients) as fleet:
                    writes = write_at(dsn, ids, rate, count)
                    time.sleep(0.5)  # the last notices arrive
                    got = fleet.collect()
                sent = writes.sent
                recv = [(t - sent[row]) * 1000 for _c, row, t in got if row in sent]
                batches = delivered(got, WINDOW, MIN_GAP)
                dlv = [(t - sent[row]) * 1000 for (_c, row), t in batches.items() if row in sent]
                expected = clients * count
                r, d = summary(recv), summary(dlv)
                rows.append(Row(
                    f"B7.c{clients}.w{rate}", f"commit → batch at {clients} clients, "
                    f"{rate} writes/s (p99)", d.get("p99", float("nan")), one_way, "ms",
                    f"p99 <= {TARGET_MS:.0f} ms",
                    bool(d.get("n")) and d["p99"] <= TARGET_MS and len(recv) == expected,
                    {"received": r, "delivered": d, "expected": expected,
                     "lost": expected - len(recv), "writes": count, "rate_held": writes.rate,
                     "write_ms": summary(writes.durations)},
                ))  # fmt: skip
        # Writer throughput at full speed from one connection: the floor without notices (the
        # audit trigger still runs, its pg_notify removed), then with notices and no listener,
        # then with the most listeners. No triggers at all (replica) for scale, in the detail.
        most, fastest = max(clients_list), max(rates)
        count = min(max(10, int(fastest * seconds)), ACCOUNTS)
        # At the target load: does the writer hold its rate, and what does a write cost, with
        # the listeners connected and notices on, against the same with notices off?
        with Fleet(dsn, most) as fleet:
            noticed = write_at(dsn, ids, fastest, count)
            with notices_off(dsn):
                quiet = write_at(dsn, ids, fastest, count)
            fleet.collect()
        held = noticed.rate / quiet.rate
        rows.append(Row(
            f"B7.rate.c{most}.w{fastest}", f"writer at {fastest}/s with {most} listeners: "
            "rate held vs notices off", noticed.rate, quiet.rate, "/s",
            f"loss <= {LOSS_MAX:.0%}", 1 - held <= LOSS_MAX,
            {"write_ms_notices": summary(noticed.durations),
             "write_ms_no_notices": summary(quiet.durations), "loss": 1 - held},
        ))  # fmt: skip
        with notices_off(dsn):
            floor = tps(dsn, ids, THROUGHPUT_SECONDS)
        alone = tps(dsn, ids, THROUGHPUT_SECONDS)
        with Fleet(dsn, most) as fleet:
            crowd = tps(dsn, ids, THROUGHPUT_SECONDS)
            fleet.collect()
        bare = tps(dsn, ids, THROUGHPUT_SECONDS, replica=True)
        loss = 1 - crowd / floor
        rows.append(Row(
            f"B7.tps.c{most}", f"writer at full speed, {most} listeners vs no notices", crowd,
            floor, "/s", f"loss <= {LOSS_MAX:.0%}", loss <= LOSS_MAX,
            {"no_notices": floor, "notices_no_listeners": alone, "with_listeners": crowd,
             "no_triggers": bare, "loss": loss, "loss_notices_alone": 1 - alone / floor},
        ))  # fmt: skip
    finally:
        srv.stop(mode="immediate")
        shutil.rmtree(home, ignore_errors=True)
    return rows
