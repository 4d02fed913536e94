-- 0010: the audit trail follows visibility and pages fast; nothing is LEAKPROOF; duplicate
-- checks and name searches apply the caller's visibility first (docs/security.md, "What SQL
-- access still reveals").
--
-- 1. pg_trgm's similarity_op loses the LEAKPROOF mark 0006 gave it where the installer was a
--    superuser. A LEAKPROOF condition runs below row-level security, so EXPLAIN ANALYZE counts
--    the hidden rows it matched: fuzzy name matches widened the channel plain `=` already
--    opens. Only a superuser can change the mark; anyone else gets a WARNING saying what to run.
-- 2. audit_log: a btree (at DESC, id DESC) for the admin screen's newest-first keyset pages
--    (the first page sorted the whole log through the BRIN index: 163 ms at 1M rows), and
--    (table_name, at DESC, id DESC) for the same pages filtered by table. The BRIN index goes.
-- 3. The history of an opportunity is readable by those who may see the opportunity now (it
--    followed the account the row had when it was changed, so it stayed readable after the
--    deal moved into a hidden account). The read policy asks one function instead of a CASE
--    of sub-queries, which made planning the audit screen's page cost more than running it.
-- 4. An update of a phone or email that leaves contact_id alone now stores contact_id in the
--    entry (old and new, the same value), which is what the read policy follows; without it
--    the entry was hidden from everyone but admins. Existing entries are backfilled.
-- 5. Duplicate checks and name searches: SECURITY DEFINER functions (owned by the owner, fixed
--    search_path, EXECUTE for {{schema}}_user only) that use the trigram and email/phone
--    indexes and return only rows the caller may read, judged by sec_visible_account and
--    sec_visible_contact: the read policies of account and contact written once as views.
--    Those views show everything to whoever may select from them, so nobody but the owner may
--    (tests/security/test_no_leakproof.py checks that no other role holds a privilege on them).

DO $leakproof$
DECLARE
    f regprocedure;
    superuser boolean := (SELECT rolsuper FROM pg_roles WHERE rolname = current_user);
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
             JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                             AND d.deptype = 'e'
             JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_trgm'
             WHERE p.proleakproof
    LOOP
        IF superuser THEN
            EXECUTE format('ALTER FUNCTION %s NOT LEAKPROOF', f);
        ELSE
            RAISE WARNING '% is marked LEAKPROOF and only a superuser can undo it', f
                USING HINT = format('As a superuser of this database run: ALTER FUNCTION %s NOT LEAKPROOF;', f);
        END IF;
    END LOOP;
END
$leakproof$;

SET LOCAL ROLE {{schema}}_owner;
SET LOCAL search_path = {{schema}}, public;

-- ---------------------------------------------------------------------------------------------
-- 2. Newest-first pages of the whole log, and of one table's entries.

CREATE INDEX audit_log_newest_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_table_newest_idx ON audit_log (table_name, at DESC, id DESC);
DROP INDEX audit_log_at_idx;

-- ---------------------------------------------------------------------------------------------
-- 3. "May I see the record of this entry now?", asked as the caller, in one PL/pgSQL function
-- instead of a CASE of sub-queries in the policy:
--   * opportunity: the deal itself, as the caller sees it (0002 followed audit_log.account_id,
--     the account the deal had when it was changed). Agents hold no SELECT on opportunity, so
--     the policy may not name the table (the privilege check would refuse every agent's read
--     of audit_log); a PL/pgSQL statement is planned only when it runs, and this one runs only
--     for roles that read deals.
--   * planning: every sub-query of the old policy brought the policies of its own table, nested
--     (contact -> account -> account_share ...): ~300 plan nodes, 28-60 ms to plan the audit
--     screen's first page on the bench machine, for admins too, whom the first arm already
--     lets through. A function call plans in microseconds and keeps its inner plans for the
--     session; it costs one call per entry examined, and non-admins only ever read entries by
--     one record's index range (history).
CREATE FUNCTION sec_audit_visible(p_table text, p_row_id bigint, p_old jsonb, p_new jsonb)
RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    CASE p_table
    WHEN 'account' THEN
        RETURN EXISTS (SELECT 1 FROM {{schema}}.account x WHERE x.id = p_row_id);
    WHEN 'contact' THEN
        RETURN EXISTS (SELECT 1 FROM {{schema}}.contact x WHERE x.id = p_row_id);
    WHEN 'opportunity' THEN
        IF coalesce({{schema}}.sec_role() IN ('rep', 'manager', 'admin'), false)
           AND has_table_privilege('{{schema}}.opportunity', 'SELECT') THEN
            RETURN EXISTS (SELECT 1 FROM {{schema}}.opportunity x WHERE x.id = p_row_id);
        END IF;
        RETURN false;
    WHEN 'support_case' THEN
        RETURN EXISTS (SELECT 1 FROM {{schema}}.support_case x WHERE x.id = p_row_id);
    WHEN 'activity' THEN
        RETURN EXISTS (SELECT 1 FROM {{schema}}.activity x WHERE x.id = p_row_id);
    WHEN 'campaign' THEN
        RETURN EXISTS (SELECT 1 FROM {{schema}}.campaign x WHERE x.id = p_row_id);
    WHEN 'contact_phone', 'contact_email' THEN
        -- a contact's details follow the contact the entry names (they are replaced on save)
        RETURN EXISTS (SELECT 1 FROM {{schema}}.contact x WHERE x.id =
                       coalesce(p_new ->> 'contact_id', p_old ->> 'contact_id')::bigint);
    ELSE
        RETURN false;
    END CASE;
