"""The search (migration 0017) under row-level security: as each person, under private and
public sharing, every result is a row plain RLS lets that person SELECT; hidden rows are never
returned, counted, nor allowed to displace a visible one; EXECUTE is for the installation's
people only."""

from __future__ import annotations

import psycopg2
import pytest

from tests.security.conftest import SCHEMA, World, set_all_defaults

PEOPLE = ("rita", "nate", "sam", "mona", "aga", "admin")
KINDS = "ARRAY['account', 'contact', 'deal', 'case']"
TABLES = {"account": "account", "contact": "contact", "deal": "opportunity",
          "case": "support_case"}  # fmt: skip
QUERIES = ["Acme", "acme of", "Acm", "a", "Ac", "Anna", "Ana Secret", "Secret-rita",
           "secrt sam", "Deal of", "Deal of nate", "Case of", "Case of mona", "Olle Orphan",
           "Orphn"]  # fmt: skip


def rows(w: World, who: str, sql: str, params: tuple = ()) -> list:
    with w.connect(who).cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def visible(w: World, who: str, kind: str) -> set[int]:
    if kind == "deal" and who == "aga":
        return set()  # agents hold no SELECT on opportunity at all
    return {r[0] for r in rows(w, who, f"SELECT id FROM {TABLES[kind]} WHERE deleted_at IS NULL")}


def search(w: World, who: str, text: str, limit: int = 50, email=None, phones=None, suffixes=None):
    return rows(w, who, f"SELECT kind, id, detail, account_id, contact_id FROM "
                f"search_records(%s, %s, %s::text[], %s::text[], {KINDS}, %s)",
                (text, email, phones or [], suffixes or [], limit))  # fmt: skip


@pytest.mark.parametrize("sharing", ["private", "public_read", "mixed"])
def test_results_are_always_rows_plain_rls_shows(world: World, sharing: str):
    w = world
    set_all_defaults(w, "public_read" if sharing == "public_read" else "private")
    if sharing == "mixed":
        w.installer("UPDATE team SET sharing = 'public_read' WHERE id = %s", (w.ids["south"],))
    for who in PEOPLE:
        seen = {k: visible(w, who, k) for k in TABLES}
        accounts = seen["account"]
        contacts = seen["contact"]
        everything_found: dict[str, set[int]] = {k: set() for k in TABLES}
        for text in QUERIES:
            for kind, rid, _detail, account_id, contact_id in search(w, who, text):
                assert rid in seen[kind], (who, text, kind, rid)
                assert account_id is None or account_id in accounts, (who, text, kind)
                assert contact_id is None or contact_id in contacts, (who, text, kind)
                everything_found[kind].add(rid)
        # phone and email too
        for kind, rid, *_ in search(w, who, "", suffixes=["7654321"]):
            assert rid in contacts, (who, "phone")
            everything_found[kind].add(rid)
        # and every visible record is findable by its name
        assert everything_found["account"] == accounts, who
        assert everything_found["contact"] == contacts, who
        assert everything_found["deal"] == seen["deal"], who
        assert everything_found["case"] == seen["case"], who
    if sharing == "private":
        assert search(w, "rita", "Secret-sam") == [] or all(
            r[1] != w.ids["con_sam"] for r in search(w, "rita", "Secret-sam"))


def test_the_phone_shared_by_every_contact_finds_only_the_visible_ones(world: World):
    w = world
    set_all_defaults(w, "private")
    for who in PEOPLE:
        got = {r[1] for r in search(w, who, "", phones=["+46701234567"])}
        assert got == visible(w, who, "contact") - {w.ids["con_orphan_sam"]}, who


