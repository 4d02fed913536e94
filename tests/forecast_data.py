"""A three-level sales organisation with hand-picked deals and activities (forecast, KPIs).

    Org (manager tom)
    ├── North (manager mia)
    │   ├── Alpha: reps ray, rose
    │   └── Beta:  rep rob
    └── South (manager sid): rep sal

Sharing of accounts, opportunities and activities is private, so a rep sees only their own
records (each rep owns one account; every deal and activity of theirs is on it). The expected
figures are worked out by hand in tests/db/test_forecast.py and tests/db/test_kpis.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg2

from db.bootstrap import ensure_login

SCHEMA = "switchboard"
LOGIN = "fc_"  # login roles are server-wide: names no other fixture uses

PEOPLE = [  # username, display name, role, team
    ("tom", "Tom Top", "manager", "Org"),
    ("mia", "Mia Mid", "manager", "North"),
    ("sid", "Sid South", "manager", "South"),
    ("ray", "Ray Rep", "rep", "Alpha"),
    ("rose", "Rose Rep", "rep", "Alpha"),
    ("rob", "Rob Rep", "rep", "Beta"),
    ("sal", "Sal Rep", "rep", "South"),
]
TEAMS = [("Org", None, "tom"), ("North", "Org", "mia"), ("Alpha", "North", None),
         ("Beta", "North", None), ("South", "Org", "sid")]  # fmt: skip

# key, owner, amount, currency, category, probability, expected_close, state, closed_at, created
DEALS = [
    ("r1", "ray", 1000, "EUR", "commit", 80, "2026-12-10", "open", None, None),
    ("r2", "ray", 2000, "EUR", "best_case", 50, "2026-12-20", "open", None, None),
    ("r3", "ray", 4000, "EUR", "pipeline", 25, "2026-11-15", "open", None, None),
    ("r4", "ray", 3000, "EUR", "closed", 100, "2026-12-05", "won", "2026-12-05", "2026-11-05"),
    ("r5", "ray", 500, "EUR", "omitted", 10, "2026-12-12", "open", None, None),
    ("r6", "ray", 7000, "USD", "commit", 90, "2026-12-15", "open", None, None),
    ("r7", "ray", 2000, "EUR", "closed", 100, "2026-09-10", "won", "2026-09-10", "2026-08-01"),
    ("o1", "rose", 10000, "EUR", "pipeline", 10, "2026-12-01", "open", None, None),
    ("o2", "rose", 6000, "EUR", "commit", 90, "2027-01-15", "open", None, None),
    ("o3", "rose", 9000, "EUR", "closed", 0, "2026-12-03", "lost", "2026-12-03", "2026-10-01"),
    ("b1", "rob", 5000, "EUR", "best_case", 60, "2026-12-31", "open", None, None),
    ("b2", "rob", 2500, "EUR", "closed", 100, "2026-10-20", "won", "2026-10-20", "2026-09-20"),
    ("s1", "sal", 8000, "EUR", "commit", 75, "2026-12-24", "open", None, None),
    ("s2", "sal", 1500, "EUR", "closed", 100, "2026-12-28", "won", "2026-12-28", "2026-12-18"),
    ("s3", "sal", 4000, "EUR", "closed", 100, "2026-08-15", "won", "2026-08-15", "2026-07-01"),
]

# key, author, kind, outcome, occurred_at, due_at, completed_at, assignee
ACTIVITIES = [
    ("a1", "ray", "call", "reached", "2026-10-05 10:00", None, None, None),
    ("a2", "ray", "call", "reached", "2026-10-06 10:00", None, None, None),
    ("a3", "ray", "call", "voicemail", "2026-10-07 10:00", None, None, None),
    ("a4", "ray", "email", None, "2026-11-10 10:00", None, None, None),
    ("a5", "ray", "call", "reached", "2026-09-30 10:00", None, None, None),  # before Q4
    ("a6", "rose", "call", "no_answer", "2026-12-01 10:00", None, None, None),
    ("a7", "rose", "call", "reached", "2026-12-02 10:00", None, None, None),
    ("a8", "rob", "meeting", None, "2026-11-11 10:00", None, None, None),
    ("a9", "sal", "call", "busy", "2026-12-03 10:00", None, None, None),
    ("t1", "ray", "task", None, "2026-09-01 09:00", "2027-01-05 09:00", None, "ray"),
    ("t2", "rose", "task", None, "2026-09-01 09:00", "2027-01-09 09:00", "2027-01-08 09:00",
     "rose"),
    ("t3", "rob", "task", None, "2026-09-01 09:00", "2027-01-20 09:00", None, "rob"),
    ("t4", "sal", "task", None, "2026-09-01 09:00", "2026-12-20 09:00", None, "sal"),
]


@dataclass
class Org:
    users: dict[str, int]
    teams: dict[str, int]
    deals: dict[str, int]
    activities: dict[str, int]
    accounts: dict[str, int]


def seed(installer_dsn: str, schema: str = SCHEMA) -> Org:
    conn = psycopg2.connect(installer_dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"SET search_path = {schema}, public")
            for username, name, role, _team in PEOPLE:
                ensure_login(cur, schema, LOGIN + username, role=role, display_name=name)
            cur.execute("SELECT username, id FROM app_user")
            users = {u.removeprefix(LOGIN): i for u, i in cur.fetchall()}
            teams: dict[str, int] = {}
            for name, parent, manager in TEAMS:
                cur.execute(
                    "INSERT INTO team (name, parent_id, manager_id) VALUES (%s, %s, %s) "
                    "RETURNING id", (name, teams.get(parent or ""), users.get(manager or "")))
                teams[name] = cur.fetchone()[0]
            for username, _name, _role, team in PEOPLE:
                cur.execute("UPDATE app_user SET team_id = %s WHERE id = %s",
                            (teams[team], users[username]))  # fmt: skip
            cur.execute("UPDATE sharing_default SET access = 'private' "
                        "WHERE object_type IN ('account', 'opportunity', 'activity', 'contact')")
            accounts: dict[str, int] = {}
            for username, _name, role, team in PEOPLE:
                if role != "rep":
                    continue
                cur.execute(
                    "INSERT INTO account (name, owner_id, team_id) VALUES (%s, %s, %s) "
                    "RETURNING id", (f"Account of {username}", users[username], teams[team]))
                accounts[username] = cur.fetchone()[0]
            cur.execute("SELECT name, id FROM stage")
            stages = dict(cur.fetchall())
            deals: dict[str, int] = {}
            for key, owner, amount, cur_code, cat, prob, close, state, closed_at, created in DEALS:
                stage = {"open": "Proposal", "won": "Won", "lost": "Lost"}[state]
                team = next(p[3] for p in PEOPLE if p[0] == owner)
                cur.execute(
                    "INSERT INTO opportunity (account_id, name, amount, currency, stage_id, "
                    "probability, expected_close, forecast_category, is_closed, is_won, "
                    "closed_at, owner_id, team_id, created_at, lost_reason) VALUES (%s, %s, %s, "
                    "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, coalesce(%s::timestamptz, now()), "
                    "%s) RETURNING id",
                    (accounts[owner], f"Deal {key}", amount, cur_code, stages[stage], prob, close,
                     cat, state != "open", state == "won", closed_at, users[owner],
                     teams[team], created, "price" if state == "lost" else None),
                )  # fmt: skip
                deals[key] = cur.fetchone()[0]
            activities: dict[str, int] = {}
            for key, author, kind, outcome, at, due, done, assignee in ACTIVITIES:
                cur.execute(
                    "INSERT INTO activity (kind, subject, outcome, occurred_at, due_at, "
                    "completed_at, author_id, assignee_id, account_id) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                    (kind, f"Activity {key}", outcome, at, due, done, users[author],
                     users.get(assignee or ""), accounts[author]),
                )  # fmt: skip
                activities[key] = cur.fetchone()[0]
        return Org(users, teams, deals, activities, accounts)
    finally:
        conn.close()
