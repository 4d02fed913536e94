"""Issue 10 part 4: no writes into what one cannot see, no forged authorship, no takeover.

Every attack runs as the person with raw SQL, asserts the specific error, then checks the
database as the installer. Under the "private" defaults rita (rep, North) sees only her own
records, mona (manager of North and North-East) those of her teams; sam's (South) are hidden
from both, and from aga (agent, North).
"""

from __future__ import annotations

import psycopg2
import psycopg2.errors
import pytest

from tests.security.conftest import World, set_all_defaults, set_default

MISSING = 987654321


def error_of(conn, sql: str, params: tuple = ()) -> psycopg2.Error:
    """The database error `sql` raises (it must raise one); the transaction is rolled back."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
    except psycopg2.Error as exc:
        if not conn.autocommit:
            conn.rollback()
        return exc
    raise AssertionError(f"accepted: {sql} {params}")


def fk_refusal(exc: psycopg2.Error, id_: int) -> tuple:
    """What a person learns from a refused reference, with the id they gave blanked out."""
    assert isinstance(exc, psycopg2.errors.ForeignKeyViolation), exc
    detail = exc.diag.message_detail or ""
    assert f"=({id_})" in detail, detail
    return (exc.pgcode, exc.diag.message_primary, detail.replace(f"=({id_})", "=(?)"),
            exc.diag.constraint_name, exc.diag.table_name)  # fmt: skip


def assert_hidden_is_missing(conn, sql: str, hidden: int, params: tuple = ()) -> tuple:
    """`sql` % (id, *params) fails for the hidden id exactly as for a missing one."""
    seen = fk_refusal(error_of(conn, sql, (hidden, *params)), hidden)
    missing = fk_refusal(error_of(conn, sql, (MISSING, *params)), MISSING)
    assert seen == missing
    return seen


def stage(w: World) -> int:
    return w.one("SELECT id FROM stage ORDER BY position LIMIT 1")


# -- moves ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "table, record",
    [("contact", "con_rita"), ("opportunity", "opp_rita"), ("activity", "act_rita"),
     ("support_case", "case_rita")],
)  # fmt: skip
def test_a_rep_cannot_move_their_own_record_into_a_hidden_account(w_private, table, record):
    w = w_private
    rid = w.ids[record]
    conn = w.connect("rita")
    sql = f"UPDATE {table} SET account_id = %s WHERE id = {rid}"  # noqa: S608 (fixed names)
    constraint = assert_hidden_is_missing(conn, sql, w.ids["acc_sam"])[3]
    assert constraint == f"{table}_account_id_fkey"
    assert w.one(f"SELECT account_id FROM {table} WHERE id = %s", (rid,)) == w.ids["acc_rita"]  # noqa: S608


def test_moving_into_an_account_one_may_only_read_is_refused(world: World):
    set_all_defaults(world, "private")
    set_default(world, "account", "public_read")
    conn = world.connect("rita")
    exc = error_of(conn, "UPDATE contact SET account_id = %s WHERE id = %s",
                   (world.ids["acc_sam"], world.ids["con_rita"]))  # fmt: skip
    assert isinstance(exc, psycopg2.errors.InsufficientPrivilege)
    assert exc.diag.column_name == "account_id"
    assert exc.diag.message_primary == (
        f"you may not move this contact into account {world.ids['acc_sam']}: "
        "you may see it but not change it"
    )
    assert world.one("SELECT account_id FROM contact WHERE id = %s",
                     (world.ids["con_rita"],)) == world.ids["acc_rita"]  # fmt: skip
    # the same person may still file a new record there (visible is enough to link)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO activity (kind, subject, account_id) VALUES ('note', 'ok', %s)",
                    (world.ids["acc_sam"],))  # fmt: skip
    # and move her contact between accounts she may change
    other = world.one("INSERT INTO account (name, owner_id, team_id) VALUES ('Rita 2', %s, %s) "
                      "RETURNING id", (world.ids["rita"], world.ids["north"]))  # fmt: skip
    with conn.cursor() as cur:
        cur.execute("UPDATE contact SET account_id = %s WHERE id = %s",
                    (other, world.ids["con_rita"]))  # fmt: skip
    assert world.one("SELECT account_id FROM contact WHERE id = %s",
                     (world.ids["con_rita"],)) == other  # fmt: skip


def test_an_account_cannot_be_put_under_a_hidden_parent(w_private):
    w = w_private
    conn = w.connect("rita")
    assert_hidden_is_missing(
        conn, f"UPDATE account SET parent_id = %s WHERE id = {w.ids['acc_rita']}", w.ids["acc_sam"]
    )
    assert_hidden_is_missing(conn, "INSERT INTO account (name, parent_id) VALUES ('sub', %s)",
                             w.ids["acc_sam"])  # fmt: skip
    assert w.one("SELECT parent_id FROM account WHERE id = %s", (w.ids["acc_rita"],)) is None
    assert w.one("SELECT count(*) FROM account WHERE name = 'sub'") == 0


# -- links on new records -----------------------------------------------------------------------

LINKS = [
    # (who, statement with %s for the id, the hidden record)
    ("rita", "INSERT INTO support_case (subject, contact_id) VALUES ('x', %s)", "con_sam"),
    ("aga", "INSERT INTO support_case (subject, contact_id) VALUES ('x', %s)", "con_sam"),
    ("rita", "INSERT INTO activity (kind, subject, case_id) VALUES ('note', 'x', %s)", "case_sam"),
    ("aga", "INSERT INTO activity (kind, subject, case_id) VALUES ('note', 'x', %s)", "case_sam"),
    ("rita", "INSERT INTO activity (kind, subject, opportunity_id) VALUES ('note', 'x', %s)",
     "opp_sam"),
    ("mona", "INSERT INTO activity (kind, subject, opportunity_id) VALUES ('note', 'x', %s)",
     "opp_sam"),
    ("rita", "INSERT INTO document (filename, uri, contact_id) VALUES ('x', 'u', %s)", "con_sam"),
    ("rita", "INSERT INTO document (filename, uri, opportunity_id) VALUES ('x', 'u', %s)",
     "opp_sam"),
    ("rita", "INSERT INTO document (filename, uri, case_id) VALUES ('x', 'u', %s)", "case_sam"),
    ("mona", "INSERT INTO document (filename, uri, case_id) VALUES ('x', 'u', %s)", "case_sam"),
]  # fmt: skip


@pytest.mark.parametrize("who, sql, hidden", LINKS)
def test_links_to_hidden_records_fail_exactly_like_missing_ones(w_private, who, sql, hidden):
    w = w_private
    assert_hidden_is_missing(w.connect(who), sql, w.ids[hidden])
    assert w.one("SELECT count(*) FROM support_case WHERE subject = 'x'") == 0
    assert w.one("SELECT count(*) FROM activity WHERE subject = 'x'") == 0
    assert w.one("SELECT count(*) FROM document WHERE filename = 'x'") == 0


def test_a_deal_cannot_name_a_hidden_primary_contact(w_private):
    w = w_private
    conn = w.connect("rita")
    insert = (
        "INSERT INTO opportunity (account_id, name, stage_id, probability, primary_contact_id) "
        f"VALUES ({w.ids['acc_rita']}, 'x', {stage(w)}, 5, %s)"
    )
    assert_hidden_is_missing(conn, insert, w.ids["con_sam"])
    move = f"UPDATE opportunity SET primary_contact_id = %s WHERE id = {w.ids['opp_rita']}"
    assert_hidden_is_missing(conn, move, w.ids["con_sam"])
    assert w.one("SELECT count(*) FROM opportunity WHERE name = 'x'") == 0
    assert w.one("SELECT primary_contact_id FROM opportunity WHERE id = %s",
                 (w.ids["opp_rita"],)) is None  # fmt: skip


def test_a_case_cannot_be_moved_onto_a_hidden_contact(w_private):
    w = w_private
    for who, case in (("rita", "case_rita"), ("aga", "case_rita")):
        sql = f"UPDATE support_case SET contact_id = %s WHERE id = {w.ids[case]}"
        if who == "aga":  # agents may edit the cases they can see: give her one
            w.installer("UPDATE support_case SET assignee_id = %s WHERE id = %s",
                        (w.ids["aga"], w.ids[case]))  # fmt: skip
        assert_hidden_is_missing(w.connect(who), sql, w.ids["con_sam"])
    assert w.one("SELECT contact_id FROM support_case WHERE id = %s", (w.ids["case_rita"],)) is None


def test_an_agent_cannot_tell_deal_ids_from_missing_ones(world: World):
    """Shipped defaults (public_read_write): every deal exists, none is an agent's."""
    conn = world.connect("aga")
    sql = "INSERT INTO activity (kind, subject, opportunity_id) VALUES ('note', 'x', %s)"
    for deal in ("opp_rita", "opp_sam", "opp_mona"):
        assert_hidden_is_missing(conn, sql, world.ids[deal])
    assert world.one("SELECT count(*) FROM activity WHERE subject = 'x'") == 0


