"""The set-based SQL of the demo loader (db/demo.py).

Every random choice is `pg_temp.rnd(row key, salt)`: a hash of (key, salt, seed), so the rows
do not depend on the order in which PostgreSQL produces them. Parameters are psycopg2
`%(name)s` placeholders; `{seed}` and `{source}` are filled in by the loader.
"""

from __future__ import annotations

FUNCTIONS = """
CREATE FUNCTION pg_temp.rnd(k bigint, salt int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $f$
    SELECT ((hashint8extended(k, salt::bigint * 1000003 + {seed}) >> 11)
            & 9007199254740991)::float8 / 9007199254740992.0
$f$;
CREATE FUNCTION pg_temp.ri(k bigint, salt int, n int) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $f$ SELECT floor(pg_temp.rnd(k, salt) * n)::int $f$;
CREATE TEMP TABLE demo_loc (loc int PRIMARY KEY, country text, language text, mail text[])
    ON COMMIT DROP;
CREATE TEMP TABLE demo_first (loc int, i int, name text, ascii text, PRIMARY KEY (loc, i))
    ON COMMIT DROP;
CREATE TEMP TABLE demo_last (loc int, i int, name text, ascii text, PRIMARY KEY (loc, i))
    ON COMMIT DROP;
CREATE TEMP TABLE demo_place (loc int, i int, street text, postal text, city text, region text,
    PRIMARY KEY (loc, i)) ON COMMIT DROP;
CREATE TEMP TABLE demo_title (i int PRIMARY KEY, title text, department text, job_role text)
    ON COMMIT DROP;
CREATE TEMP TABLE demo_acc (an int, sn int, acc_id bigint, loc int, kind text, owner_id bigint,
    team_id bigint, c_start bigint, c_count int, domain text, family text, family_ascii text)
    ON COMMIT DROP;
"""

CONTACT_FROM = """
FROM demo_acc a
CROSS JOIN LATERAL generate_series(a.c_start, a.c_start + a.c_count - 1) g
CROSS JOIN LATERAL (SELECT CASE WHEN a.kind = 'household' THEN a.c_start ELSE g END AS hk) h
JOIN demo_loc loc ON loc.loc = a.loc
JOIN demo_first f ON f.loc = a.loc AND f.i = pg_temp.ri(g, 1, %(nf)s)
JOIN demo_last l ON l.loc = a.loc AND l.i = pg_temp.ri(h.hk, 2, %(nl)s)
"""

CONTACTS = """
INSERT INTO contact (id, account_id, first_name, last_name, job_title, job_role, department,
    birthday, spouse_name, interests, street, postal_code, city, region, country,
    preferred_language, do_not_call, do_not_email, owner_id, team_id, created_at, updated_at)
OVERRIDING SYSTEM VALUE
SELECT g, a.acc_id, f.name, coalesce(a.family, l.name),
    CASE WHEN a.domain IS NOT NULL THEN t.title END,
    CASE WHEN a.domain IS NOT NULL THEN t.job_role END,
    CASE WHEN a.domain IS NOT NULL THEN t.department END,
    CASE WHEN pg_temp.rnd(g, 5) < 0.4 THEN date '1950-01-01' + pg_temp.ri(g, 6, 18000) END,
    CASE WHEN a.domain IS NOT NULL AND pg_temp.rnd(g, 7) < 0.1 THEN sp.name END,
    CASE WHEN pg_temp.rnd(g, 8) < 0.15 THEN (ARRAY['golf', 'sailing', 'football', 'opera',
        'hiking', 'wine', 'chess', 'running', 'photography', 'jazz'])[1 + pg_temp.ri(g, 9, 10)]
    END,
    p.street, p.postal, p.city, p.region, loc.country, loc.language,
    pg_temp.rnd(g, 10) < 0.02, pg_temp.rnd(g, 11) < 0.03, a.owner_id, a.team_id,
    %(anchor)s::timestamptz - make_interval(days => 730 + pg_temp.ri(g, 13, 1500)),
    %(anchor)s::timestamptz - make_interval(days => pg_temp.ri(g, 14, 700))
""" + CONTACT_FROM + """
JOIN demo_first sp ON sp.loc = a.loc AND sp.i = pg_temp.ri(g, 12, %(nf)s)
JOIN demo_title t ON t.i = pg_temp.ri(g, 3, %(nt)s)
JOIN demo_place p ON p.loc = a.loc AND p.i = pg_temp.ri(h.hk, 4, %(np)s)
"""

