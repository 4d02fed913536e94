"""A realistic audit log for the benchmark dataset, added to an already loaded database.

The demo loader skips the audit trigger (its rows are consistent by construction), so the
dataset has no history at all. `ensure()` adds ROWS_AT_SCALE_1 x scale entries (2M at
--scale 1.0, the size the issue measured the audit screen at) over the two years before the
newest activity, in time order, set-based in one INSERT: who (the dataset's people), what (a
table mix like a working CRM's: contacts, activities, phones and emails, deals, accounts,
cases), which row (existing ids), insert/update/delete, and small old/new values. Every choice
is a hash of (entry number, seed), so the same scale and seed give the same log. It is added
once: a database that already holds that many entries is left alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bench.common import installer_cursor

ROWS_AT_SCALE_1 = 2_000_000

# table, share of the entries in percent (cumulative bounds below)
MIX = (("contact", 35), ("activity", 25), ("contact_phone", 10), ("contact_email", 5),
       ("opportunity", 12), ("account", 9), ("support_case", 4))  # fmt: skip

_INSERT = """
WITH people AS (SELECT array_agg(username ORDER BY id) AS names FROM app_user),
span AS (SELECT coalesce(max(occurred_at), now()) AS last FROM activity),
ids AS (SELECT (SELECT min(id) FROM contact) AS c0, (SELECT max(id) FROM contact) AS c1,
               (SELECT min(id) FROM activity) AS v0, (SELECT max(id) FROM activity) AS v1,
               (SELECT min(id) FROM contact_phone) AS p0, (SELECT max(id) FROM contact_phone) AS p1,
               (SELECT min(id) FROM contact_email) AS e0, (SELECT max(id) FROM contact_email) AS e1,
               (SELECT min(id) FROM opportunity) AS o0, (SELECT max(id) FROM opportunity) AS o1,
               (SELECT min(id) FROM account) AS a0, (SELECT max(id) FROM account) AS a1,
               (SELECT min(id) FROM support_case) AS s0, (SELECT max(id) FROM support_case) AS s1),
