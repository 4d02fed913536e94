-- 0017: one search over accounts, contacts, deals and cases (issue 13 part 1, docs/search.md),
-- and an account-tree filter that stays fast as a rep.
--
-- Under row-level security the planner may not use a trigram index for a condition that is not
-- LEAKPROOF, and nothing here is marked LEAKPROOF (0010). So every search runs inside a
-- SECURITY DEFINER function owned by the owner (fixed search_path, EXECUTE for {{roles}}_user
-- only) that finds candidates through its indexes and keeps only rows the CALLER may read,
-- judged by the sec_visible_* views (the read policies written once, 0010 and below) before
-- anything is ranked, limited or counted.
--
-- 1. search_term: the distinct names of each kind (account name, contact full name, deal name,
--    case subject) with a trigram index. At 1M contacts there are ~155k distinct full names: a
--    fuzzy match over them reads a sixth of the posting lists a match over the contacts reads
--    (10 ms instead of 70-190 ms for a two-word name with a typo). The matching terms are then
--    ranked by their own text, and the rows that carry them are read through a btree on the
--    name, visible ones only, until the limit is full. A term that no live row carries any
--    more (renamed, deleted) is harmless: it finds nothing. The table is the owner's alone
--    (RLS forced, no grants): a term names no row and nobody but these functions reads it.
--    Triggers add the names of new and renamed rows.
-- 2. Btrees on the names, to go from a term to its rows; (lower(name), id) over live accounts
--    for the tree filter's name order.
-- 3. sec_visible_opportunity, sec_visible_case: the read policies of opportunity and
--    support_case (0002) as views for functions that run as the owner, like 0010's.
-- 4. search_records(): names (same > prefix > word prefix > close > loosely similar), email
--    (exact, any case), phone (E.164 forms and the last 7-10 digits, computed by the client
--    with phonenumbers: db/phones.py search_keys). Per kind at most p_limit + 1 rows (the
--    extra one only says "more"), each row the caller may read, and names of related records
--    only when the caller may read those too.
-- 5. filter_account_ids(): the account tree's filter (name contains the text, name order,
--    keyset pages). One or two letters walk the accounts in name order and stop at the page
--    (the trigram index cannot serve them, and nearly every account matches); three or more
--    go through the trigram index. 0010's search_account_ids stays for older clients.

SET LOCAL ROLE {{roles}}_owner;
SET LOCAL search_path = {{schema}}, public;

-- ---------------------------------------------------------------------------------------------
-- 1. Terms

CREATE TABLE search_term (
    kind  "char" NOT NULL CHECK (kind IN ('a', 'c', 'o', 's')),
    term  text NOT NULL,
    PRIMARY KEY (kind, term)
);
ALTER TABLE search_term ENABLE ROW LEVEL SECURITY;
ALTER TABLE search_term FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON search_term TO {{roles}}_owner USING (true) WITH CHECK (true);
REVOKE ALL ON search_term FROM PUBLIC;

INSERT INTO search_term SELECT DISTINCT 'a'::"char", name FROM account;
INSERT INTO search_term SELECT DISTINCT 'c'::"char", full_name FROM contact WHERE full_name <> '';
INSERT INTO search_term SELECT DISTINCT 'o'::"char", name FROM opportunity;
INSERT INTO search_term SELECT DISTINCT 's'::"char", subject FROM support_case;

CREATE INDEX search_term_account_trgm ON search_term USING gin (term gin_trgm_ops) WHERE kind = 'a';
CREATE INDEX search_term_contact_trgm ON search_term USING gin (term gin_trgm_ops) WHERE kind = 'c';
CREATE INDEX search_term_deal_trgm ON search_term USING gin (term gin_trgm_ops) WHERE kind = 'o';
CREATE INDEX search_term_case_trgm ON search_term USING gin (term gin_trgm_ops) WHERE kind = 's';
CREATE INDEX search_term_prefix_idx ON search_term (kind, lower(term) text_pattern_ops);

-- New and renamed rows add their name (statement-level: a bulk load pays one INSERT).
CREATE FUNCTION search_term_add() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    CASE TG_TABLE_NAME
    WHEN 'account' THEN
        INSERT INTO {{schema}}.search_term SELECT DISTINCT 'a'::"char", n.name FROM new_rows n
            ON CONFLICT DO NOTHING;
    WHEN 'contact' THEN
        INSERT INTO {{schema}}.search_term SELECT DISTINCT 'c'::"char", n.full_name FROM new_rows n
         WHERE n.full_name <> '' ON CONFLICT DO NOTHING;
    WHEN 'opportunity' THEN
        INSERT INTO {{schema}}.search_term SELECT DISTINCT 'o'::"char", n.name FROM new_rows n
            ON CONFLICT DO NOTHING;
    WHEN 'support_case' THEN
        INSERT INTO {{schema}}.search_term SELECT DISTINCT 's'::"char", n.subject FROM new_rows n
            ON CONFLICT DO NOTHING;
    END CASE;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION search_term_add() FROM PUBLIC;