EMAILS = """
INSERT INTO contact_email (contact_id, kind, email, is_primary, position, created_at)
SELECT g, e.kind, e.email, e.pos = 0 OR a.domain IS NULL,
    CASE WHEN a.domain IS NULL THEN 0 ELSE e.pos END, %(anchor)s::timestamptz
""" + CONTACT_FROM + """
CROSS JOIN LATERAL (VALUES
    (0, 'work', CASE WHEN a.domain IS NOT NULL
        THEN f.ascii || '.' || coalesce(a.family_ascii, l.ascii) || '@' || a.domain END),
    (1, 'personal', CASE WHEN a.domain IS NULL OR pg_temp.rnd(g, 20) < 0.5
        THEN f.ascii || '.' || coalesce(a.family_ascii, l.ascii) || pg_temp.ri(g, 21, 100)
             || '@' || loc.mail[1 + pg_temp.ri(g, 22, cardinality(loc.mail))] END)
) e(pos, kind, email)
WHERE e.email IS NOT NULL
"""

ACTIVITY_SELECT = """
INSERT INTO activity (client_uuid, kind, direction, subject, body, occurred_at,
    duration_seconds, outcome, due_at, completed_at, author_id, assignee_id, account_id,
    contact_id, created_at, updated_at)
SELECT md5(%(seed)s || ':' || k)::uuid, kind,
    CASE WHEN kind IN ('call', 'email', 'sms')
         THEN CASE WHEN pg_temp.rnd(k, 36) < 0.5 THEN 'in' ELSE 'out' END END,
    CASE kind
        WHEN 'call' THEN (ARRAY['Intro call', 'Follow-up call', 'Pricing question',
            'Renewal call', 'Support callback', 'Check-in'])[1 + pg_temp.ri(k, 40, 6)]
        WHEN 'email' THEN (ARRAY['Proposal sent', 'Meeting notes', 'Quote request',
            'Contract draft', 'Newsletter reply', 'Invoice query'])[1 + pg_temp.ri(k, 40, 6)]
        WHEN 'meeting' THEN (ARRAY['Quarterly review', 'Product demo', 'Kick-off',
            'Site visit', 'Workshop'])[1 + pg_temp.ri(k, 40, 5)]
        WHEN 'task' THEN (ARRAY['Send proposal', 'Call back', 'Prepare demo',
            'Update contract', 'Book meeting'])[1 + pg_temp.ri(k, 40, 5)]
        WHEN 'note' THEN (ARRAY['Budget approved for Q3', 'New decision maker',
            'Prefers email', 'Competitor evaluation'])[1 + pg_temp.ri(k, 40, 4)]
        ELSE initcap(kind) END,
    CASE WHEN pg_temp.rnd(k, 41) < 0.4 THEN (ARRAY[
        'Discussed the renewal; they want a multi-year price.',
        'Asked for references in their industry.',
        'Left a voicemail, will try again on Thursday.',
        'Interested in the new reporting module.',
        'Escalated a delivery problem to logistics.',
        'Agreed next steps and a date for the demo.',
        'Needs approval from finance before signing.',
        'Happy with the service, open to an upsell.'])[1 + pg_temp.ri(k, 42, 8)] END,
    occurred,
    CASE WHEN kind = 'call' AND r < 0.55 THEN 30 + pg_temp.ri(k, 38, 1800)
         WHEN kind = 'meeting' THEN 1800 + 900 * pg_temp.ri(k, 39, 5) END,
    CASE WHEN kind = 'call' THEN CASE WHEN r < 0.55 THEN 'reached' WHEN r < 0.75 THEN 'voicemail'
        WHEN r < 0.9 THEN 'no_answer' WHEN r < 0.95 THEN 'busy' WHEN r < 0.99 THEN 'callback'
        ELSE 'wrong_number' END
         WHEN kind = 'meeting' THEN 'completed' END,
    CASE WHEN kind = 'task' THEN occurred + make_interval(days => 1 + pg_temp.ri(k, 43, 14)) END,
    CASE WHEN kind = 'task' AND occurred + make_interval(days => 1 + pg_temp.ri(k, 43, 14))
              < %(anchor)s::timestamptz AND r < 0.9
         THEN occurred + make_interval(days => 1 + pg_temp.ri(k, 43, 14))
         WHEN kind <> 'task' THEN occurred END,
    author, CASE WHEN kind = 'task' THEN author END, account_id, contact_id, occurred, occurred
FROM (
    SELECT k, contact_id, account_id, pg_temp.rnd(k, 37) AS r,
        %(anchor)s::timestamptz - make_interval(secs => pg_temp.rnd(k, 35) * 730 * 86400)
            AS occurred,
        CASE WHEN pg_temp.rnd(k, 33) < 0.7 AND owner_id IS NOT NULL THEN owner_id
             ELSE (%(agents)s::bigint[])[1 + pg_temp.ri(k, 34, %(n_agents)s)] END AS author,
        CASE WHEN r1 < 0.40 THEN 'call' WHEN r1 < 0.65 THEN 'email'
             WHEN r1 < 0.75 THEN 'meeting' WHEN r1 < 0.85 THEN 'note' WHEN r1 < 0.95 THEN 'task'
             WHEN r1 < 0.98 THEN 'sms' WHEN r1 < 0.99 THEN 'letter' ELSE 'webinar' END AS kind
    FROM (SELECT *, pg_temp.rnd(k, 31) AS r1 FROM ({source}) s0) s1
) x
"""