g AS (
    SELECT n, abs(hashint8(n * 7919 + %(seed)s)::bigint) AS h1,
           abs(hashint8(n * 104729 + %(seed)s)::bigint) AS h2
      FROM generate_series(1::bigint, %(rows)s) n
),
e AS (
    SELECT n, h1, h2,
           CASE WHEN h1 %% 100 < %(b0)s THEN 'contact'
                WHEN h1 %% 100 < %(b1)s THEN 'activity'
                WHEN h1 %% 100 < %(b2)s THEN 'contact_phone'
                WHEN h1 %% 100 < %(b3)s THEN 'contact_email'
                WHEN h1 %% 100 < %(b4)s THEN 'opportunity'
                WHEN h1 %% 100 < %(b5)s THEN 'account'
                ELSE 'support_case' END AS t,
           CASE WHEN h2 %% 100 < 5 THEN 'I' WHEN h2 %% 100 < 97 THEN 'U' ELSE 'D' END AS op
      FROM g
)
INSERT INTO audit_log (at, actor, txid, table_name, row_id, op, old_values, new_values, account_id)
SELECT span.last - interval '730 days' * (1 - e.n::float8 / %(rows)s),
       people.names[1 + e.h2 %% array_length(people.names, 1)],
       1000000 + e.n,
       e.t,
       r.id,
       e.op,
       CASE WHEN e.op = 'I' THEN NULL ELSE v.old END,
       CASE WHEN e.op = 'D' THEN NULL ELSE v.new END,
       CASE WHEN e.t = 'account' THEN r.id END
  FROM e CROSS JOIN people CROSS JOIN span CROSS JOIN ids
 CROSS JOIN LATERAL (SELECT CASE e.t
        WHEN 'contact' THEN ids.c0 + e.h2 %% (ids.c1 - ids.c0 + 1)
        WHEN 'activity' THEN ids.v0 + e.h2 %% (ids.v1 - ids.v0 + 1)
        WHEN 'contact_phone' THEN ids.p0 + e.h2 %% (ids.p1 - ids.p0 + 1)
        WHEN 'contact_email' THEN ids.e0 + e.h2 %% (ids.e1 - ids.e0 + 1)
        WHEN 'opportunity' THEN ids.o0 + e.h2 %% (ids.o1 - ids.o0 + 1)
        WHEN 'account' THEN ids.a0 + e.h2 %% (ids.a1 - ids.a0 + 1)
        ELSE ids.s0 + e.h2 %% (ids.s1 - ids.s0 + 1) END AS id,
        ids.c0 + e.h1 %% (ids.c1 - ids.c0 + 1) AS contact_id) r
 CROSS JOIN LATERAL (SELECT
        CASE e.t
            WHEN 'contact' THEN jsonb_build_object('job_title', 'Buyer ' || e.h1 %% 97)
            WHEN 'activity' THEN jsonb_build_object('subject', 'Call ' || e.h1 %% 991,
                                                    'outcome', 'no answer')
            WHEN 'contact_phone' THEN jsonb_build_object('raw', '070-' || e.h1 %% 9999999,
                                                         'contact_id', r.contact_id)
            WHEN 'contact_email' THEN jsonb_build_object('email', e.h1 %% 99991 || '@old.example',
                                                         'contact_id', r.contact_id)
            WHEN 'opportunity' THEN jsonb_build_object('amount', e.h1 %% 500000, 'probability', 25)
            WHEN 'account' THEN jsonb_build_object('tier', 'silver')
            ELSE jsonb_build_object('status', 'open') END AS old,
        CASE e.t
            WHEN 'contact' THEN jsonb_build_object('job_title', 'Head of purchasing ' || e.h2 %% 89)
            WHEN 'activity' THEN jsonb_build_object('subject', 'Call ' || e.h2 %% 991,
                                                    'outcome', 'reached')
            WHEN 'contact_phone' THEN jsonb_build_object('raw', '070-' || e.h2 %% 9999999,
                                                         'contact_id', r.contact_id)
            WHEN 'contact_email' THEN jsonb_build_object('email', e.h2 %% 99991 || '@new.example',
                                                         'contact_id', r.contact_id)
            WHEN 'opportunity' THEN jsonb_build_object('amount', e.h2 %% 500000, 'probability', 50)
            WHEN 'account' THEN jsonb_build_object('tier', 'gold')
            ELSE jsonb_build_object('status', 'pending') END AS new) v
 ORDER BY e.n
"""


def target_rows(scale: float) -> int:
    return max(1000, round(ROWS_AT_SCALE_1 * scale))


def ensure(installer_dsn: str, schema: str, scale: float, seed: int,
           progress: Callable[[str], object] = print) -> int:
    """Add the benchmark's audit log unless the database already holds one; its size."""
    rows = target_rows(scale)
    with installer_cursor(installer_dsn, schema) as cur:
        cur.execute("SELECT count(*) FROM audit_log")
        present = cur.fetchone()[0]
        if present >= rows:
            return present
        progress(f"adding {rows:,} audit log entries (once per dataset) ...")
        started = time.perf_counter()
        bounds, total = {}, 0
        for i, (_, share) in enumerate(MIX[:-1]):
            total += share
            bounds[f"b{i}"] = total
        cur.execute("SET synchronous_commit = off; SET work_mem = '256MB'; "
                    "SET maintenance_work_mem = '512MB'")  # fmt: skip
        # One transaction: its secondary indexes are dropped and built again after the load
        # (a sorted build, not millions of random insertions), or nothing happened at all.
        cur.execute("SELECT format('%I.%I', n.nspname, c.relname), pg_get_indexdef(i.indexrelid) "
                    "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE i.indrelid = 'audit_log'::regclass AND NOT i.indisprimary")  # fmt: skip
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f"DROP INDEX {name}")
        cur.execute(_INSERT, {"rows": rows, "seed": seed, **bounds})
        for _, create in indexes:
            cur.execute(create)
        cur.connection.commit()
        cur.execute("ANALYZE audit_log")
        cur.connection.commit()
        progress(f"  audit log: {rows:,} entries in {time.perf_counter() - started:.1f} s")
        return present + rows
