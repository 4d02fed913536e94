"""`switchboard db migrate` brings a database made by an older client up to date, keeping its
data (issue 9 part 12: no test ran it from an older schema)."""

from __future__ import annotations

import psycopg2

from db import migrate
from tests.security.installations import tag
from tests.test_cli import run

OLD = 4  # a schema as a client that shipped 0001-0004 left it


def test_db_migrate_from_an_older_schema_keeps_the_data(capsys, pg, monkeypatch):
    name = "cli_migrate_old"
    # An old client named the roles after the schema, and a new installation never adopts
    # roles that exist already (the test server has switchboard_*): a schema of its own.
    schema = f"old{tag()}"
    pg.drop(name)
    pg.execute(f'CREATE DATABASE "{name}"')
    dsn = pg.dsn(name)
    shipped = migrate.available()
    newer = [m for m in shipped if m.version > OLD]
    assert newer, "nothing newer than the old schema to migrate to"
    try:
        monkeypatch.setattr(migrate, "available", lambda: [m for m in shipped if m.version <= OLD])
        code, out, _ = run(capsys, "db", "init", "--dsn", dsn, "--schema", schema,
                             "--admin", "cli_mig_admin")
        assert code == 0 and f"{OLD:04d}_" in out
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"INSERT INTO {schema}.account (name) VALUES ('Made at v4') "
                        "RETURNING id")  # fmt: skip
            acc = cur.fetchone()[0]
        monkeypatch.undo()

        code, out, _ = run(capsys, "db", "status", "--dsn", dsn, "--schema", schema)
        assert code == 0 and f"version {OLD} " in out and "needs 'switchboard db migrate'" in out
        code, out, _ = run(capsys, "db", "migrate", "--dsn", dsn, "--schema", schema)
        assert code == 0
        assert out.strip() == "applied " + ", ".join(f"{m.version:04d}_{m.name}" for m in newer)
        code, out, _ = run(capsys, "db", "status", "--dsn", dsn, "--schema", schema)
        assert code == 0 and "up to date" in out
        # again: nothing to do
        code, out, _ = run(capsys, "db", "migrate", "--dsn", dsn, "--schema", schema)
        assert code == 0 and "is up to date" in out
        with conn.cursor() as cur:
            cur.execute(f"SELECT name FROM {schema}.account WHERE id = %s", (acc,))
            assert cur.fetchone() == ("Made at v4",)
            cur.execute("SELECT array_agg(version ORDER BY version) "
                        f"FROM {schema}.schema_migrations")  # fmt: skip
            assert cur.fetchone()[0] == [m.version for m in shipped]
        conn.close()
    finally:
        pg.drop(name)
