"""The no-cycle rule of the account tree holds under concurrency (issue 9 part 5, QA case 66):
two reps moving "1 under 17" and "17 under 1" at the same time cannot both commit."""

from __future__ import annotations

import threading
import time

import psycopg2
import psycopg2.errors
import pytest
from psycopg2.extensions import ISOLATION_LEVEL_REPEATABLE_READ

from tests.records_data import add_login, run

SCHEMA_OPTS = "-c search_path=switchboard,public"


@pytest.fixture
def two_accounts(installer_dsn) -> tuple[int, int]:
    for name in ("sb_rep_one", "sb_rep_two"):
        add_login(installer_dsn, name, role="rep")
    rows = run(installer_dsn, """
        INSERT INTO account (name, owner_id)
        SELECT n, (SELECT id FROM app_user WHERE username = 'sb_rep_one')
          FROM unnest(ARRAY['King Group Holding', 'Nilsson AB Holding']) n
        RETURNING id""")  # fmt: skip
    run(installer_dsn, "UPDATE sharing_default SET access = 'public_read_write'")
    return rows[0][0], rows[1][0]


def rep(pg, db_name: str, user: str) -> psycopg2.extensions.connection:
    return psycopg2.connect(pg.dsn(db_name, user=user, options=SCHEMA_OPTS))


def parents(installer_dsn: str, a: int, b: int) -> dict[int, int | None]:
    return dict(run(installer_dsn, "SELECT id, parent_id FROM account WHERE id IN (%s, %s)",
                    (a, b)))  # fmt: skip


def waiting_on_a_lock(installer_dsn: str, pid: int) -> bool:
    rows = run(installer_dsn, "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
               (pid,))  # fmt: skip
    return bool(rows) and rows[0][0] == "Lock"


def test_two_reps_moving_accounts_under_each_other_at_once(two_accounts, pg, db_name,
                                                           installer_dsn):  # fmt: skip
    one, seventeen = two_accounts
    first, second = rep(pg, db_name, "sb_rep_one"), rep(pg, db_name, "sb_rep_two")
    outcome: list[BaseException | None] = []
    try:
        with first.cursor() as cur:  # held open, as a slow session would
            cur.execute("UPDATE account SET parent_id = %s WHERE id = %s", (seventeen, one))

        def move_back() -> None:
            try:
                with second, second.cursor() as cur:
                    cur.execute("UPDATE account SET parent_id = %s WHERE id = %s", (one, seventeen))
                outcome.append(None)
            except psycopg2.Error as exc:
                outcome.append(exc)

        thread = threading.Thread(target=move_back, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not outcome and not waiting_on_a_lock(installer_dsn, second.get_backend_pid()):
            assert time.monotonic() < deadline, "the second move neither finished nor waited"
            time.sleep(0.01)  # polling a condition, not timing one
        first.commit()
        thread.join(20)
        assert outcome and isinstance(outcome[0], psycopg2.errors.CheckViolation), outcome
        assert "own sub-account" in str(outcome[0])
    finally:
        first.close()
        second.close()
    assert parents(installer_dsn, one, seventeen) == {one: seventeen, seventeen: None}


def test_a_repeatable_read_move_cannot_use_an_old_snapshot(two_accounts, pg, db_name,
                                                           installer_dsn):  # fmt: skip
    one, seventeen = two_accounts
    late = rep(pg, db_name, "sb_rep_two")
    late.set_isolation_level(ISOLATION_LEVEL_REPEATABLE_READ)
    try:
        with late.cursor() as cur:
            cur.execute("SELECT count(*) FROM account")  # the snapshot is taken here
        run(pg.dsn(db_name, user="sb_rep_one"), "UPDATE account SET parent_id = %s WHERE id = %s",
            (seventeen, one))  # fmt: skip
        with pytest.raises((psycopg2.errors.SerializationFailure,
                            psycopg2.errors.CheckViolation)):  # fmt: skip
            with late.cursor() as cur:
                cur.execute("UPDATE account SET parent_id = %s WHERE id = %s", (one, seventeen))
        late.rollback()
    finally:
        late.close()
    assert parents(installer_dsn, one, seventeen) == {one: seventeen, seventeen: None}


def test_a_single_move_under_a_sub_account_is_still_refused(two_accounts, installer_dsn):
    one, seventeen = two_accounts
    run(installer_dsn, "UPDATE account SET parent_id = %s WHERE id = %s", (one, seventeen))
    with pytest.raises(psycopg2.errors.CheckViolation):
        run(installer_dsn, "UPDATE account SET parent_id = %s WHERE id = %s", (seventeen, one))