END
$$;
REVOKE ALL ON FUNCTION sec_audit_visible(text, bigint, jsonb, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sec_audit_visible(text, bigint, jsonb, jsonb) TO {{schema}}_user;

ALTER POLICY read ON audit_log USING (
    (SELECT sec_is_admin())
    OR sec_audit_visible(audit_log.table_name, audit_log.row_id, audit_log.old_values,
                         audit_log.new_values)
);

-- ---------------------------------------------------------------------------------------------
-- 4. The audit trigger: as in 0002, plus contact_id on every phone and email entry.

CREATE OR REPLACE FUNCTION record_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o jsonb;
    n jsonb;
    r jsonb;
    rid bigint;
    aid bigint;
    op text := left(TG_OP, 1);
BEGIN
    IF TG_OP <> 'INSERT' THEN o := to_jsonb(OLD) - 'content'; END IF;
    IF TG_OP <> 'DELETE' THEN n := to_jsonb(NEW) - 'content'; END IF;
    r := coalesce(n, o);
    IF TG_OP = 'UPDATE' THEN
        SELECT jsonb_object_agg(e.key, o -> e.key), jsonb_object_agg(e.key, e.value)
          INTO o, n
          FROM jsonb_each(n) e
         WHERE e.key NOT IN ('updated_at', 'version') AND (o -> e.key) IS DISTINCT FROM e.value;
        IF n IS NULL THEN
            RETURN NULL;  -- nothing but the bookkeeping changed
        END IF;
        -- A contact's details are read through their contact: the entry names it, changed or not.
        IF TG_TABLE_NAME IN ('contact_phone', 'contact_email') AND NOT n ? 'contact_id' THEN
            o := o || jsonb_build_object('contact_id', r -> 'contact_id');
            n := n || jsonb_build_object('contact_id', r -> 'contact_id');
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        n := jsonb_strip_nulls(n);
    ELSE
        o := jsonb_strip_nulls(o);
    END IF;
    rid := coalesce(r ->> 'id', r ->> 'contact_id', r ->> 'account_id', '0')::bigint;
    IF TG_TABLE_NAME = 'sharing_default' THEN
        n := n || jsonb_build_object('object_type', r -> 'object_type');
    END IF;
    IF TG_TABLE_NAME = 'account' THEN
        aid := rid;
    ELSIF r ? 'account_id' THEN
        aid := (r ->> 'account_id')::bigint;
    END IF;
    IF aid IS NULL AND r ? 'contact_id' THEN
        SELECT c.account_id INTO aid FROM {{schema}}.contact c WHERE c.id = (r ->> 'contact_id')::bigint;
    END IF;
    INSERT INTO {{schema}}.audit_log (actor, table_name, row_id, op, old_values, new_values, account_id)
    VALUES (session_user, TG_TABLE_NAME, rid, op, o, n, aid);
    PERFORM pg_notify('{{schema}}', json_build_object('t', TG_TABLE_NAME, 'op', op, 'id', rid,
                                                       'a', aid)::text);
    RETURN NULL;
END
$$;

-- Entries written before this migration: the contact from the row's latest earlier entry that
-- names one (the contact it belonged to then), else from the row itself if it still exists.
WITH missing AS (
    SELECT l.id, coalesce(
        (SELECT coalesce(p.new_values ->> 'contact_id', p.old_values ->> 'contact_id')
           FROM audit_log p
          WHERE p.table_name = l.table_name AND p.row_id = l.row_id AND p.id < l.id
            AND coalesce(p.new_values ->> 'contact_id', p.old_values ->> 'contact_id') IS NOT NULL
          ORDER BY p.id DESC LIMIT 1),
        CASE l.table_name
            WHEN 'contact_phone' THEN (SELECT x.contact_id::text FROM contact_phone x WHERE x.id = l.row_id)
            ELSE (SELECT x.contact_id::text FROM contact_email x WHERE x.id = l.row_id) END
    ) AS contact_id
      FROM audit_log l
     WHERE l.table_name IN ('contact_phone', 'contact_email') AND l.op = 'U'
       AND coalesce(l.new_values ->> 'contact_id', l.old_values ->> 'contact_id') IS NULL
)
UPDATE audit_log l
   SET old_values = coalesce(l.old_values, '{}') || jsonb_build_object('contact_id', m.contact_id::bigint),
       new_values = coalesce(l.new_values, '{}') || jsonb_build_object('contact_id', m.contact_id::bigint)
  FROM missing m
 WHERE l.id = m.id AND m.contact_id IS NOT NULL;

-- ---------------------------------------------------------------------------------------------
-- 5. Visibility first, then the indexes.
--
-- The read policies of account and contact (0002, with the helpers of 0004), for functions
-- that run as the owner. `(SELECT current_app_user_id()) IS NOT NULL`: a login without an
-- active person row of this installation sees nothing, whatever the sharing defaults.
-- A scalar sub-select for "the contact's account is visible", never EXISTS (see 0003).

CREATE VIEW sec_visible_account AS
SELECT a.* FROM account a
 WHERE (SELECT current_app_user_id()) IS NOT NULL AND (
       (SELECT sec_is_admin())
    OR a.owner_id = ANY ((SELECT sec_hier_user_ids())::bigint[])
    OR a.team_id = ANY ((SELECT sec_hier_team_ids())::bigint[])
    OR (a.team_id IS NULL AND (SELECT sec_default_open('account', false)))
    OR a.team_id = ANY ((SELECT sec_open_team_ids('account', false))::bigint[])
    OR EXISTS (SELECT 1 FROM account_share sh
                WHERE sh.account_id = a.id
                  AND (sh.user_id = (SELECT current_app_user_id())
                       OR sh.team_id = ANY ((SELECT sec_member_team_ids())::bigint[]))));

CREATE VIEW sec_visible_contact AS
SELECT c.* FROM contact c
 WHERE (SELECT current_app_user_id()) IS NOT NULL AND (
       (SELECT sec_is_admin())
    OR c.owner_id = ANY ((SELECT sec_hier_user_ids())::bigint[])
    OR c.team_id = ANY ((SELECT sec_hier_team_ids())::bigint[])
    OR (c.account_id IS NOT NULL
        AND coalesce((SELECT true FROM sec_visible_account a WHERE a.id = c.account_id), false))
    OR (c.account_id IS NULL
        AND ((c.team_id IS NULL AND (SELECT sec_default_open('contact', false)))
             OR c.team_id = ANY ((SELECT sec_open_team_ids('contact', false))::bigint[]))));

REVOKE ALL ON sec_visible_account, sec_visible_contact FROM PUBLIC;

-- The threshold of `%` is set for the rest of the caller's transaction (set_config, local): a
-- threshold the caller chose must not make the index miss candidates. A SET clause on the
-- function would scope it better, but a placeholder variable of a library not yet loaded may
-- not be SET by a non-superuser owner.
--
-- Likely duplicates of a contact being entered: same email (any case), same phone (E.164), or
-- a similar name in the same account (among contacts without one when p_account_id is NULL).
-- Best reason first; a row the caller may not read is neither returned nor counted, and the
-- account name only when the caller may read the account.
CREATE FUNCTION contact_duplicates(p_name text, p_emails text[], p_phones text[],
                                   p_account_id bigint, p_exclude_id bigint,
                                   p_threshold real, p_limit integer)
RETURNS TABLE (id bigint, full_name text, account_name text, reason text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, {{schema}}, public, pg_temp AS $$
BEGIN
    PERFORM set_config('pg_trgm.similarity_threshold', greatest(p_threshold, 0.3)::text, true);
    RETURN QUERY
    WITH hits AS (
        SELECT e.contact_id AS cid, 1 AS rank, 'same email' AS why
          FROM contact_email e
         WHERE e.email_key = ANY (ARRAY(SELECT lower(x) FROM unnest(p_emails) x))
        UNION ALL
        SELECT ph.contact_id, 2, 'same phone' FROM contact_phone ph WHERE ph.e164 = ANY (p_phones)
        UNION ALL
        SELECT k.id, 3, 'similar name' FROM contact k
         WHERE p_name <> '' AND k.account_id = p_account_id
           AND similarity(k.full_name, p_name) >= greatest(p_threshold, 0.3)
        UNION ALL
        SELECT k.id, 3, 'similar name' FROM contact k
         WHERE p_name <> '' AND p_account_id IS NULL AND k.account_id IS NULL
           AND k.full_name % p_name
    ), best AS (
        SELECT DISTINCT ON (h.cid) h.cid, h.rank, h.why FROM hits h ORDER BY h.cid, h.rank
    )
    SELECT c.id, c.full_name, a.name, best.why
      FROM best JOIN sec_visible_contact c ON c.id = best.cid
      LEFT JOIN sec_visible_account a ON a.id = c.account_id
     WHERE c.deleted_at IS NULL AND c.id IS DISTINCT FROM p_exclude_id
     ORDER BY best.rank, c.id
     LIMIT least(greatest(p_limit, 0), 100);
END
$$;

-- Live accounts whose name is similar (pg_trgm `%` at p_threshold), most similar first, with
-- the parent's name when the caller may read the parent.
CREATE FUNCTION account_duplicates(p_name text, p_exclude_id bigint, p_threshold real,
                                   p_limit integer)
RETURNS TABLE (id bigint, name text, parent_name text, reason text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, {{schema}}, public, pg_temp AS $$
BEGIN
    PERFORM set_config('pg_trgm.similarity_threshold', greatest(p_threshold, 0.3)::text, true);
    RETURN QUERY
    SELECT a.id, a.name, par.name,
           CASE WHEN lower(a.name) = lower(p_name) THEN 'same name' ELSE 'similar name' END
      FROM sec_visible_account a LEFT JOIN sec_visible_account par ON par.id = a.parent_id
     WHERE a.deleted_at IS NULL AND a.name % p_name AND a.id IS DISTINCT FROM p_exclude_id
     ORDER BY similarity(a.name, p_name) DESC, a.id
     LIMIT least(greatest(p_limit, 0), 100);
END
$$;

-- Name search: ids of the live accounts (any depth) whose name contains p_text (any case),
-- that the caller may read, in name order after the keyset (p_after_name, p_after_id).
CREATE FUNCTION search_account_ids(p_text text, p_after_name text, p_after_id bigint,
                                   p_limit integer)
RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, {{schema}}, public, pg_temp AS $$
    SELECT a.id FROM sec_visible_account a
     WHERE a.deleted_at IS NULL
       AND a.name ILIKE '%' || replace(replace(replace(p_text, '\', '\\'), '%', '\%'), '_', '\_') || '%'
       AND (p_after_id IS NULL OR (lower(a.name), a.id) > (p_after_name, p_after_id))
     ORDER BY lower(a.name), a.id
     LIMIT least(greatest(p_limit, 0), 1000)
$$;

-- Name search: ids of live contacts whose name contains p_text (any case) that the caller may
-- read, contacts of p_near_account first, then by name.
CREATE FUNCTION search_contact_ids(p_text text, p_near_account bigint, p_limit integer)
RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, {{schema}}, public, pg_temp AS $$
    SELECT c.id FROM sec_visible_contact c
     WHERE c.deleted_at IS NULL
       AND c.full_name ILIKE '%' || replace(replace(replace(p_text, '\', '\\'), '%', '\%'), '_', '\_') || '%'
     ORDER BY (c.account_id IS NOT DISTINCT FROM p_near_account) DESC, lower(c.full_name), c.id
     LIMIT least(greatest(p_limit, 0), 1000)
$$;

DO $grants$
DECLARE
    f text;
    trgm text := (SELECT n.nspname FROM pg_extension e
                  JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm');
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'contact_duplicates(text, text[], text[], bigint, bigint, real, integer)',
        'account_duplicates(text, bigint, real, integer)',
        'search_account_ids(text, text, bigint, integer)',
        'search_contact_ids(text, bigint, integer)']
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION {{schema}}.%s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION {{schema}}.%s TO {{schema}}_user', f);
        -- pg_trgm's own schema, wherever it was installed; after pg_catalog, so that nothing
        -- created there can stand in for a built-in.
        EXECUTE format('ALTER FUNCTION {{schema}}.%s SET search_path = pg_catalog, {{schema}}, %I, pg_temp',
                       f, trgm);
    END LOOP;
END
$grants$;