def test_hidden_best_matches_neither_displace_nor_count(world: World):
    w = world
    set_all_defaults(w, "private")
    # sam's contact is the exact match and would rank first; rita may not see it
    text = "Anna Secret-sam"
    as_rita = search(w, "rita", text, limit=1)
    assert all(r[1] != w.ids["con_sam"] for r in as_rita)
    # rita's result list with limit 1 is exactly her best visible match plus the "more" row:
    # the same as if sam's contact did not exist at all
    w.installer("UPDATE contact SET first_name = 'Zed', last_name = 'Zzz' WHERE id = %s",
                (w.ids["con_sam"],))  # fmt: skip
    assert search(w, "rita", text, limit=1) == as_rita
    contacts = [r for r in as_rita if r[0] == "contact"]
    assert len(contacts) <= 2  # the limit plus one "more" row, all visible
    assert {r[1] for r in contacts} <= visible(w, "rita", "contact")


def test_a_contact_in_a_hidden_account_shows_no_account(world: World):
    w = world
    set_all_defaults(w, "private")
    w.installer("UPDATE contact SET owner_id = %s, team_id = NULL WHERE id = %s",
                (w.ids["rita"], w.ids["con_sam"]))  # fmt: skip
    hits = [r for r in search(w, "rita", "Anna Secret-sam") if r[1] == w.ids["con_sam"]]
    assert hits and hits[0][2] is None and hits[0][3] is None


def test_the_tree_filter_returns_only_visible_accounts(world: World):
    w = world
    set_all_defaults(w, "private")
    for who in PEOPLE:
        accounts = visible(w, who, "account")
        for text in ("a", "ac", "acme", "of s", "cme of"):
            got = {r[0] for r in rows(w, who, "SELECT filter_account_ids(%s, NULL, NULL, 1000)",
                                      (text,))}  # fmt: skip
            expected = {a for a in accounts
                        if text in w.one("SELECT lower(name) FROM account WHERE id = %s", (a,))}
            assert got == expected, (who, text)


def test_execute_is_for_the_installations_people_only(world: World):
    w = world
    found = w.installer(
        "SELECT p.proname, p.prosecdef, p.proowner::regrole::text, p.proconfig, "
        "(SELECT array_agg(DISTINCT a.grantee::regrole::text ORDER BY a.grantee::regrole::text) "
        "FROM aclexplode(p.proacl) a WHERE a.privilege_type = 'EXECUTE') FROM pg_proc p "
        "WHERE p.pronamespace = %s::regnamespace "
        "AND p.proname IN ('search_records', 'filter_account_ids')", (SCHEMA,))  # fmt: skip
    assert sorted(f[0] for f in found) == ["filter_account_ids", "search_records"]
    for _name, definer, owner, config, grantees in found:
        assert definer and owner == f"{SCHEMA}_owner"
        assert f"search_path=pg_catalog, {SCHEMA}, public, pg_temp" in config
        assert grantees == [f"{SCHEMA}_owner", f"{SCHEMA}_user"]  # not PUBLIC
    w.installer("CREATE ROLE search_stranger LOGIN")
    # it may look into the schema: what stops it must be the function's own EXECUTE grant
    w.installer(f"GRANT USAGE ON SCHEMA {SCHEMA} TO search_stranger")
    try:
        conn = psycopg2.connect(w.pg.dsn(w.db, user="search_stranger"),
                                options=f"-c search_path={SCHEMA}")  # fmt: skip
        with conn, conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("SELECT * FROM search_records('Acme', NULL, NULL::text[], NULL::text[], "
                        f"{KINDS}, 5)")
        conn.close()
    finally:
        w.installer(f"REVOKE USAGE ON SCHEMA {SCHEMA} FROM search_stranger")
        w.installer("DROP ROLE search_stranger")
    # the term list is nobody's to read
    with w.connect("admin").cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cur.execute("SELECT count(*) FROM search_term")


def test_a_login_without_an_active_person_row_finds_nothing(world: World):
    w = world
    set_all_defaults(w, "public_read")
    assert search(w, "rita", "Acme")  # sees the open records
    w.installer("UPDATE app_user SET active = false WHERE id = %s", (w.ids["rita"],))
    assert search(w, "rita", "Acme") == []
    assert search(w, "rita", "", phones=["+46701234567"]) == []
