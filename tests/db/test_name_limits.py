"""Names have a maximum (issue 9 part 5): migration 0011's CHECK constraints refuse what the
forms refuse, and rows that were longer before 0011 are cut, their full text kept in history."""

from __future__ import annotations

import psycopg2
import psycopg2.errors
import pytest

from db import migrate
from db.services import validation
from tests.records_data import run
from tests.security.installations import tag

SCHEMA = "switchboard"


def test_the_database_refuses_names_longer_than_the_forms_allow(installer_dsn):
    longest = "A" * validation.ACCOUNT_NAME_MAX
    run(installer_dsn, "INSERT INTO account (name) VALUES (%s)", (longest,))
    for sql, value in [
        ("INSERT INTO account (name) VALUES (%s)", "A" * (validation.ACCOUNT_NAME_MAX + 1)),
        ("INSERT INTO account (name, city) VALUES ('x', %s)", "C" * (validation.PLACE_MAX + 1)),
        ("INSERT INTO contact (last_name) VALUES (%s)", "L" * (validation.PERSON_NAME_MAX + 1)),
        ("INSERT INTO contact (first_name, last_name) VALUES (%s, 'x')",
         "F" * (validation.PERSON_NAME_MAX + 1)),
    ]:  # fmt: skip
        with pytest.raises(psycopg2.errors.CheckViolation):
            run(installer_dsn, sql, (value,))


def test_longer_names_from_before_0011_are_cut_and_kept_in_history(pg, monkeypatch):
    name = "t3_limits"
    pg.drop(name)
    pg.execute(f'CREATE DATABASE "{name}"')
    dsn = pg.dsn(name)
    shipped = migrate.available()
    try:
        monkeypatch.setattr(migrate, "available", lambda: [m for m in shipped if m.version < 11])
        migrate.migrate(dsn, SCHEMA, role_prefix=f"lim{tag()}")  # its own roles (0008)
        sql = "INSERT INTO account (name) VALUES (%s) RETURNING id"
        (account,) = run(dsn, sql, ("N" * 5000,))[0]
        monkeypatch.setattr(migrate, "available", lambda: shipped)
        migrate.migrate(dsn, SCHEMA)
        (kept,) = run(dsn, "SELECT name FROM account WHERE id = %s", (account,))[0]
        assert kept == "N" * 199 + "…"
        history = run(dsn, "SELECT old_values->>'name' FROM audit_log WHERE table_name = 'account' "
                      "AND row_id = %s AND op = 'U'", (account,))  # fmt: skip
        assert history == [("N" * 5000,)]
    finally:
        pg.drop(name)
