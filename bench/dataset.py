"""The benchmark dataset: a bench-owned embedded server with the demo data at a scale, cached.

The server lives in SWITCHBOARD_BENCH_HOME (default: /var/tmp/switchboard-bench as root, whose
home the `postgres` user cannot enter, else the user cache directory). One database per
(scale, seed); a marker file written after a successful load says it can be reused, and a
reused one is migrated to the current schema first. Benchmarks that need more than the demo
data add it themselves, once (B12's audit log: bench/audit_data.py).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import platformdirs
import psycopg2
from psycopg2.extensions import make_dsn, parse_dsn

from db import demo, migrate
from db.embedded import EmbeddedServer

SCHEMA = "switchboard"
PORT = 55499  # fixed so the cached server keeps its address between runs


def bench_home() -> Path:
    override = os.environ.get("SWITCHBOARD_BENCH_HOME")
    if override:
        return Path(override)
    if os.geteuid() == 0:
        return Path("/var/tmp/switchboard-bench")
    return platformdirs.user_cache_path("switchboard", appauthor=False) / "bench"


@dataclass(frozen=True)
class Dataset:
    installer_dsn: str  # superuser
    user_dsn: str  # a rep of the demo data: what the benchmarks query as
    rep: str
    schema: str
    scale: float
    seed: int
    load_seconds: float | None  # None: reused from the cache


def dbname_for(scale: float, seed: int) -> str:
    return "bench_" + re.sub(r"[^0-9a-z]", "_", f"s{scale:g}_seed{seed}")


def clone_name() -> str | None:
    """SWITCHBOARD_BENCH_CLONE=NAME: run on a private copy of the cached dataset (a branch
    with migrations of its own must not migrate the copy that other branches share)."""
    name = os.environ.get("SWITCHBOARD_BENCH_CLONE", "")
    return re.sub(r"[^0-9a-z_]", "_", name.lower()) or None


def _use_clone(superuser_dsn: str, base: str, clone: str) -> str:
    """The clone's database name; made from `base` (a template copy) when missing."""
    target = f"{base}_{clone}"
    conn = psycopg2.connect(superuser_dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target,))
            if cur.fetchone() is None:
                cur.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (base,),
                )
                cur.execute(f'CREATE DATABASE "{target}" TEMPLATE "{base}"')
    finally:
        conn.close()
    return target


def server() -> EmbeddedServer:
    home = bench_home()
    # fsync off: the dataset is a cache that can always be rebuilt; reads are unaffected.
    return EmbeddedServer(home / "server", port=PORT, fast_unsafe=True)


def _with_db(dsn: str, dbname: str, **overrides: str) -> str:
    params = parse_dsn(dsn)
    params["dbname"] = dbname
    params.update(overrides)
    return make_dsn(**params)


def first_rep(installer_dsn: str, schema: str = SCHEMA) -> str:
    conn = psycopg2.connect(installer_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"SELECT username FROM {schema}.app_user WHERE role = 'rep' AND active "
                "ORDER BY id LIMIT 1"
            )
            row = cur.fetchone()
    finally:
        conn.close()
    if row is None:
        raise RuntimeError("the dataset has no rep login")
    return row[0]


def prepare(
    scale: float,
    seed: int = demo.DEFAULT_SEED,
    superuser_dsn: str | None = None,
    progress=print,
) -> Dataset:
    """Start the bench server (or use `superuser_dsn`) and load the dataset unless cached."""
    import time

    dbname = dbname_for(scale, seed)
    marker: Path | None = None
    if superuser_dsn is None:
        srv = server()
        srv.start()
        superuser_dsn = srv.dsn()
        marker = srv.home / f"{dbname}.ready"
    conn = psycopg2.connect(superuser_dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
            exists = cur.fetchone() is not None
            cached = exists and (marker is None or marker.exists())
            if exists and not cached:
                cur.execute(f'DROP DATABASE "{dbname}" WITH (FORCE)')
            if not cached:
                cur.execute(f'CREATE DATABASE "{dbname}"')
    finally:
        conn.close()
    installer = _with_db(superuser_dsn, dbname)
    seconds = None
    if cached and marker is None:
        # A foreign server: trust the database only when it holds the data.
        c = psycopg2.connect(installer)
        try:
            with c.cursor() as cur:
                cached = demo.holds_data(cur, SCHEMA)
        finally:
            c.close()
    if cached:
        # The code under test expects its own schema: a dataset built before a migration gets
        # it here, in place.
        applied = [] if clone_name() else migrate.migrate(installer, SCHEMA)
        if applied:
            progress("migrated the cached dataset: " + ", ".join(
                f"{m.version:04d}_{m.name}" for m in applied))  # fmt: skip
    else:
        started = time.perf_counter()
        # Roles are server-wide and outlive a dropped database: each load gets roles of its own.
        c = psycopg2.connect(installer)
        try:
            with c.cursor() as cur:
                prefix = migrate.free_prefix(cur, SCHEMA)
        finally:
            c.close()
        progress(demo.load(installer, SCHEMA, scale=scale, seed=seed, progress=progress,
                           role_prefix=prefix))  # fmt: skip
        seconds = time.perf_counter() - started
        if marker is not None:
            marker.write_text(f"scale={scale} seed={seed} load_seconds={seconds:.1f}\n")
    clone = clone_name()
    if clone is not None:
        dbname = _use_clone(superuser_dsn, dbname, clone)
        installer = _with_db(superuser_dsn, dbname)
        applied = migrate.migrate(installer, SCHEMA)
        if applied:
            progress(f"migrated the clone {dbname}: " + ", ".join(
                f"{m.version:04d}_{m.name}" for m in applied))  # fmt: skip
    rep = first_rep(installer)
    return Dataset(installer, _with_db(superuser_dsn, dbname, user=rep), rep, SCHEMA, scale,
                   seed, seconds)  # fmt: skip


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="prepare (load or reuse) the bench dataset")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
    args = parser.parse_args()
    ds = prepare(args.scale, args.seed)
    print(f"ready: {ds.installer_dsn} (rep {ds.rep}); load {ds.load_seconds} s")
