"""Whatever a save dies of becomes one line a form can show (db/services/failures.py)."""

from __future__ import annotations

import psycopg2
import pytest

from db.errors import DatabaseUnavailable, SwitchboardError, ValidationError
from db.services import failures


def raised(dsn: str, *statements: str) -> BaseException:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
    except psycopg2.Error as exc:
        return exc
    finally:
        conn.close()
    raise AssertionError("nothing was raised")


def test_a_statement_timeout_says_the_database_did_not_answer(installer_dsn):
    exc = raised(installer_dsn, "SET statement_timeout = 10", "SELECT pg_sleep(2)")
    error = failures.explain(exc)
    assert isinstance(error, DatabaseUnavailable) and "did not answer within" in str(error)


def test_a_terminated_backend_is_a_lost_connection(installer_dsn):
    exc = raised(installer_dsn, "SELECT pg_terminate_backend(pg_backend_pid())")
    assert str(failures.explain(exc)) == "the connection to the database was lost"
    assert failures.not_saved(exc).endswith("ctrl+s tries again.")


def test_a_refused_value_names_its_rule_and_a_bug_is_named_too(installer_dsn):
    exc = raised(installer_dsn, "SET search_path = switchboard",
                 "INSERT INTO account (name) VALUES ('')")  # fmt: skip
    assert isinstance(failures.explain(exc), ValidationError)
    error = failures.explain(KeyError("x"))
    assert type(error) is SwitchboardError and "unexpected error (KeyError" in str(error)


@pytest.mark.parametrize("exc", [ValidationError("name", "is required")])
def test_our_own_errors_pass_through(exc):
    assert failures.explain(exc) is exc
