"""Small FIXED CRM data for the account tree and contact detail tests.

Run as the installer (superuser) on a test's fresh database. Everything is inserted in one
transaction; ids are looked up by name afterwards, so tests never depend on identity values.

Shape:
- roots: Big Holding (250 children Sub 001..Sub 250), Deep 00 (a chain Deep 00 > ... > Deep 11),
  Ericsson, H&M Group, IKEA, Volvo Group; a deleted root "Gone AB" that nobody may see.
- Volvo Group > Volvo Cars Sverige AB > (Göteborg plant, Torslanda R&D); Volvo Group > Volvo
  Trucks.
- contacts of Volvo Cars Sverige AB: Erik Berg, Per Ek, Maja Holm, Anna Lind (+ one deleted,
  Ghost Person); Lars Lind has no account. Göteborg plant has Gustav Ny.
- Anna: two phones (work primary), two emails (work primary); reports to Per; Maja is her
  assistant; Lars is her spouse (stored Lars -> Anna).
- open deals: Fleet renewal 400,000 (Volvo Cars, primary Anna), Service deal 100,000 (Volvo
  Cars), Plant robots 50,000 (Göteborg), Trucks EU 250,000 (Volvo Trucks); closed Old deal
  999 (Volvo Cars, won) is not open.
- activities: Anna: a call (newest) and an email; account note on Volvo Cars.
- cases: Anna: "invoice copy" (waiting) open, "old question" resolved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg2

SCHEMA = "switchboard"


@dataclass
class Crm:
    accounts: dict[str, int] = field(default_factory=dict)
    contacts: dict[str, int] = field(default_factory=dict)
    admin_id: int = 0


_SQL = """
SET LOCAL search_path = switchboard, public;

INSERT INTO team (name) VALUES ('Nordics');
UPDATE app_user SET team_id = (SELECT id FROM team WHERE name = 'Nordics')
 WHERE username = 'sb_admin';

CREATE TEMP TABLE me ON COMMIT DROP AS
SELECT u.id AS uid, t.id AS tid FROM app_user u, team t
 WHERE u.username = 'sb_admin' AND t.name = 'Nordics';

INSERT INTO account (name, kind, industry, sic_code, employees, annual_revenue, lifecycle, tier,
                     website, phone, city, country, owner_id, team_id)
SELECT v.name, v.kind, v.industry, v.sic, v.emp, v.rev, v.life, v.tier, v.web, v.phone, v.city,
       v.country, me.uid, me.tid
FROM me, (VALUES
    ('Volvo Group', 'holding', 'Automotive', '3711', 100000, 500000000.00, 'customer', 'A',
     'https://volvogroup.com', '+46 31 66 00 00', 'Göteborg', 'Sweden'),
    ('Ericsson', 'company', 'Telecom', '3663', 99000, NULL, 'customer', 'A', NULL, NULL,
     'Stockholm', 'Sweden'),
    ('IKEA', 'company', 'Retail', '5712', 200000, NULL, 'prospect', 'B', NULL, NULL, 'Älmhult',
     'Sweden'),
    ('H&M Group', 'company', 'Retail', '5651', 100000, NULL, 'former', 'C', NULL, NULL,
     'Stockholm', 'Sweden'),
    ('Big Holding', 'holding', NULL, NULL, NULL, NULL, 'prospect', NULL, NULL, NULL, NULL, NULL),
    ('Deep 00', 'company', NULL, NULL, NULL, NULL, 'prospect', NULL, NULL, NULL, NULL, NULL)
) AS v(name, kind, industry, sic, emp, rev, life, tier, web, phone, city, country);

INSERT INTO account (name, deleted_at) VALUES ('Gone AB', now());

INSERT INTO account (name, parent_id, kind, industry, sic_code, employees, annual_revenue,
                     lifecycle, tier, website, phone, city, country, owner_id, team_id)
SELECT 'Volvo Cars Sverige AB', a.id, 'subsidiary', 'Automotive', '3711', 43000, 250000000.00,
       'customer', 'A', 'https://volvocars.com', '+46 31 59 00 00', 'Göteborg', 'Sweden',
       me.uid, me.tid
FROM account a, me WHERE a.name = 'Volvo Group';
INSERT INTO account (name, parent_id, kind, owner_id)
SELECT 'Volvo Trucks', a.id, 'subsidiary', me.uid FROM account a, me WHERE a.name = 'Volvo Group';
INSERT INTO account (name, parent_id, kind, owner_id)
SELECT v.name, a.id, 'division', me.uid FROM account a, me,
       (VALUES ('Göteborg plant'), ('Torslanda R&D')) AS v(name)