def test_links_to_visible_records_still_work(w_private):
    w = w_private
    conn = w.connect("rita")
    with conn.cursor() as cur:
        cur.execute("INSERT INTO activity (kind, subject, account_id, case_id, opportunity_id) "
                    "VALUES ('note', 'fine', %s, %s, %s)",
                    (w.ids["acc_rita"], w.ids["case_rita"], w.ids["opp_rita"]))  # fmt: skip
        cur.execute("INSERT INTO support_case (subject, contact_id) VALUES ('fine', %s)",
                    (w.ids["con_rita"],))  # fmt: skip
        cur.execute("INSERT INTO document (filename, uri, contact_id, case_id) "
                    "VALUES ('fine', 'u', %s, %s)",
                    (w.ids["con_rita"], w.ids["case_rita"]))  # fmt: skip
        cur.execute("UPDATE opportunity SET primary_contact_id = %s WHERE id = %s",
                    (w.ids["con_rita"], w.ids["opp_rita"]))  # fmt: skip
    assert w.one("SELECT count(*) FROM activity WHERE subject = 'fine'") == 1
    assert w.one("SELECT count(*) FROM support_case WHERE subject = 'fine'") == 1
    assert w.one("SELECT count(*) FROM document WHERE filename = 'fine'") == 1


# -- authorship -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who, victim", [("rita", "sam"), ("mona", "rita"), ("admin", "rita")])
def test_nobody_logs_an_activity_in_someone_elses_name(world: World, who: str, victim: str):
    conn = world.connect(who)
    exc = error_of(conn, "INSERT INTO activity (kind, subject, author_id) "
                   "VALUES ('note', 'forged', %s)", (world.ids[victim],))  # fmt: skip
    assert isinstance(exc, psycopg2.errors.InsufficientPrivilege)
    assert exc.diag.column_name == "author_id"
    assert exc.diag.message_primary == "the author of an activity is the person who logs it"
    assert world.one("SELECT count(*) FROM activity WHERE subject = 'forged'") == 0
    with conn.cursor() as cur:  # no author, or NULL: the database writes the person's own
        cur.execute("INSERT INTO activity (kind, subject, author_id) "
                    "VALUES ('note', 'honest', NULL) RETURNING author_id")  # fmt: skip
        assert cur.fetchone()[0] == world.one(
            "SELECT id FROM app_user WHERE username = %s", (world.users[who],)
        )


