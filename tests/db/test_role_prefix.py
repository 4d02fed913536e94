"""Role prefixes (db/migrate.py): how migrations name roles, and how a new database picks its."""

from __future__ import annotations

import psycopg2
import pytest

from db import migrate, workspace
from db.errors import SchemaError
from tests.security.installations import tag


def test_role_names_follow_the_prefix_and_the_admin_api_schema_the_schema():
    text = "{{schema}}_rep {{roles}}_owner {{schema}}_admin_api {{schema}}_useradmin {{schema}}.x"
    assert migrate.render(text, "acme", "org2") == "org2_rep org2_owner acme_admin_api " \
        "org2_useradmin acme.x"  # fmt: skip
    assert (
        migrate.render(text, "acme") == "acme_rep acme_owner acme_admin_api acme_useradmin acme.x"
    )


@pytest.mark.parametrize("bad", ["", "Acme", "1org", "a-b", "x" * 41])
def test_a_bad_prefix_is_refused_with_the_rule(bad):
    with pytest.raises(SchemaError, match="role prefix .*lower-case letters"):
        migrate.check_prefix(bad)


def test_a_new_workspace_database_takes_roles_no_one_holds(pg, template_db, installer_dsn):
    """On this server the template holds switchboard_*: a new database gets switchboard_2."""
    name = f"ws_{tag()}"
    pg.execute(f'CREATE DATABASE "{name}"')
    try:
        dsn = pg.dsn(name)
        prefix = workspace._new_prefix(dsn, "switchboard", demo=False)
        assert prefix != "switchboard" and prefix.startswith("switchboard_")
        conn = psycopg2.connect(dsn)
        with conn.cursor() as cur:
            migrate.check_roles_free(cur, prefix)  # free indeed
            assert migrate.free_prefix(cur, workspace.demo_prefix("switchboard")).startswith(
                "switchboard_demo"
            )
        conn.close()
    finally:
        pg.drop(name)
    assert workspace._new_prefix(installer_dsn, "switchboard", demo=True) is None  # installed