-- After a load that bypassed triggers (session_replication_role = replica: db/demo.py, bulk
-- imports): add every missing name; returns how many were added. Installer only.
CREATE FUNCTION search_term_rebuild() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    added bigint;
BEGIN
    INSERT INTO {{schema}}.search_term
    SELECT DISTINCT 'a'::"char", name FROM {{schema}}.account
    UNION SELECT DISTINCT 'c'::"char", full_name FROM {{schema}}.contact WHERE full_name <> ''
    UNION SELECT DISTINCT 'o'::"char", name FROM {{schema}}.opportunity
    UNION SELECT DISTINCT 's'::"char", subject FROM {{schema}}.support_case
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS added = ROW_COUNT;
    RETURN added;
END
$$;
REVOKE ALL ON FUNCTION search_term_rebuild() FROM PUBLIC;

DO $triggers$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['account', 'contact', 'opportunity', 'support_case'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON {{schema}}.%I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.search_term_add()',
                       t || '_search_ins', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON {{schema}}.%I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.search_term_add()',
                       t || '_search_upd', t);
    END LOOP;
END
$triggers$;

-- ---------------------------------------------------------------------------------------------
-- 2. From a term to its rows; the tree filter's order.

CREATE INDEX account_name_order_idx ON account (lower(name), id);
CREATE INDEX contact_full_name_idx ON contact (full_name);
CREATE INDEX opportunity_name_idx ON opportunity (name);
CREATE INDEX support_case_subject_idx ON support_case (subject, id);

-- ---------------------------------------------------------------------------------------------
-- 3. The read policies of opportunity and support_case (0002) for the owner's functions.
-- Agents hold no SELECT on opportunity: search_records checks the privilege before it looks.

CREATE VIEW sec_visible_opportunity AS
SELECT o.* FROM opportunity o
 WHERE (SELECT current_app_user_id()) IS NOT NULL AND (
       (SELECT sec_is_admin())
    OR o.owner_id = ANY ((SELECT sec_hier_user_ids())::bigint[])
    OR o.team_id = ANY ((SELECT sec_hier_team_ids())::bigint[])
    OR (o.account_id IS NOT NULL
        AND coalesce((SELECT true FROM sec_visible_account a WHERE a.id = o.account_id), false))
    OR (o.account_id IS NULL
        AND ((o.team_id IS NULL AND (SELECT sec_default_open('opportunity', false)))
             OR o.team_id = ANY ((SELECT sec_open_team_ids('opportunity', false))::bigint[]))));

CREATE VIEW sec_visible_case AS
SELECT s.* FROM support_case s
 WHERE (SELECT current_app_user_id()) IS NOT NULL AND (
       (SELECT sec_is_admin())
    OR s.owner_id = ANY ((SELECT sec_hier_user_ids())::bigint[])
    OR s.team_id = ANY ((SELECT sec_hier_team_ids())::bigint[])
    OR s.assignee_id = (SELECT current_app_user_id())
    OR (s.account_id IS NOT NULL
        AND coalesce((SELECT true FROM sec_visible_account a WHERE a.id = s.account_id), false))
    OR (s.account_id IS NULL AND s.contact_id IS NOT NULL
        AND coalesce((SELECT true FROM sec_visible_contact k WHERE k.id = s.contact_id), false))
    OR (s.account_id IS NULL AND s.contact_id IS NULL
        AND ((s.team_id IS NULL AND (SELECT sec_default_open('support_case', false)))
             OR s.team_id = ANY ((SELECT sec_open_team_ids('support_case', false))::bigint[]))));

REVOKE ALL ON sec_visible_opportunity, sec_visible_case FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- 4. The search.
--
-- p_text: the words typed (names); p_email: an email address (exact, any case); p_phones: E.164
-- forms; p_suffixes: the last 7-10 digits of the number, reversed (contact_phone_suffix_idx of
-- 0001 is on reverse(e164)). p_kinds: any of 'account', 'contact', 'deal', 'case'.
-- rank: 0 same name / same email / same number, 1 the name starts with the text, 2 a later word
-- of it does, 3 similar (every word typed close to a part of the name), 4 the number ends with
-- the digits, 5 loosely similar (a second pass, docs/search.md). Within a rank the higher
-- score first, then the term, then id. The word-similarity threshold is set for the rest of
-- the caller's transaction (set_config, local; see 0010 for why not a SET clause).
-- Rows come in that order per kind, at most p_limit + 1 per kind (p_limit at most 100).
CREATE FUNCTION search_records(p_text text, p_email text, p_phones text[], p_suffixes text[],
                               p_kinds text[], p_limit integer)
