"""BP presence: what a record screen pays for presence (docs/presence.md), as the dataset's rep
under row-level security, with 200 presence rows of another person (an admin) on other
records and that person on the measured contact.

- BP.others: `PresenceSession.others` (presence_of: the policy asks the record's visibility as
  the caller, and pg_stat_activity whether each backend still lives) on a contact the rep may
  read; floor: `SELECT 1` on the same kind of connection (one round trip).
- BP.others_hidden: the same for a contact the rep may not read (the answer is "nobody"):
  informational, and it shows what the timing tells a person with SQL access.
- BP.announce: `presence_set` and `presence_clear` of one contact (a screen opened and closed:
  two writes and two notices), per call; floor: `SELECT 1`.
- BP.sweep: `presence_sweep()` with 201 live rows and nothing to remove (what every app runs
  every few seconds); floor: `SELECT 1`.
"""

from __future__ import annotations

from itertools import count

import psycopg2
from psycopg2.extensions import make_dsn, parse_dsn

from bench.b12_audit import first_admin
from bench.common import Row, installer_cursor, measure_pair
from bench.dataset import Dataset
from db.presence import PresenceSession, sweep

OTHER_ROWS = 200
TARGET_MS = 2.0  # p95 of a presence call: far below a frame (16 ms)
SWEEP_TARGET_MS = 5.0


def _dsn(base: str, user: str) -> str:
    params = parse_dsn(base)
    params["user"] = user
    return make_dsn(**params)


def run(ds: Dataset, reps: int = 200) -> list[Row]:
    admin = first_admin(ds.installer_dsn, ds.schema)
    rep = PresenceSession(ds.user_dsn, ds.schema)
    other = PresenceSession(_dsn(ds.user_dsn, admin), ds.schema)
    try:
        with installer_cursor(ds.installer_dsn, ds.schema) as cur:
            cur.execute("SELECT id FROM app_user WHERE username = %s", (ds.rep,))
            (rep_id,) = cur.fetchone()
            # spread over the table: some in teams the rep may not read
            cur.execute("SELECT id FROM contact WHERE deleted_at IS NULL AND id %% 97 = 0 "
                        "ORDER BY id LIMIT %s", (OTHER_ROWS + 1000,))  # fmt: skip
            some = [r[0] for r in cur.fetchall()]
        floor_conn = psycopg2.connect(ds.user_dsn)
        floor_conn.autocommit = True
        floor_cur = floor_conn.cursor()

        def floor() -> None:
            floor_cur.execute("SELECT 1")
            floor_cur.fetchone()

        # a contact the rep may read, and one the rep may not
        floor_cur.execute(f"SET search_path = {ds.schema}, public")
        floor_cur.execute("SELECT id FROM contact WHERE id = ANY(%s) ORDER BY id", (some,))
        visible = [r[0] for r in floor_cur.fetchall()]
        hidden = sorted(set(some) - set(visible))
        if not visible:
            raise RuntimeError(f"the rep {ds.rep} (#{rep_id}) reads none of the first contacts")
        seen, unseen = visible[0], hidden[0] if hidden else None
        for cid in some[:OTHER_ROWS]:
            other.announce("contact", cid)
        other.announce("contact", seen, editing=True)
        if unseen is not None:
            other.announce("contact", unseen)
        assert [p.editing for p in rep.others("contact", seen)] == [True]

        rows: list[Row] = []
        stats, base = measure_pair(lambda: rep.others("contact", seen), floor, reps)
        rows.append(Row("BP.others", "who else has a contact open (2 present)", stats.p95,
                        base.p95, "ms", f"p95 <= {TARGET_MS:g} ms", stats.p95 <= TARGET_MS,
                        {"service": stats.as_dict(), "floor": base.as_dict()}))  # fmt: skip
        if unseen is not None:
            assert rep.others("contact", unseen) == []
            stats, base = measure_pair(lambda: rep.others("contact", unseen), floor, reps)
            rows.append(Row("BP.others_hidden", "the same, a contact the rep may not read",
                            stats.p95, base.p95, "ms", "informational", None,
                            {"service": stats.as_dict(), "floor": base.as_dict()}))  # fmt: skip
        turn = count()
        free = [c for c in visible[1:] if c not in some[:OTHER_ROWS]] or visible[1:]

        def open_close() -> None:
            cid = free[next(turn) % len(free)] if free else seen
            rep.announce("contact", cid)
            rep.leave("contact", cid)

        stats, base = measure_pair(open_close, floor, reps)
        # two calls per sample: per call
        per_call = {"median": stats.median / 2, "p95": stats.p95 / 2, "n": stats.n * 2}
        rows.append(Row("BP.announce", "presence_set or presence_clear, per call",
                        per_call["p95"], base.p95, "ms", f"p95 <= {TARGET_MS:g} ms",
                        per_call["p95"] <= TARGET_MS,
                        {"service": per_call, "floor": base.as_dict()}))  # fmt: skip
        sweep_cur = floor_conn.cursor()
        stats, base = measure_pair(lambda: sweep(sweep_cur), floor, reps)
        rows.append(Row("BP.sweep", f"presence_sweep() over {OTHER_ROWS + 2} live rows",
                        stats.p95, base.p95, "ms", f"p95 <= {SWEEP_TARGET_MS:g} ms",
                        stats.p95 <= SWEEP_TARGET_MS,
                        {"service": stats.as_dict(), "floor": base.as_dict()}))  # fmt: skip
        floor_conn.close()
        return rows
    finally:
        rep.close()
        other.close()
