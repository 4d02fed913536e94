"""Timing, result rows and the printed table shared by the benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import psycopg2


@dataclass
class Row:
    """One line of the report: a figure, its floor (same run), the target and the verdict."""

    id: str  # "B4.expand"
    what: str
    figure: float
    floor: float | None
    unit: str  # "ms", "MB", "x"
    target: str  # human-readable, e.g. "p95 <= 50 ms"
    passed: bool | None  # None: informational
    detail: dict | None = None

    @property
    def ratio(self) -> float | None:
        return self.figure / self.floor if self.floor else None

    def as_json(self) -> dict:
        data = asdict(self)
        data["ratio"] = self.ratio
        return data


@dataclass(frozen=True)
class Stats:
    median: float
    p95: float
    n: int

    def as_dict(self) -> dict:
        return {"median": self.median, "p95": self.p95, "n": self.n}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


@contextmanager
def installer_cursor(dsn: str, schema: str) -> Iterator[psycopg2.extensions.cursor]:
    """A cursor on a fresh connection as `dsn` (the installer) with the schema on the path."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SET search_path = {schema}, public")
            yield cur
    finally:
        conn.close()


def measure(fn: Callable[[], object], reps: int, warmup: int = 5) -> Stats:
    """Run fn `warmup` times untimed, then `reps` times; milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return Stats(statistics.median(times), percentile(times, 0.95), reps)


def measure_pair(
    fn: Callable[[], object], floor: Callable[[], object], reps: int, warmup: int = 5
) -> tuple[Stats, Stats]:
    """Like `measure` for `fn` and its floor, run alternately: on a shared, noisy machine a
    slow spell then hits both alike instead of whichever happened to run during it."""
    for _ in range(warmup):
        fn()
        floor()
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(reps):
        for which, f in ((0, fn), (1, floor)) if i % 2 == 0 else ((1, floor), (0, fn)):
            t0 = time.perf_counter()
            f()
            times[which].append((time.perf_counter() - t0) * 1000)
    a, b = times
    return (Stats(statistics.median(a), percentile(a, 0.95), reps),
            Stats(statistics.median(b), percentile(b, 0.95), reps))  # fmt: skip


def verdict(passed: bool | None) -> str:
    return "-" if passed is None else ("PASS" if passed else "MISS")


def table(rows: list[Row]) -> str:
    head = f"{'benchmark':<22} {'figure':>10} {'floor':>10} {'ratio':>6}  {'target':<34} result"
    lines = [head, "-" * len(head)]
    for r in rows:
        floor = f"{r.floor:.2f}" if r.floor is not None else "-"
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        lines.append(
            f"{r.id:<22} {r.figure:>8.2f}{r.unit:>2} {floor:>10} {ratio:>6}  "
            f"{r.target:<34} {verdict(r.passed)}"
        )
    return "\n".join(lines)
