"""Small fixture data for the activity tests, written with SQL as the installer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg2

from db.bootstrap import ensure_login

SCHEMA = "switchboard"


@dataclass
class Seed:
    admin_id: int
    rita_id: int  # a rep
    sam_id: int  # another rep
    root_id: int  # account with two children and a grandchild
    child_ids: list[int]
    grandchild_id: int
    other_account_id: int
    contact_id: int  # Anna Lind, under root
    contact2_id: int  # under a child
    opportunity_id: int
    now: datetime
    ids: dict[str, int] = field(default_factory=dict)


def seed(installer_dsn: str) -> Seed:
    conn = psycopg2.connect(installer_dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"SET search_path = {SCHEMA}, public")
            cur.execute("SELECT max(version) FROM schema_migrations")
            if cur.fetchone()[0] < 2:
                # Until the security migration grants writes, stand in with the minimum.
                cur.execute(f"GRANT INSERT, UPDATE ON activity TO {SCHEMA}_user")
            ensure_login(cur, SCHEMA, "rita", role="rep", display_name="Rita Rep")
            ensure_login(cur, SCHEMA, "sam", role="rep", display_name="Sam Second")
            cur.execute("SELECT username, id FROM app_user")
            users = dict(cur.fetchall())

            def one(sql: str, *params: object) -> int:
                cur.execute(sql, params)
                return cur.fetchone()[0]

            root = one("INSERT INTO account (name, owner_id) VALUES ('Volvo Group', %s) "
                       "RETURNING id", users["rita"])
            children = [
                one("INSERT INTO account (name, parent_id, owner_id) VALUES (%s, %s, %s) "
                    "RETURNING id", name, root, users["rita"])
                for name in ("Volvo Cars", "Volvo Trucks")
            ]
            grandchild = one("INSERT INTO account (name, parent_id, owner_id) "
                             "VALUES ('Torslanda', %s, %s) RETURNING id", children[0],
                             users["rita"])
            other = one("INSERT INTO account (name) VALUES ('Ericsson') RETURNING id")
            contact = one("INSERT INTO contact (account_id, first_name, last_name, owner_id) "
                          "VALUES (%s, 'Anna', 'Lind', %s) RETURNING id", root, users["rita"])
            contact2 = one("INSERT INTO contact (account_id, first_name, last_name) "
                           "VALUES (%s, 'Erik', 'Berg') RETURNING id", children[0])
            stage = one("SELECT id FROM stage WHERE name = 'Proposal'")
            opp = one("INSERT INTO opportunity (account_id, name, stage_id, probability) "
                      "VALUES (%s, 'Fleet renewal', %s, 50) RETURNING id", root, stage)
            now = one("SELECT date_trunc('minute', now())")
        return Seed(users["sb_admin"], users["rita"], users["sam"], root, children, grandchild,
                    other, contact, contact2, opp, now)  # fmt: skip
    finally:
        conn.close()


def add_activities(installer_dsn: str, rows: list[dict]) -> list[int]:
    """Insert activities as the installer (author given explicitly); returns their ids."""
    conn = psycopg2.connect(installer_dsn)
    ids: list[int] = []
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"SET search_path = {SCHEMA}, public")
            for row in rows:
                cols = ", ".join(row)
                marks = ", ".join(["%s"] * len(row))
                cur.execute(f"INSERT INTO activity ({cols}) VALUES ({marks}) RETURNING id",
                            tuple(row.values()))  # fmt: skip
                ids.append(cur.fetchone()[0])
    finally:
        conn.close()
    return ids


def bulk(installer_dsn: str, account_id: int, n: int, start: datetime, author_id: int,
         contact_id: int | None = None, step_minutes: int = 7) -> None:  # fmt: skip
    """n calls on an account, one every `step_minutes` going back from `start`."""
    conn = psycopg2.connect(installer_dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"SET search_path = {SCHEMA}, public")
            cur.execute(
                "INSERT INTO activity (kind, subject, occurred_at, account_id, contact_id, "
                "author_id) SELECT 'call', 'call ' || g, %s - g * %s, %s, %s, %s "
                "FROM generate_series(0, %s - 1) g",
                (start, timedelta(minutes=step_minutes), account_id, contact_id, author_id, n),
            )
    finally:
        conn.close()
