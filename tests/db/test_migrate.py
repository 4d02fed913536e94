"""Migrations: complete, idempotent, safe from two terminals, and refusing newer schemas."""

from __future__ import annotations

import threading

import psycopg2
import pytest

from db import migrate
from db.connection import configure
from db.errors import SchemaError

SCHEMA = "switchboard"
TABLES = {
    "app_user", "team", "account", "contact", "contact_phone", "contact_email",
    "relationship_type", "contact_relationship", "activity", "pipeline", "stage",
    "opportunity", "support_case", "campaign", "campaign_member", "tag", "custom_field",
    "glossary_term", "document", "saved_view", "audit_log",
}  # fmt: skip


def _tables(dsn: str, schema: str = SCHEMA) -> dict[str, str]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = %s", (schema,)
            )
            return dict(cur.fetchall())
    finally:
        conn.close()


def test_every_table_of_the_data_model_exists_owned_by_the_owner_role(installer_dsn):
    tables = _tables(installer_dsn)
    assert TABLES <= set(tables)
    assert set(tables.values()) == {"switchboard_owner"}
    assert not _tables(installer_dsn, "public")


def test_migrate_twice_changes_nothing(installer_dsn):
    before = _tables(installer_dsn)
    assert migrate.migrate(installer_dsn, SCHEMA) == []
    assert _tables(installer_dsn) == before
    assert migrate.status(installer_dsn, SCHEMA) == (migrate.latest_version(),) * 2


def test_two_terminals_initialising_at_once_apply_each_migration_once(pg):
    name = "race_init"
    pg.drop(name)
    pg.execute(f'CREATE DATABASE "{name}"')
    dsn = pg.dsn(name)
    results: list[object] = []

    def run() -> None:
        try:
            results.append(len(migrate.migrate(dsn, SCHEMA, role_prefix=name)))
        except Exception as exc:  # noqa: BLE001 - the assertion below shows it
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert sorted(results, key=str) == [0, len(migrate.available())]
    finally:
        pg.drop(name)


def test_a_second_schema_lives_beside_the_first(installer_dsn):
    migrate.migrate(installer_dsn, "org_two")
    assert TABLES <= set(_tables(installer_dsn, "org_two"))


def test_client_refuses_a_newer_schema(installer_dsn, admin_dsn):
    conn = psycopg2.connect(installer_dsn)
    with conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO switchboard.schema_migrations (version, name) VALUES (9999, 'future')"
        )
    conn.close()
    with pytest.raises(SchemaError, match="newer than this client"):
        configure(admin_dsn, SCHEMA)
    with pytest.raises(SchemaError, match="newer than this client"):
        migrate.migrate(installer_dsn, SCHEMA)


def test_client_reports_a_missing_schema(pg):
    with pytest.raises(SchemaError, match="db init"):
        configure(pg.dsn("postgres"), SCHEMA)