ACTIVITY_PER_CONTACT = """
    SELECT c.id * 64 + s AS k, c.id AS contact_id, c.account_id, c.owner_id
    FROM contact c CROSS JOIN LATERAL generate_series(1, pg_temp.ri(c.id, 30, %(span)s)) s
"""

ACTIVITY_BIG_ACCOUNT = """
    SELECT 1000000000000 + g AS k, c.id AS contact_id, c.account_id, c.owner_id
    FROM generate_series(1, %(n_big)s) g
    JOIN contact c ON c.id = %(c_start)s + pg_temp.ri(g, 32, %(c_count)s)
"""

OPPORTUNITIES = """
INSERT INTO opportunity (account_id, primary_contact_id, name, amount, currency, stage_id,
    probability, expected_close, forecast_category, is_closed, is_won, closed_at, lost_reason,
    campaign_id, owner_id, team_id, created_at, updated_at)
SELECT a.acc_id, a.c_start + pg_temp.ri(g, 41, a.c_count),
    ac.name || ' – ' || (ARRAY['Platform licence', 'Support renewal', 'Consulting', 'Training',
        'Hardware refresh', 'Expansion', 'Pilot project', 'Managed service'])
        [1 + pg_temp.ri(g, 46, 8)],
    round((500 * exp(pg_temp.rnd(g, 44) * 6))::numeric, -1), ac.currency, st.id,
    st.probability, o.close_on,
    CASE WHEN NOT o.open THEN 'closed' WHEN st.position <= 2 THEN 'pipeline'
         WHEN st.position = 3 THEN 'best_case' ELSE 'commit' END,
    NOT o.open, st.is_won, CASE WHEN NOT o.open THEN o.close_on::timestamptz END,
    CASE WHEN st.is_lost THEN (ARRAY['Price', 'Lost to competitor', 'No budget', 'No decision',
        'Timing'])[1 + pg_temp.ri(g, 47, 5)] END,
    CASE WHEN pg_temp.rnd(g, 48) < 0.15
         THEN (%(campaigns)s::bigint[])[1 + pg_temp.ri(g, 49, %(n_campaigns)s)] END,
    a.owner_id, a.team_id,
    o.close_on - make_interval(days => 30 + pg_temp.ri(g, 45, 170)),
    o.close_on - make_interval(days => pg_temp.ri(g, 45, 30))
FROM generate_series(1, %(n)s) g
CROSS JOIN LATERAL (SELECT mod(g, 10) = 0 AS open,
    CASE WHEN mod(g, 10) = 0 THEN %(anchor)s::date + pg_temp.ri(g, 43, 180)
         ELSE %(anchor)s::date - pg_temp.ri(g, 43, 730) END AS close_on) o
JOIN demo_acc a ON a.sn = 1 + pg_temp.ri(g, 40, %(n_acc)s)
JOIN account ac ON ac.id = a.acc_id
JOIN stage st ON st.pipeline_id = %(pipeline)s AND st.position = CASE
    WHEN o.open THEN 1 + pg_temp.ri(g, 42, 4) WHEN pg_temp.rnd(g, 42) < 0.4 THEN 5 ELSE 6 END
"""