WHERE a.name = 'Volvo Cars Sverige AB';

INSERT INTO account (name, parent_id, kind)
SELECT 'Sub ' || lpad(g::text, 3, '0'), a.id, 'subsidiary'
FROM account a, generate_series(1, 250) g WHERE a.name = 'Big Holding';

DO $deep$
DECLARE i int; parent bigint;
BEGIN
    SELECT id INTO parent FROM account WHERE name = 'Deep 00';
    FOR i IN 1..11 LOOP
        INSERT INTO account (name, parent_id) VALUES ('Deep ' || lpad(i::text, 2, '0'), parent)
        RETURNING id INTO parent;
    END LOOP;
END
$deep$;

INSERT INTO contact (account_id, first_name, last_name, job_title, job_role, department,
                     birthday, spouse_name, interests, city, country, do_not_email, notes,
                     owner_id)
SELECT a.id, v.fn, v.ln, v.title, v.role, v.dept, v.bday::date, v.spouse, v.interests,
       'Göteborg', 'Sweden', v.dne, v.notes, me.uid
FROM me, account a, (VALUES
    ('Anna', 'Lind', 'CFO', 'decision_maker', 'Finance', '1975-03-12', 'Lars Lind',
     'sailing, jazz', false, 'Prefers mornings'),
    ('Erik', 'Berg', 'Buyer', 'influencer', 'Purchasing', NULL, NULL, NULL, true, NULL),
    ('Per', 'Ek', 'CEO', 'economic_buyer', NULL, NULL, NULL, NULL, false, NULL),
    ('Maja', 'Holm', 'Assistant', 'gatekeeper', NULL, NULL, NULL, NULL, false, NULL)
) AS v(fn, ln, title, role, dept, bday, spouse, interests, dne, notes)
WHERE a.name = 'Volvo Cars Sverige AB';
INSERT INTO contact (account_id, first_name, last_name, deleted_at)
SELECT a.id, 'Ghost', 'Person', now() FROM account a WHERE a.name = 'Volvo Cars Sverige AB';
INSERT INTO contact (first_name, last_name, job_title) VALUES ('Lars', 'Lind', 'Teacher');
INSERT INTO contact (account_id, first_name, last_name, job_title)
SELECT a.id, 'Gustav', 'Ny', 'Plant manager' FROM account a WHERE a.name = 'Göteborg plant';

INSERT INTO contact_phone (contact_id, kind, raw, e164, is_primary, position)
SELECT c.id, v.kind, v.raw, v.e164, v.prim, v.pos FROM contact c, (VALUES
    ('mobile', '070-123 45 67', '+46701234567', false, 1),
    ('work', '031-59 00 00', '+46315900000', true, 0)
) AS v(kind, raw, e164, prim, pos) WHERE c.full_name = 'Anna Lind';
INSERT INTO contact_phone (contact_id, kind, raw, e164, is_primary)
SELECT c.id, 'work', '031-59 00 12', '+46315900012', true FROM contact c
 WHERE c.full_name = 'Erik Berg';
INSERT INTO contact_email (contact_id, kind, email, is_primary, position)
SELECT c.id, v.kind, v.email, v.prim, v.pos FROM contact c, (VALUES
    ('personal', 'anna@home.se', false, 1),
    ('work', 'anna.lind@volvocars.com', true, 0)
) AS v(kind, email, prim, pos) WHERE c.full_name = 'Anna Lind';

INSERT INTO contact_relationship (from_contact_id, to_contact_id, type_id, note)
SELECT f.id, t.id, rt.id, v.note
FROM (VALUES ('Anna Lind', 'Per Ek', 'reports_to', 'since 2021'),
             ('Maja Holm', 'Anna Lind', 'assistant_of', NULL),
             ('Lars Lind', 'Anna Lind', 'spouse_of', NULL)) AS v(f, t, k, note)
JOIN contact f ON f.full_name = v.f AND f.deleted_at IS NULL
JOIN contact t ON t.full_name = v.t AND t.deleted_at IS NULL
JOIN relationship_type rt ON rt.key = v.k;

INSERT INTO opportunity (account_id, primary_contact_id, name, amount, stage_id, probability,
                         expected_close, is_closed, is_won, owner_id)
