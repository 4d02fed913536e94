"""A small organisation for the attack and visibility tests.

Teams: North (manager mona) with sub-team North-East; South (its own sharing override).
People: admin sb_admin, manager mona (North), reps rita (North), nate (North-East), sam
(South), agent aga (North), disabled dora (rep, South). Every person is created through the
admin API, as the admin login, like the app does. Names carry a per-test suffix because login
roles are cluster-wide and every test has its own database.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg2
import pytest

SCHEMA = "switchboard"
_n = itertools.count()


@dataclass
class World:
    pg: object
    db: str
    installer_dsn: str
    users: dict[str, str] = field(default_factory=dict)  # short name -> login role
    ids: dict[str, int] = field(default_factory=dict)  # user/team/record name -> id
    conns: list = field(default_factory=list)

    def connect(self, who: str, autocommit: bool = True):
        """A raw psycopg2 connection as `who` (a short name), search_path set."""
        conn = psycopg2.connect(
            self.pg.dsn(self.db, user=self.users[who]), options=f"-c search_path={SCHEMA}"
        )
        conn.autocommit = autocommit
        self.conns.append(conn)
        return conn

    def installer(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Run `sql` as the installer (superuser, no RLS) and return its rows."""
        conn = psycopg2.connect(self.installer_dsn, options=f"-c search_path={SCHEMA}")
        try:
            with conn, conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def one(self, sql: str, params: tuple = ()):
        return self.installer(sql, params)[0][0]


def _insert(cur, table: str, **values) -> int:
    cols = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    cur.execute(
        f"INSERT INTO {table} ({cols}) VALUES ({marks}) RETURNING id", tuple(values.values())
    )
    return cur.fetchone()[0]


@pytest.fixture
def world(pg, db_name, installer_dsn) -> Iterator[World]:
    suffix = f"_{os.getpid()}_{next(_n)}"
    w = World(pg, db_name, installer_dsn)
    w.users["admin"] = "sb_admin"
    admin = psycopg2.connect(pg.dsn(db_name, user="sb_admin"), options=f"-c search_path={SCHEMA}")
    try:
        with admin, admin.cursor() as cur:
            w.ids["north"] = _insert(cur, "team", name="North")
            w.ids["northeast"] = _insert(cur, "team", name="North-East", parent_id=w.ids["north"])
            w.ids["south"] = _insert(cur, "team", name="South")
            people = [
                ("mona", "manager", "north"), ("rita", "rep", "north"),
                ("nate", "rep", "northeast"), ("sam", "rep", "south"),
                ("aga", "agent", "north"), ("dora", "rep", "south"),
            ]  # fmt: skip
            for short, role, team in people:
                login = short + suffix
                cur.execute(
                    "SELECT switchboard_admin_api.create_user(%s, %s, %s, %s, NULL, NULL)",
                    (login, short.title(), role, w.ids[team]),
                )
                w.ids[short] = cur.fetchone()[0]
                w.users[short] = login
            cur.execute(
                "UPDATE team SET manager_id = %s WHERE id = %s", (w.ids["mona"], w.ids["north"])
            )
        with admin, admin.cursor() as cur:
            cur.execute("SELECT switchboard_admin_api.disable_user(%s)", (w.users["dora"],))
        # Records, created as the installer with explicit owners.
        conn = psycopg2.connect(installer_dsn, options=f"-c search_path={SCHEMA}")
        with conn, conn.cursor() as cur:
            for owner, team in (
                ("rita", "north"),
                ("nate", "northeast"),
                ("sam", "south"),
                ("mona", "north"),
            ):
                acc = _insert(
                    cur,
                    "account",
                    name=f"Acme of {owner}",
                    owner_id=w.ids[owner],
                    team_id=w.ids[team],
                )
                w.ids[f"acc_{owner}"] = acc
                con = _insert(
                    cur,
                    "contact",
                    account_id=acc,
                    first_name="Anna",
                    last_name=f"Secret-{owner}",
                    owner_id=w.ids[owner],
                    team_id=w.ids[team],
                )
                w.ids[f"con_{owner}"] = con
                _insert(
                    cur,
                    "contact_phone",
                    contact_id=con,
                    raw="+46 70 123 45 67",
                    e164="+46701234567",
                )
                cur.execute("SELECT id FROM stage ORDER BY position LIMIT 1")
                stage = cur.fetchone()[0]
                w.ids[f"opp_{owner}"] = _insert(
                    cur,
                    "opportunity",
                    account_id=acc,
                    name=f"Deal of {owner}",
                    amount=1000,
                    stage_id=stage,
                    probability=10,
                    owner_id=w.ids[owner],
                    team_id=w.ids[team],
                )
                w.ids[f"act_{owner}"] = _insert(
                    cur,
                    "activity",
                    kind="call",
                    subject=f"Call for {owner}",
                    account_id=acc,
                    contact_id=con,
                    author_id=w.ids[owner],
                )
                w.ids[f"case_{owner}"] = _insert(
                    cur,
                    "support_case",
                    account_id=acc,
                    subject=f"Case of {owner}",
                    owner_id=w.ids[owner],
                    team_id=w.ids[team],
                )
            # an orphan contact (no account) of sam's
            w.ids["con_orphan_sam"] = _insert(
                cur,
                "contact",
                first_name="Olle",
                last_name="Orphan",
                owner_id=w.ids["sam"],
                team_id=w.ids["south"],
            )
        conn.close()
    finally:
        admin.close()
    try:
        yield w
    finally:
        for c in w.conns:
            c.close()


def set_default(w: World, object_type: str, access: str) -> None:
    w.installer(
        "UPDATE sharing_default SET access = %s WHERE object_type = %s", (access, object_type)
    )


def set_all_defaults(w: World, access: str) -> None:
    w.installer("UPDATE sharing_default SET access = %s", (access,))
