"""Demo data (db/demo.py): deterministic, realistic, refused on non-empty databases, CLI."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import date
from pathlib import Path

import psycopg2
import pytest

from db import demo, phones
from db.errors import SwitchboardError, ValidationError
from tests.conftest import DEMO_SCALE, SCHEMA
from tests.conftest import TestServer as PgServer
from tui.cli import main

REGION = {"Sweden": "SE", "Germany": "DE", "United Kingdom": "GB", "United States": "US",
          "Japan": "JP"}  # fmt: skip

# What "the same data" means: every generated column except server clock defaults.
FINGERPRINT = {
    "account": "id, name, parent_id, kind, industry, phone, city, owner_id, team_id, created_at",
    "contact": "id, account_id, full_name, job_title, birthday, city, owner_id, created_at",
    "contact_phone": "id, contact_id, kind, raw, e164, position",
    "contact_email": "id, contact_id, email, is_primary",
    "contact_relationship": "id, from_contact_id, to_contact_id, type_id",
    "activity": "id, client_uuid, kind, subject, occurred_at, outcome, author_id, contact_id",
    "opportunity": "id, account_id, name, amount, stage_id, expected_close, is_closed",
    "support_case": "id, account_id, contact_id, subject, status, created_at",
    "campaign_member": "campaign_id, contact_id, status",
    "app_user": "username, display_name, role, team_id",
}


def query(dsn: str, sql: str, params: tuple = ()) -> list[tuple]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SET search_path = {SCHEMA}, public")
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def fingerprint(dsn: str) -> dict[str, str]:
    return {
        table: query(dsn, "SELECT count(*) || ':' || md5(string_agg(t::text, '|' "
                     f"ORDER BY t::text)) FROM (SELECT {cols} FROM {table}) t")[0][0]  # fmt: skip
        for table, cols in FINGERPRINT.items()
    }


@pytest.fixture
def second_db(pg: PgServer, template_db: str):
    name = pg.clone(template_db)
    yield name
    pg.drop(name)


def test_same_seed_gives_the_same_data_and_another_seed_does_not(
    pg: PgServer, installer_dsn: str, second_db: str, template_db: str
) -> None:
    quiet = {"progress": lambda _: None, "today": date(2025, 1, 31)}
    demo.load(installer_dsn, SCHEMA, scale=0.002, seed=7, **quiet)
    demo.load(pg.dsn(second_db), SCHEMA, scale=0.002, seed=7, **quiet)
    first = fingerprint(installer_dsn)
    assert first == fingerprint(pg.dsn(second_db))
    third = pg.clone(template_db)
    try:
        demo.load(pg.dsn(third), SCHEMA, scale=0.002, seed=8, **quiet)
        other = fingerprint(pg.dsn(third))
    finally:
        pg.drop(third)
    assert other["contact"] != first["contact"]
    assert other["contact_phone"] != first["contact_phone"]


def test_refuses_a_database_that_holds_data(pg: PgServer, demo_db_name: str) -> None:
    dsn = pg.dsn(demo_db_name)
    before = query(dsn, "SELECT count(*) FROM account")[0][0]
    with pytest.raises(demo.DatabaseNotEmpty) as caught:
        demo.load(dsn, SCHEMA, scale=0.002, progress=lambda _: None)
    assert isinstance(caught.value, SwitchboardError)
    assert str(caught.value) == (
        "the database already holds data; demo data goes only into an empty database"
    )
    assert query(dsn, "SELECT count(*) FROM account")[0][0] == before


def test_refuses_one_lone_contact_too(installer_dsn: str) -> None:
    conn = psycopg2.connect(installer_dsn)
    with conn, conn.cursor() as cur:
        cur.execute(f"INSERT INTO {SCHEMA}.contact (first_name) VALUES ('Åsa')")
    conn.close()
    with pytest.raises(demo.DatabaseNotEmpty):
        demo.load(installer_dsn, SCHEMA, scale=0.002, progress=lambda _: None)
    assert query(installer_dsn, "SELECT count(*) FROM account")[0][0] == 0


def test_bad_scale_is_refused_with_the_field_named(installer_dsn: str) -> None:
    with pytest.raises(ValidationError) as caught:
        demo.load(installer_dsn, SCHEMA, scale=0, progress=lambda _: None)
    assert caught.value.field == "scale"


def test_counts_follow_the_scale(pg: PgServer, demo_db_name: str) -> None:
    dsn = pg.dsn(demo_db_name)
    accounts, contacts, phone_rows, emails, activities = query(dsn, """
        SELECT (SELECT count(*) FROM account), (SELECT count(*) FROM contact),
               (SELECT count(*) FROM contact_phone), (SELECT count(*) FROM contact_email),
               (SELECT count(*) FROM activity)""")[0]  # fmt: skip
    assert accounts >= 100_000 * DEMO_SCALE * 0.95
    assert abs(contacts - 1_000_000 * DEMO_SCALE) <= 1_000_000 * DEMO_SCALE * 0.05
    assert 1.8 <= phone_rows / contacts <= 2.2
    assert 1.3 <= emails / contacts <= 1.7
    assert 4.5 <= activities / contacts <= 5.5
    opps, open_opps, stages = query(dsn, """
        SELECT count(*), count(*) FILTER (WHERE NOT is_closed), count(DISTINCT stage_id)
        FROM opportunity""")[0]  # fmt: skip
    assert opps == 200_000 * DEMO_SCALE and open_opps == opps // 10
    assert stages == query(dsn, "SELECT count(*) FROM stage")[0][0]  # every stage
    assert query(dsn, "SELECT count(*) FROM support_case")[0][0] == 20_000 * DEMO_SCALE


def test_users_teams_and_roles(pg: PgServer, demo_db_name: str) -> None:
    dsn = pg.dsn(demo_db_name)
    roles = dict(query(dsn, "SELECT role, count(*) FROM app_user WHERE username <> 'sb_admin' "
                            "GROUP BY role"))  # fmt: skip
    assert sum(roles.values()) >= 6
    assert set(roles) == {"admin", "manager", "rep", "agent"}
    assert query(dsn, "SELECT count(*) FROM team WHERE manager_id IS NULL")[0][0] == 0
    assert query(dsn, "SELECT count(*) FROM team WHERE parent_id IS NOT NULL")[0][0] >= 1
    # Each demo user is a real login in the group role of their app role.
    rows = query(dsn, """
        SELECT u.username, u.role, pg_has_role(u.username, %s || '_' || u.role, 'MEMBER')
        FROM app_user u""", (SCHEMA,))  # fmt: skip
    assert all(member for _, _, member in rows)


def test_hierarchy_reaches_six_levels_and_big_parents_exist(
    pg: PgServer, demo_db_name: str
) -> None:
    dsn = pg.dsn(demo_db_name)
    depth = query(dsn, """
        WITH RECURSIVE t(id, depth) AS (
            SELECT id, 1 FROM account WHERE parent_id IS NULL
            UNION ALL SELECT a.id, t.depth + 1 FROM account a JOIN t ON a.parent_id = t.id)
        SELECT max(depth) FROM t""")[0][0]  # fmt: skip
    assert depth == 6
    kinds = {k for (k,) in query(dsn, "SELECT DISTINCT kind FROM account")}
    assert {"holding", "subsidiary", "division", "company", "household"} <= kinds
    biggest = query(dsn, "SELECT max(n) FROM (SELECT count(*) n FROM account "
                         "GROUP BY parent_id HAVING parent_id IS NOT NULL) c")[0][0]
    assert biggest >= 1500 * DEMO_SCALE


def test_relationships_are_typed_and_plausible(pg: PgServer, demo_db_name: str) -> None:
    dsn = pg.dsn(demo_db_name)
    keys = {k for (k,) in query(dsn, """
        SELECT DISTINCT t.key FROM contact_relationship r
        JOIN relationship_type t ON t.id = r.type_id""")}  # fmt: skip
    assert {"reports_to", "assistant_of", "spouse_of", "parent_of", "teacher_of",
            "guardian_of"} <= keys  # fmt: skip
    # Reports-to stays inside one account; spouses share a household and a last name.
    assert query(dsn, """
        SELECT count(*) FROM contact_relationship r JOIN relationship_type t ON t.id = r.type_id
        JOIN contact a ON a.id = r.from_contact_id JOIN contact b ON b.id = r.to_contact_id
        WHERE t.key = 'reports_to' AND a.account_id IS DISTINCT FROM b.account_id""")[0][0] == 0
    assert query(dsn, """
        SELECT count(*) FROM contact_relationship r JOIN relationship_type t ON t.id = r.type_id
        JOIN contact a ON a.id = r.from_contact_id JOIN contact b ON b.id = r.to_contact_id
        WHERE t.key = 'spouse_of' AND a.last_name <> b.last_name""")[0][0] == 0


def test_phones_in_both_formats_normalise_to_their_e164(pg: PgServer, demo_db_name: str) -> None:
    dsn = pg.dsn(demo_db_name)
    rows = query(dsn, """
        SELECT p.raw, p.e164, c.country FROM contact_phone p JOIN contact c ON c.id = p.contact_id
        ORDER BY p.id""")  # fmt: skip
    national = [r for r in rows if not r[0].startswith("+")]
    international = [r for r in rows if r[0].startswith("+")]
    assert len(national) > len(rows) * 0.4 and len(international) > len(rows) * 0.4
    for raw, e164, country in rows[::7]:
        assert phones.to_e164(raw, REGION[country]) == e164, raw
    assert len({country for _, _, country in rows}) == 5
    e164s = [e for _, e, _ in rows]
    assert len(set(e164s)) == len(e164s)  # distinct by construction: caller ID finds one person


def test_names_emails_and_history_look_real(pg: PgServer, demo_db_name: str) -> None:
    dsn = pg.dsn(demo_db_name)
    names = [n for (n,) in query(dsn, "SELECT full_name FROM contact")]
    assert any(any("\u3040" <= ch <= "\u9fff" for ch in n) for n in names)  # Japanese
    assert any(any(ch in "åäöÅÄÖ" for ch in n) for n in names)  # Swedish
    assert all("[" not in n and "\x1b" not in n for n in names)  # realistic, not hostile
    bad = query(dsn, "SELECT email FROM contact_email WHERE email !~ '^[a-z0-9.]+@[a-z0-9.-]+$'")
    assert bad == []
    first, last = query(dsn, "SELECT min(occurred_at), max(occurred_at) FROM activity")[0]
    assert 690 <= (last - first).days <= 731
    busiest = query(dsn, "SELECT count(*) FROM activity GROUP BY account_id "
                         "ORDER BY count(*) DESC LIMIT 1")[0][0]  # fmt: skip
    assert busiest >= 50_000 * DEMO_SCALE
    members = query(dsn, "SELECT count(*), count(DISTINCT campaign_id) FROM campaign_member")[0]
    assert members[0] > 0 and members[1] == query(dsn, "SELECT count(*) FROM campaign")[0][0]


def test_cli_demo_loads_then_refuses(
    installer_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--dsn", installer_dsn, "--scale", "0.002", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"demo data loaded .*: [\d,]+ accounts, [\d,]+ contacts", out)
    assert main(["demo", "--dsn", installer_dsn, "--scale", "0.002"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        "switchboard: the database already holds data; demo data goes only into an empty database"
    )
    assert main(["demo", "--dsn", installer_dsn, "--scale", "0"]) == 2
    assert "--scale" in capsys.readouterr().err


def test_cli_demo_migrates_a_bare_database_first(
    pg: PgServer, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"bare_{os.getpid()}"
    pg.drop(name)
    pg.execute(f'CREATE DATABASE "{name}"')
    try:
        assert main(["demo", "--dsn", pg.dsn(name), "--scale", "0.002", "--role-prefix", name]) == 0
        assert query(pg.dsn(name), "SELECT count(*) > 0 FROM contact")[0][0]
    finally:
        pg.drop(name)


@pytest.mark.slow
def test_demo_workspace_prepare_fills_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """`switchboard --demo` path: workspace.prepare starts a private server and fills it."""
    from db import workspace

    home = Path(tempfile.mkdtemp(prefix="sbdemo-"))
    os.chmod(home, 0o755)
    monkeypatch.setenv("SWITCHBOARD_HOME", str(home))
    monkeypatch.setattr(demo, "DEFAULT_SCALE", 0.002)
    srv = workspace.server()
    try:
        dsn = workspace.prepare(SCHEMA, demo=True, progress=lambda _: None)
        assert "switchboard_demo" in dsn
        installer = srv.dsn(workspace.DEMO_DB)
        assert query(installer, "SELECT count(*) FROM account")[0][0] >= 200
        workspace.prepare(SCHEMA, demo=True, progress=lambda _: None)  # second start: no reload
        assert query(installer, "SELECT count(*) FROM account")[0][0] < 400
    finally:
        srv.stop(mode="immediate")
        import shutil

        shutil.rmtree(home, ignore_errors=True)