RETURNS TABLE (kind text, id bigint, label text, detail text, account_id bigint,
               contact_id bigint, rank integer, score real)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, {{schema}}, public, pg_temp AS $$
DECLARE
    q text := btrim(coalesce(p_text, ''));
    ql text := lower(btrim(coalesce(p_text, '')));
    esc text;
    want integer := least(greatest(coalesce(p_limit, 20), 1), 100) + 1;
    k text;
    code "char";
    t record;
    got integer;
    n integer;
    cand text;
    fuzzy text;
    close_enough text;
    close_check text;
    loose constant integer := 500;
BEGIN
    esc := replace(replace(replace(ql, '\', '\\'), '%', '\%'), '_', '\_');

    -- Email: the contacts that have it.
    IF coalesce(p_email, '') <> '' AND 'contact' = ANY (p_kinds) THEN
        RETURN QUERY
        SELECT 'contact'::text, c.id, c.full_name, e.email, a.id, c.id, 0, 1::real
          FROM contact_email e JOIN sec_visible_contact c ON c.id = e.contact_id
          LEFT JOIN sec_visible_account a ON a.id = c.account_id
         WHERE e.email_key = lower(btrim(p_email)) AND c.deleted_at IS NULL
         ORDER BY c.id LIMIT want;
        RETURN;
    END IF;

    -- Phone: same number first, then numbers ending with the digits.
    IF (coalesce(cardinality(p_phones), 0) > 0 OR coalesce(cardinality(p_suffixes), 0) > 0)
       AND 'contact' = ANY (p_kinds) THEN
        RETURN QUERY
        WITH hits AS (
            SELECT ph.contact_id AS cid, ph.e164, 0 AS r FROM contact_phone ph
             WHERE ph.e164 = ANY (coalesce(p_phones, '{}'))
            UNION ALL
            SELECT ph.contact_id, ph.e164, 4 FROM unnest(coalesce(p_suffixes, '{}')) s(rev)
              JOIN contact_phone ph
                ON reverse(ph.e164) ~>=~ s.rev AND reverse(ph.e164) ~<~ (s.rev || ':')
             WHERE s.rev ~ '^[0-9]{7,10}$'
        ), best AS (
            SELECT DISTINCT ON (h.cid) h.cid, h.e164, h.r FROM hits h ORDER BY h.cid, h.r, h.e164
        )
        SELECT 'contact'::text, c.id, c.full_name, best.e164, a.id, c.id, best.r, 1::real
          FROM best JOIN sec_visible_contact c ON c.id = best.cid
          LEFT JOIN sec_visible_account a ON a.id = c.account_id
         WHERE c.deleted_at IS NULL
         ORDER BY best.r, c.full_name, c.id LIMIT want;
        RETURN;
    END IF;

    IF q = '' THEN
        RETURN;
    END IF;
    -- Similar: every word typed (of four letters or more, at most six; shorter words are too
    -- short to be told apart from a typo) is close to a part of the name (word similarity).
    -- The words' trigram conditions intersect in the index, so a common surname alone does
    -- not drag every name that has it into the ranking. No such word: the whole text is.
    SELECT string_agg(format('%L <%% t.term', w), ' AND ') INTO fuzzy
      FROM (SELECT DISTINCT w FROM regexp_split_to_table(ql, '\s+') w
             WHERE length(w) >= 4 LIMIT 6) words;
    fuzzy := coalesce(fuzzy, format('%L <%% t.term', q));
    -- The first pass asks more: every word of three letters or more (a short first name
    -- narrows a common surname down to a handful), each at 0.6.
    SELECT string_agg(format('%L <%% t.term', w), ' AND ') INTO close_enough
      FROM (SELECT DISTINCT w FROM regexp_split_to_table(ql, '\s+') w
             WHERE length(w) >= 3 LIMIT 6) words;
    close_enough := coalesce(close_enough, format('%L <%% t.term', q));
    SELECT string_agg(format('word_similarity(%L, t.term) >= 0.6', w), ' AND ') INTO close_check
      FROM (SELECT DISTINCT w FROM regexp_split_to_table(ql, '\s+') w
             WHERE length(w) >= 3 LIMIT 6) words;
    close_check := coalesce(close_check, format('word_similarity(%L, t.term) >= 0.6', q));

    FOREACH k IN ARRAY ARRAY['account', 'contact', 'deal', 'case'] LOOP
        CONTINUE WHEN NOT k = ANY (p_kinds);
        IF k = 'deal' AND NOT (coalesce(sec_role() IN ('rep', 'manager', 'admin'), false)
                               AND has_table_privilege(session_user, '{{schema}}.opportunity', 'SELECT')) THEN
            CONTINUE;
        END IF;
        code := CASE k WHEN 'account' THEN 'a' WHEN 'contact' THEN 'c' WHEN 'deal' THEN 'o' ELSE 's' END;
        got := 0;
        -- Two passes over the names. First the close ones (every word at word similarity
        -- >= 0.6, with the exact and prefix matches); only when they do not fill the limit
        -- with rows the caller may read, the loosely similar ones (>= 0.4; deals 0.5: their
        -- names repeat their account's and a product's), ranked after them (rank 5). A common
        -- word ("malm", "andersson") is close to a few hundred names and loosely similar to
        -- ten thousand: the second pass runs only when the first found too little.
        FOR phase IN 1..(CASE WHEN length(q) < 3 THEN 1 ELSE 2 END) LOOP
            EXIT WHEN got >= want;
            PERFORM set_config('pg_trgm.word_similarity_threshold',
                               CASE WHEN phase = 1 THEN '0.6' WHEN k = 'deal' THEN '0.5' ELSE '0.4' END,
                               true);
            -- The candidate terms, best first; built as text so that each search gets a plan
            -- for its own text (the prefix range and the trigram index need the constant).
            IF length(q) < 3 THEN
                -- One or two letters: names that start with them, in name order (lazily read:
                -- the loop below stops at the limit).
                cand := format(
                    'SELECT t.term, CASE WHEN lower(t.term) = %1$L THEN 0 ELSE 1 END AS r, 1::real AS s
                       FROM search_term t
                      WHERE t.kind = %2$L AND lower(t.term) LIKE %3$L
                      ORDER BY lower(t.term), t.term', ql, code, esc || '%');
            ELSIF phase = 1 THEN
                cand := format(
                    'SELECT m.term, m.r, m.s FROM (
                       SELECT t.term,
                              CASE WHEN lower(t.term) = %1$L THEN 0
                                   WHEN lower(t.term) LIKE %4$L THEN 1
                                   WHEN lower(t.term) LIKE %5$L THEN 2
                                   ELSE 3 END AS r,
                              (similarity(t.term, %6$L) + word_similarity(%6$L, t.term)) / 2 AS s
                         FROM search_term t
                        WHERE t.kind = %2$L AND (%3$s)
                       UNION
                       SELECT t.term, CASE WHEN lower(t.term) = %1$L THEN 0 ELSE 1 END,
                              (similarity(t.term, %6$L) + word_similarity(%6$L, t.term)) / 2
                         FROM search_term t
                        WHERE t.kind = %2$L AND lower(t.term) LIKE %4$L) m
                      ORDER BY m.r, m.s DESC, m.term', ql, code, close_enough, esc || '%', '% ' || esc || '%', q);
            ELSE
                -- What the first pass did not take: not a prefix, not close. A fallback, so it
                -- looks at no more than LOOSE names (a common word is loosely similar to
                -- thousands; which of them is not decided by who may see them).
                cand := format(
                    'SELECT m.term, 5 AS r,
                            (similarity(m.term, %4$L) + word_similarity(%4$L, m.term)) / 2 AS s
                       FROM (SELECT t.term FROM search_term t
                              WHERE t.kind = %1$L AND (%2$s) AND lower(t.term) NOT LIKE %3$L
                                AND NOT (%5$s) LIMIT %6$s) m
                      ORDER BY 3 DESC, m.term', code, fuzzy, esc || '%', q,
                    close_check, loose);
            END IF;
            FOR t IN EXECUTE cand LOOP
                IF k = 'account' THEN
                    RETURN QUERY
                    SELECT 'account'::text, a.id, a.name, par.name, a.id, NULL::bigint, t.r, t.s::real
                      FROM sec_visible_account a LEFT JOIN sec_visible_account par ON par.id = a.parent_id
                     WHERE lower(a.name) = lower(t.term) AND a.name = t.term AND a.deleted_at IS NULL
                     ORDER BY a.id LIMIT want - got;
                ELSIF k = 'contact' THEN
                    RETURN QUERY
                    SELECT 'contact'::text, c.id, c.full_name, a.name, a.id, c.id, t.r, t.s::real
                      FROM sec_visible_contact c LEFT JOIN sec_visible_account a ON a.id = c.account_id
                     WHERE c.full_name = t.term AND c.deleted_at IS NULL
                     ORDER BY c.id LIMIT want - got;
                ELSIF k = 'deal' THEN
                    RETURN QUERY
                    SELECT 'deal'::text, o.id, o.name, a.name, a.id, NULL::bigint, t.r, t.s::real
                      FROM sec_visible_opportunity o LEFT JOIN sec_visible_account a ON a.id = o.account_id
                     WHERE o.name = t.term AND o.deleted_at IS NULL
                     ORDER BY o.id LIMIT want - got;
                ELSE
                    RETURN QUERY
                    SELECT 'case'::text, s.id, s.subject,
                           concat_ws(' · ', s.status, coalesce(a.name, c.full_name)), a.id, c.id, t.r, t.s::real
                      FROM sec_visible_case s LEFT JOIN sec_visible_account a ON a.id = s.account_id
                      LEFT JOIN sec_visible_contact c ON c.id = s.contact_id
                     WHERE s.subject = t.term AND s.deleted_at IS NULL
                     ORDER BY s.id DESC LIMIT want - got;
                END IF;
                GET DIAGNOSTICS n = ROW_COUNT;
                got := got + n;
                EXIT WHEN got >= want;
            END LOOP;
        END LOOP;
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- 5. The account tree's filter: ids of the live accounts (any depth) whose name contains
-- p_text (any case) that the caller may read, in name order after the keyset.
CREATE FUNCTION filter_account_ids(p_text text, p_after_name text, p_after_id bigint,
                                   p_limit integer)
RETURNS SETOF bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, {{schema}}, public, pg_temp AS $$
DECLARE
    needle text := lower(coalesce(p_text, ''));
    pattern text;
    lim integer := least(greatest(coalesce(p_limit, 0), 0), 1000);
    keyset text := 'TRUE';
    walk constant integer := 3000;
    found bigint[];
BEGIN
    IF needle = '' OR lim = 0 THEN
        RETURN;
    END IF;
    pattern := '%' || replace(replace(replace(needle, '\', '\\'), '%', '\%'), '_', '\_') || '%';
    IF p_after_id IS NOT NULL THEN
        keyset := format('(lower(a.name), a.id) > (%L, %s)', p_after_name, p_after_id);
    END IF;
    IF length(needle) < 3 THEN
        -- The trigram index cannot serve one or two letters. Usually nearly every account
        -- matches: walk the first WALK accounts in name order and keep the matches. When they
        -- fill the page, those are the page (the order is the same); when not, the text is
        -- rare: find all its matches (a scan, few rows to check and sort) and sort them.
        EXECUTE format(
            'SELECT coalesce(array_agg(x.id ORDER BY x.k, x.id), ''{}'') FROM (
               SELECT s.id, lower(s.name) AS k FROM (SELECT a.id, a.name FROM account a
                                    WHERE a.deleted_at IS NULL AND %s
                                    ORDER BY lower(a.name), a.id LIMIT %s) s
                WHERE lower(s.name) LIKE %L
                  AND EXISTS (SELECT 1 FROM sec_visible_account v WHERE v.id = s.id)
                ORDER BY lower(s.name), s.id LIMIT %s) x', keyset, walk, pattern, lim)
          INTO found;
        IF cardinality(found) >= lim THEN
            RETURN QUERY SELECT unnest(found);
            RETURN;
        END IF;
        RETURN QUERY EXECUTE format(
            'SELECT a.id FROM sec_visible_account a
              WHERE a.deleted_at IS NULL AND lower(a.name) LIKE %L AND %s
              ORDER BY lower(a.name) || '''', a.id LIMIT %s', pattern, keyset, lim);
    ELSE
        RETURN QUERY EXECUTE format(
            'SELECT a.id FROM sec_visible_account a
              WHERE a.deleted_at IS NULL AND a.name ILIKE %L AND %s
              ORDER BY lower(a.name), a.id LIMIT %s', pattern, keyset, lim);
    END IF;
END
$$;

DO $grants$
DECLARE
    f text;
    trgm text := (SELECT n.nspname FROM pg_extension e
                  JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm');
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'search_records(text, text, text[], text[], text[], integer)',
        'filter_account_ids(text, text, bigint, integer)']
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION {{schema}}.%s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION {{schema}}.%s TO {{roles}}_user', f);
        EXECUTE format('ALTER FUNCTION {{schema}}.%s SET search_path = pg_catalog, {{schema}}, %I, pg_temp',
                       f, trgm);
    END LOOP;
END
$grants$;