@pytest.mark.parametrize("who, new_author", [("rita", "nate"), ("mona", "mona")])
def test_nobody_rewrites_the_author_of_an_activity(world: World, who: str, new_author: str):
    conn = world.connect(who)
    exc = error_of(conn, "UPDATE activity SET author_id = %s WHERE id = %s",
                   (world.ids[new_author], world.ids["act_rita"]))  # fmt: skip
    assert isinstance(exc, psycopg2.errors.InsufficientPrivilege)
    assert exc.diag.message_primary == "the author of an activity never changes"
    assert world.one("SELECT author_id FROM activity WHERE id = %s",
                     (world.ids["act_rita"],)) == world.ids["rita"]  # fmt: skip


# -- takeover -------------------------------------------------------------------------------------


def test_a_manager_with_a_write_share_cannot_take_another_teams_account(w_private):
    w = w_private
    w.installer("INSERT INTO account_share (account_id, user_id, access) VALUES (%s, %s, 'write')",
                (w.ids["acc_sam"], w.ids["mona"]))  # fmt: skip
    conn = w.connect("mona")
    with conn.cursor() as cur:  # the share works: she may edit it
        cur.execute("UPDATE account SET industry = 'shared' WHERE id = %s", (w.ids["acc_sam"],))
        assert cur.rowcount == 1
    for sets in ("owner_id = %(me)s, team_id = NULL", "owner_id = %(me)s", "team_id = NULL",
                 "team_id = %(north)s"):  # fmt: skip
        params = {"me": w.ids["mona"], "north": w.ids["north"], "acc": w.ids["acc_sam"]}
        exc = error_of(conn, f"UPDATE account SET {sets} WHERE id = %(acc)s", params)
        assert isinstance(exc, psycopg2.errors.InsufficientPrivilege)
        assert exc.diag.message_primary == "a manager may reassign only records of their own teams"
    after = w.installer("SELECT owner_id, team_id, industry FROM account WHERE id = %s",
                        (w.ids["acc_sam"],))  # fmt: skip
    assert after == [(w.ids["sam"], w.ids["south"], "shared")]


