"""Small fixture data for the record-keeping tests (forms, conflicts, trash, duplicates).

Built with SQL as the installer. Until the security migration (0002) grants writes to the
group roles, `make_writable` grants them to the shared user role so the services can be tested
as the admin login; once 0002 has landed it does nothing and the real grants apply.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg2

from db.bootstrap import ensure_login

SCHEMA = "switchboard"


@dataclass
class Seed:
    acme: int  # root account
    acme_eu: int  # sub-account of acme
    globex: int  # another root
    anna: int  # contact of acme, phone +46317000000, email anna@acme.example
    per: int  # contact of acme
    lars: int  # contact of acme_eu
    deal: int  # open opportunity of acme_eu
    case: int  # open case of acme_eu


def run(dsn: str, sql: str, params: tuple | dict = ()) -> list[tuple]:
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"SET search_path = {SCHEMA}, public")
            cur.execute(sql, params or None)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def make_writable(installer_dsn: str) -> None:
    (version,) = run(installer_dsn, "SELECT max(version) FROM schema_migrations")[0]
    if version < 2:
        run(
            installer_dsn,
            f"GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {SCHEMA} TO {SCHEMA}_user",
        )


def add_login(installer_dsn: str, username: str, role: str = "rep") -> None:
    conn = psycopg2.connect(installer_dsn)
    try:
        with conn, conn.cursor() as cur:
            ensure_login(cur, SCHEMA, username, role=role, display_name=username.title())
    finally:
        conn.close()


def seed(installer_dsn: str) -> Seed:
    make_writable(installer_dsn)
    owner = "(SELECT id FROM app_user WHERE username = 'sb_admin')"

    def one(sql: str, params: tuple = ()) -> int:
        return int(run(installer_dsn, sql, params)[0][0])

    acme = one(f"INSERT INTO account (name, owner_id) VALUES ('Acme AB', {owner}) RETURNING id")
    acme_eu = one(
        f"INSERT INTO account (name, parent_id, owner_id) VALUES ('Acme Europe', %s, {owner}) "
        "RETURNING id",
        (acme,),
    )
    globex = one(
        f"INSERT INTO account (name, owner_id) VALUES ('Globex Corporation', {owner}) RETURNING id"
    )

    def contact(first: str, last: str, account: int) -> int:
        return one(
            "INSERT INTO contact (first_name, last_name, account_id, owner_id) "
            f"VALUES (%s, %s, %s, {owner}) RETURNING id",
            (first, last, account),
        )

    anna, per, lars = (
        contact("Anna", "Lind", acme),
        contact("Per", "Ek", acme),
        contact("Lars", "Lind", acme_eu),
    )
    run(
        installer_dsn,
        "INSERT INTO contact_phone (contact_id, kind, raw, e164, is_primary) "
        "VALUES (%s, 'work', '031-700 00 00', '+46317000000', true)",
        (anna,),
    )
    run(
        installer_dsn,
        "INSERT INTO contact_email (contact_id, kind, email, is_primary) "
        "VALUES (%s, 'work', 'anna@acme.example', true)",
        (anna,),
    )
    deal = one(
        "INSERT INTO opportunity (account_id, name, stage_id, probability) "
        "SELECT %s, 'Fleet renewal', id, 10 FROM stage WHERE position = 1 RETURNING id",
        (acme_eu,),
    )
    case = one(
        "INSERT INTO support_case (account_id, subject) VALUES (%s, 'Invoice copy') RETURNING id",
        (acme_eu,),
    )
    return Seed(acme, acme_eu, globex, anna, per, lars, deal, case)