SELECT a.id, c.id, v.name, v.amount, s.id, s.probability, v.close::date, v.closed, v.won, me.uid
FROM me, (VALUES
    ('Volvo Cars Sverige AB', 'Anna Lind', 'Fleet renewal', 400000, 'Proposal', '2030-12-12',
     false, false),
    ('Volvo Cars Sverige AB', NULL, 'Service deal', 100000, 'Qualify', NULL, false, false),
    ('Volvo Cars Sverige AB', 'Anna Lind', 'Old deal', 999, 'Won', '2020-01-01', true, true),
    ('Göteborg plant', NULL, 'Plant robots', 50000, 'Discover', '2030-06-01', false, false),
    ('Volvo Trucks', NULL, 'Trucks EU', 250000, 'Negotiate', '2030-03-01', false, false)
) AS v(acc, con, name, amount, stage, close, closed, won)
JOIN account a ON a.name = v.acc
LEFT JOIN contact c ON c.full_name = v.con AND c.deleted_at IS NULL
JOIN stage s ON s.name = v.stage;

INSERT INTO activity (kind, direction, subject, occurred_at, outcome, duration_seconds,
                      author_id, account_id, contact_id)
SELECT v.kind, v.dir, v.subject, v.at::timestamptz, v.outcome, v.dur, me.uid, a.id, c.id
FROM me, (VALUES
    ('call', 'out', 'budget approved for Q1', '2030-01-10 09:12+00', 'reached', 360, 'Anna Lind'),
    ('email', 'out', 'quote v2 sent', '2030-01-08 14:30+00', NULL, NULL, 'Anna Lind'),
    ('note', NULL, 'site visit booked', '2030-01-09 08:40+00', NULL, NULL, NULL)
) AS v(kind, dir, subject, at, outcome, dur, con)
JOIN account a ON a.name = 'Volvo Cars Sverige AB'
LEFT JOIN contact c ON c.full_name = v.con AND c.deleted_at IS NULL;

INSERT INTO support_case (account_id, contact_id, subject, status, priority, due_at,
                          assignee_id)
SELECT c.account_id, c.id, v.subject, v.status, v.prio, v.due::timestamptz, me.uid
FROM me, contact c, (VALUES
    ('invoice copy', 'waiting', 'high', '2030-01-12 12:00+00'),
    ('old question', 'resolved', 'low', NULL)
) AS v(subject, status, prio, due)
WHERE c.full_name = 'Anna Lind';
"""


def _ids(cur, schema: str = SCHEMA) -> Crm:
    crm = Crm()
    cur.execute(f"SELECT name, id FROM {schema}.account WHERE deleted_at IS NULL")
    crm.accounts = dict(cur.fetchall())
    cur.execute(f"SELECT full_name, id FROM {schema}.contact WHERE deleted_at IS NULL")
    crm.contacts = dict(cur.fetchall())
    cur.execute(f"SELECT id FROM {schema}.app_user WHERE username = 'sb_admin'")
    crm.admin_id = cur.fetchone()[0]
    return crm


def load(installer_dsn: str) -> Crm:
    """Insert the fixed data set; return the ids by name."""
    conn = psycopg2.connect(installer_dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(_SQL)
            return _ids(cur)
    finally:
        conn.close()


def load_hostile(installer_dsn: str, values: list[str]) -> Crm:
    """A root 'Hostile' whose child accounts, contacts (names, titles, notes), deals and
    activities carry the hostile strings. Contact i is named values[i], titled values[i+1]."""
    conn = psycopg2.connect(installer_dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SET LOCAL search_path = switchboard, public")
            cur.execute("INSERT INTO account (name) VALUES ('Hostile') RETURNING id")
            root = cur.fetchone()[0]
            for i, value in enumerate(values):
                cur.execute(
                    "INSERT INTO account (name, parent_id, industry, city) "
                    "VALUES (%s, %s, %s, %s) RETURNING id",
                    [value, root, value[:200], value],
                )
                account_id = cur.fetchone()[0]
                title = values[(i + 1) % len(values)][:200]
                cur.execute(
                    "INSERT INTO contact (account_id, first_name, last_name, job_title, notes,"
                    " interests) VALUES (%s, '', %s, %s, %s, %s) RETURNING id",
                    [account_id, value, title, value, value[:2000]],
                )
                contact_id = cur.fetchone()[0]
                # the same contact also under the Hostile root, so one list holds them all
                cur.execute(
                    "INSERT INTO contact (account_id, first_name, last_name, job_title) "
                    "VALUES (%s, 'H', %s, %s)",
                    [root, value, title],
                )
                cur.execute(
                    "INSERT INTO activity (kind, subject, account_id, contact_id) "
                    "VALUES ('note', %s, %s, %s)",
                    [value[:500], account_id, contact_id],
                )
                cur.execute(
                    "INSERT INTO opportunity (account_id, primary_contact_id, name, stage_id,"
                    " probability) SELECT %s, %s, %s, id, 10 FROM stage WHERE name = 'Qualify'",
                    [account_id, contact_id, value[:500]],
                )
            return _ids(cur)
    finally:
        conn.close()
