"""Nothing is LEAKPROOF (migration 0010), and the SECURITY DEFINER duplicate checks and name
searches that replace it apply the caller's visibility first: for every person they return
exactly the rows that person may read, never a hidden one, and they still use their indexes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import psycopg2
import pytest

from tests.security.conftest import SCHEMA, World, set_all_defaults

MIGRATION = Path(__file__).parents[2] / "db/migrations/0010_audit_visibility_and_no_leakproof.sql"
PEOPLE = ("rita", "nate", "sam", "mona", "aga", "admin")
FUNCTIONS = {
    "contact_duplicates(text,text[],text[],bigint,bigint,real,integer)",
    "account_duplicates(text,bigint,real,integer)",
    "search_account_ids(text,text,bigint,integer)",
    "search_contact_ids(text,bigint,integer)",
}
PHONE = "+46701234567"  # every contact of the fixture but the orphan has it


def rows(w: World, who: str, sql: str, params: tuple = ()) -> list:
    with w.connect(who).cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def ids(w: World, who: str, sql: str, params: tuple = ()) -> set[int]:
    return {r[0] for r in rows(w, who, sql, params)}


def test_nothing_of_the_installation_or_pg_trgm_is_leakproof(world: World):
    # The test server's installer is a superuser: 0006 marked similarity_op, 0010 unmarks it.
    assert world.installer(
        "SELECT p.oid::regprocedure::text FROM pg_proc p "
        "LEFT JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid "
        "AND d.deptype = 'e' LEFT JOIN pg_extension e ON e.oid = d.refobjid "
        "WHERE p.proleakproof AND (e.extname = 'pg_trgm' "
        "OR p.pronamespace::regnamespace::text LIKE %s)", (SCHEMA + "%",)
    ) == []


def test_without_a_superuser_the_reset_warns_and_says_what_to_run(world: World):
    w = world
    w.installer("ALTER FUNCTION public.similarity_op(text, text) LEAKPROOF")
    block = re.search(r"DO \$leakproof\$.*?\$leakproof\$;", MIGRATION.read_text(), re.S)
    assert block is not None
    login = f"plain_installer_{w.db}"
    w.installer(f'CREATE ROLE "{login}" LOGIN; GRANT CONNECT ON DATABASE "{w.db}" TO "{login}"')
    try:
        conn = psycopg2.connect(w.pg.dsn(w.db, user=login))
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(block.group(0))  # no error: the migration goes on
        conn.close()
        warning = [n for n in conn.notices if "similarity_op" in n]
        assert len(warning) == 1 and warning[0].startswith("WARNING:")
        assert "only a superuser can undo it" in warning[0]
        assert w.one("SELECT proleakproof FROM pg_proc WHERE proname = 'similarity_op'") is True
    finally:
        w.installer(f'REVOKE CONNECT ON DATABASE "{w.db}" FROM "{login}"; DROP ROLE "{login}"')


def _plan_indexes(w: World, who: str, sql: str) -> set[str]:
    """Names of the indexes in the plan of `sql` run as `who` with sequential scans off."""
    conn = w.connect(who, autocommit=False)
    with conn.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        plan = cur.fetchone()[0]
    conn.rollback()
    text = json.dumps(plan)
    return set(re.findall(r'"Index Name": "([^"]+)"', text))


def test_a_trigram_condition_no_longer_runs_below_row_level_security(world: World):
    # LEAKPROOF, `%` ran in the index scan, before the policy: EXPLAIN ANALYZE then counted
    # the hidden accounts whose name matched. Now it is a filter above the policy.
    set_all_defaults(world, "private")
    used = _plan_indexes(
        world, "rita", "SELECT id FROM account WHERE name OPERATOR(public.%) 'Acme of sam'")
    assert "account_name_trgm" not in used


def test_the_definer_functions_are_owned_pinned_and_for_this_installation_only(world: World):
    found = world.installer(
        "SELECT p.oid::regprocedure::text, p.prosecdef, p.proowner::regrole::text, "
        "p.proconfig, (SELECT array_agg(DISTINCT a.grantee::regrole::text ORDER BY "
        "a.grantee::regrole::text) FROM aclexplode(p.proacl) a WHERE a.privilege_type = "
        "'EXECUTE') FROM pg_proc p WHERE p.pronamespace = %s::regnamespace "
        "AND p.proname IN ('contact_duplicates', 'account_duplicates', 'search_account_ids', "
        "'search_contact_ids')", (SCHEMA,))  # fmt: skip
    assert {f[0].removeprefix(SCHEMA + ".") for f in found} == FUNCTIONS
    for _name, definer, owner, config, grantees in found:
        assert definer and owner == f"{SCHEMA}_owner"
        assert f"search_path=pg_catalog, {SCHEMA}, public, pg_temp" in config
        assert grantees == [f"{SCHEMA}_owner", f"{SCHEMA}_user"]  # not PUBLIC


def test_the_visibility_views_are_readable_by_their_owner_alone(world: World):
    readers = world.installer(
        "SELECT v.relname, r.rolname FROM pg_class v CROSS JOIN pg_roles r "
        "WHERE v.relnamespace = %s::regnamespace AND v.relname LIKE 'sec_visible_%%' "
        "AND NOT r.rolsuper AND r.rolname NOT LIKE 'pg_%%' "
        "AND has_table_privilege(r.oid, v.oid, 'SELECT') ORDER BY 1, 2", (SCHEMA,))  # fmt: skip
    assert readers == [("sec_visible_account", f"{SCHEMA}_owner"),
                       ("sec_visible_case", f"{SCHEMA}_owner"),
                       ("sec_visible_contact", f"{SCHEMA}_owner"),
                       ("sec_visible_opportunity", f"{SCHEMA}_owner")]  # fmt: skip
    with world.connect("admin").cursor() as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("SELECT count(*) FROM sec_visible_contact")


def _share_nate_with_rita(w: World) -> None:
    w.installer("INSERT INTO account_share (account_id, user_id, access) VALUES (%s, %s, 'read')",
                (w.ids["acc_nate"], w.ids["rita"]))  # fmt: skip


@pytest.mark.parametrize("sharing", ["private", "public_read", "private+share", "mixed"])
def test_name_searches_return_exactly_what_each_person_may_read(world: World, sharing: str):
    w = world
    set_all_defaults(w, "public_read" if sharing == "public_read" else "private")
    if sharing == "private+share":
        _share_nate_with_rita(w)
    if sharing == "mixed":  # South's own override opens South's records to all
        w.installer("UPDATE team SET sharing = 'public_read' WHERE id = %s", (w.ids["south"],))
    for who in PEOPLE:
        accounts = ids(w, who, "SELECT id FROM account WHERE deleted_at IS NULL")
        contacts = ids(w, who, "SELECT id FROM contact WHERE deleted_at IS NULL")
        assert ids(w, who, "SELECT search_account_ids('', NULL, NULL, 1000)") == accounts, who
        assert ids(w, who, "SELECT search_contact_ids('', NULL, 1000)") == contacts, who
        assert ids(w, who, "SELECT search_account_ids('acme of', NULL, NULL, 1000)") == accounts
        assert ids(w, who, "SELECT search_contact_ids('SECRET', NULL, 1000)") == {
            c for c in contacts if c != w.ids["con_orphan_sam"]}  # fmt: skip


@pytest.mark.parametrize("sharing", ["private", "public_read", "private+share"])
def test_duplicate_checks_never_return_a_hidden_row(world: World, sharing: str):
    w = world
    set_all_defaults(w, "public_read" if sharing == "public_read" else "private")
    if sharing == "private+share":
        _share_nate_with_rita(w)
    for who in PEOPLE:
        same_phone = ids(w, who, "SELECT contact_id FROM contact_phone WHERE e164 = %s", (PHONE,))
        similar = ids(w, who, "SELECT id FROM account "
                              "WHERE public.similarity(name, 'Acme of rita') >= 0.5")
        assert ids(w, who, "SELECT id FROM contact_duplicates('', '{}', %s, NULL, NULL, 0.6, 100)",
                   ([PHONE],)) == same_phone, who  # fmt: skip
        assert ids(w, who, "SELECT id FROM account_duplicates('Acme of rita', NULL, 0.5, 100)"
                   ) == similar, who  # fmt: skip
        orphan = ids(w, who, "SELECT id FROM contact WHERE account_id IS NULL "
                             "AND public.similarity(full_name, 'Olle Orphan') >= 0.6")  # fmt: skip
        assert ids(w, who, "SELECT id FROM contact_duplicates('Olle Orphan', '{}', '{}', NULL, "
                           "NULL, 0.6, 100)") == orphan, who  # fmt: skip
    assert len(ids(w, "admin", "SELECT id FROM contact_duplicates('', '{}', %s, NULL, NULL, "
                               "0.6, 100)", ([PHONE],))) == 4  # fmt: skip


def test_a_visible_contact_in_a_hidden_account_shows_no_account_name(world: World):
    w = world
    set_all_defaults(w, "private")
    w.installer("UPDATE contact SET account_id = %s WHERE id = %s",
                (w.ids["acc_sam"], w.ids["con_rita"]))  # still rita's: she sees it  # fmt: skip
    assert rows(w, "rita", "SELECT id, account_name, reason FROM contact_duplicates("
                           "'', '{}', %s, NULL, NULL, 0.6, 5)", ([PHONE],)) == [
        (w.ids["con_rita"], None, "same phone")]  # fmt: skip
    assert rows(w, "sam", "SELECT account_name FROM contact_duplicates("
                          "'', '{}', %s, NULL, NULL, 0.6, 5)", ([PHONE],)) == [
        ("Acme of sam",), ("Acme of sam",)]  # sam's own contact, and rita's now in his account


def test_people_without_an_active_person_row_find_nothing(world: World):
    w = world
    set_all_defaults(w, "public_read_write")
    login = f"stranger_{w.db}"
    w.installer(f'CREATE ROLE "{login}" LOGIN IN ROLE {SCHEMA}_rep; '
                f'GRANT CONNECT ON DATABASE "{w.db}" TO "{login}"')
    try:
        w.users["stranger"] = login
        # rita's person row made inactive behind the admin API's back (she can still log in,
        # as in a race with disable_user), and a login with no person row at all
        w.installer("UPDATE app_user SET active = false WHERE id = %s", (w.ids["rita"],))
        for who in ("rita", "stranger"):
            assert rows(w, who, "SELECT * FROM search_account_ids('', NULL, NULL, 100)") == []
            assert rows(w, who, "SELECT * FROM search_contact_ids('', NULL, 100)") == []
            assert rows(w, who, "SELECT * FROM contact_duplicates('Anna Secret-sam', '{}', %s, "
                                "NULL, NULL, 0.6, 5)", ([PHONE],)) == []  # fmt: skip
            assert rows(w, who, "SELECT * FROM account_duplicates('Acme of sam', NULL, 0.5, 5)"
                        ) == []  # fmt: skip
    finally:
        for c in w.conns:
            c.close()
        w.conns.clear()
        w.installer(f'REVOKE CONNECT ON DATABASE "{w.db}" FROM "{login}"; DROP ROLE "{login}"')


def test_the_definer_functions_use_their_indexes_for_a_rep(world: World):
    # The same conditions, written as plain queries, cannot use these indexes under RLS.
    w = world
    set_all_defaults(w, "private")
    conn = psycopg2.connect(w.installer_dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("LOAD 'auto_explain'")
            cur.execute("SET auto_explain.log_min_duration = 0; "
                        "SET auto_explain.log_nested_statements = on; "
                        "SET auto_explain.log_level = notice; SET enable_seqscan = off; "
                        f"SET search_path = {SCHEMA}, public")  # fmt: skip
            cur.execute(f'SET SESSION AUTHORIZATION "{w.users["rita"]}"')
            plans = {}
            for name, sql in (
                ("account", "SELECT * FROM account_duplicates('Acme of rita', NULL, 0.5, 5)"),
                ("phone", "SELECT * FROM contact_duplicates('', '{}', '{+46701234567}', NULL, "
                          "NULL, 0.6, 5)"),
                ("search", "SELECT search_contact_ids('secret', NULL, 5)"),
            ):  # fmt: skip
                conn.notices.clear()
                cur.execute(sql)
                cur.fetchall()
                plans[name] = "\n".join(conn.notices)
            cur.execute("RESET SESSION AUTHORIZATION")
    finally:
        conn.close()
    assert "Bitmap Index Scan on account_name_trgm" in plans["account"]
    assert "contact_phone_e164_idx" in plans["phone"]
    assert "Bitmap Index Scan on contact_name_trgm" in plans["search"]
    assert "account_name_trgm" not in _plan_indexes(
        w, "rita", "SELECT id FROM account WHERE name OPERATOR(public.%) 'Acme of rita'")