def test_a_manager_reassigns_within_her_teams_but_never_to_nobody(w_private):
    w = w_private
    conn = w.connect("mona")
    exc = error_of(conn, "UPDATE account SET owner_id = NULL WHERE id = %s", (w.ids["acc_rita"],))
    assert isinstance(exc, psycopg2.errors.InsufficientPrivilege)
    assert exc.diag.column_name == "owner_id"
    assert exc.diag.message_primary.startswith("a record keeps an owner")
    with conn.cursor() as cur:  # documented: to one of her people, out of any team
        cur.execute("UPDATE account SET owner_id = %s, team_id = NULL WHERE id = %s",
                    (w.ids["nate"], w.ids["acc_rita"]))  # fmt: skip
    assert w.installer("SELECT owner_id, team_id FROM account WHERE id = %s",
                       (w.ids["acc_rita"],)) == [(w.ids["nate"], None)]  # fmt: skip


@pytest.fixture
def w_private(world: World) -> World:
    set_all_defaults(world, "private")
    return world


def test_a_deal_is_attributed_to_campaigns_one_sees_and_no_others(w_private):
    w = w_private
    campaign = w.one("INSERT INTO campaign (name, owner_id, team_id) VALUES ('Spring', %s, %s) "
                     "RETURNING id", (w.ids["sam"], w.ids["south"]))  # fmt: skip
    conn = w.connect("rita")
    sql = f"UPDATE opportunity SET campaign_id = %s WHERE id = {w.ids['opp_rita']}"
    assert_hidden_is_missing(conn, sql, campaign)
    set_default(w, "campaign", "public_read")  # visible, and no rep may edit a campaign
    with conn.cursor() as cur:
        cur.execute(sql, (campaign,))
    assert w.one("SELECT campaign_id FROM opportunity WHERE id = %s",
                 (w.ids["opp_rita"],)) == campaign  # fmt: skip