CASES = """
INSERT INTO support_case (account_id, contact_id, subject, status, priority, assignee_id,
    due_at, resolution, closed_at, owner_id, team_id, created_at, updated_at)
SELECT a.acc_id, a.c_start + pg_temp.ri(g, 51, a.c_count),
    (ARRAY['Cannot log in', 'Invoice is wrong', 'Delivery is late', 'Product arrived damaged',
        'Question about the contract', 'Request for a callback', 'Password reset',
        'Change of address', 'Feature request', 'Outage report'])[1 + pg_temp.ri(g, 54, 10)],
    x.status,
    (ARRAY['low', 'normal', 'normal', 'normal', 'high', 'urgent'])[1 + pg_temp.ri(g, 55, 6)],
    x.agent, x.created + interval '3 days',
    CASE WHEN x.status IN ('resolved', 'closed') THEN 'Solved on the phone' END,
    CASE WHEN x.status IN ('resolved', 'closed')
         THEN x.created + make_interval(hours => 1 + pg_temp.ri(g, 56, 200)) END,
    x.agent, %(team)s, x.created, x.created
FROM generate_series(1, %(n)s) g
JOIN demo_acc a ON a.an = 1 + pg_temp.ri(g, 50, %(n_acc)s)
CROSS JOIN LATERAL (SELECT
    %(anchor)s::timestamptz - make_interval(mins => pg_temp.ri(g, 52, 730 * 24 * 60)) AS created,
    (%(agents)s::bigint[])[1 + pg_temp.ri(g, 57, %(n_agents)s)] AS agent,
    CASE WHEN pg_temp.rnd(g, 53) < 0.1 THEN 'new' WHEN pg_temp.rnd(g, 53) < 0.25 THEN 'open'
         WHEN pg_temp.rnd(g, 53) < 0.33 THEN 'waiting' WHEN pg_temp.rnd(g, 53) < 0.6
         THEN 'resolved' ELSE 'closed' END AS status) x
"""

MEMBERS = """
INSERT INTO campaign_member (campaign_id, contact_id, status, responded_at, created_at, updated_at)
SELECT %(campaign)s, 1 + mod(%(offset)s + i * %(stride)s, %(n_contacts)s), m.status,
    CASE WHEN m.status IN ('responded', 'attended') THEN %(starts)s::timestamptz
        + make_interval(days => pg_temp.ri(%(campaign)s * 10000000 + i, 61, 30)) END,
    %(starts)s::timestamptz, %(starts)s::timestamptz
FROM generate_series(0, %(members)s - 1) i
CROSS JOIN LATERAL (SELECT (ARRAY['invited', 'sent', 'sent', 'responded', 'attended',
    'declined', 'unsubscribed'])[1 + pg_temp.ri(%(campaign)s * 10000000 + i, 60, 7)] AS status) m
"""
