-- 0002: the security model of DESIGN.md section 4 (docs/security.md explains every part).
--   * object privileges per group role (the matrix in docs/security.md);
--   * row-level security, enabled and FORCED on every table but schema_migrations;
--   * the audit trail and change notices (one AFTER row trigger per table);
--   * the owner-change guard (only managers reassign, within their teams; admins anywhere);
--   * the admin API: SECURITY DEFINER functions in {{schema}}_admin_api, owned by the NOLOGIN
--     CREATEROLE role {{roles}}_useradmin that creates every login.
-- Runs as the installer (superuser, or a role that may create roles and SET ROLE to the owner).

-- ---------------------------------------------------------------------------------------------
-- Roles (as the installer)

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{{roles}}_useradmin') THEN
        -- INHERIT so that pg_signal_backend lets disable_user end the person's sessions.
        CREATE ROLE {{roles}}_useradmin NOLOGIN INHERIT CREATEROLE;
    END IF;
END
$roles$;
-- The user admin hands out exactly the four group roles (ADMIN OPTION; PG16+ needs it too).
GRANT {{roles}}_agent, {{roles}}_rep, {{roles}}_manager, {{roles}}_admin
    TO {{roles}}_useradmin WITH ADMIN OPTION;
GRANT pg_signal_backend TO {{roles}}_useradmin;
GRANT {{roles}}_useradmin TO CURRENT_USER;

CREATE SCHEMA {{schema}}_admin_api AUTHORIZATION {{roles}}_useradmin;
REVOKE ALL ON SCHEMA {{schema}}_admin_api FROM PUBLIC;
GRANT USAGE ON SCHEMA {{schema}}_admin_api TO {{roles}}_admin;

SET LOCAL ROLE {{roles}}_owner;
SET LOCAL search_path = {{schema}}, public;

-- Per-team sharing override (BENCHMARKS.md "private sharing on for half the teams"): records
-- whose team_id is this team use this access level instead of the organisation-wide default.
ALTER TABLE team ADD COLUMN sharing text
    CHECK (sharing IN ('public_read_write', 'public_read', 'private'));
CREATE INDEX account_share_account_idx ON account_share (account_id);
CREATE INDEX team_manager_idx ON team (manager_id);

-- ---------------------------------------------------------------------------------------------
-- Policy helpers. SECURITY DEFINER (owned by the owner, which the owner_all policies let read
-- everything), STABLE, fixed search_path. Policies call them wrapped as (SELECT fn()) so each
-- runs once per query as an InitPlan, never once per row.

CREATE FUNCTION sec_is_admin() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM {{schema}}.app_user
                   WHERE username = session_user::text AND active AND role = 'admin')
$$;

CREATE FUNCTION sec_role() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT role FROM {{schema}}.app_user WHERE username = session_user::text AND active
$$;

-- Teams the person manages, with all their sub-teams.
CREATE FUNCTION sec_hier_team_ids() RETURNS bigint[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE t(id) AS (
        SELECT tm.id FROM {{schema}}.team tm
        WHERE tm.manager_id = {{schema}}.current_app_user_id() AND tm.deleted_at IS NULL
        UNION
        SELECT c.id FROM {{schema}}.team c JOIN t ON c.parent_id = t.id WHERE c.deleted_at IS NULL
    )
    SELECT coalesce(array_agg(id), '{}') FROM t
$$;

-- The person and everyone in the teams they manage (and sub-teams).
CREATE FUNCTION sec_hier_user_ids() RETURNS bigint[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(array_agg(DISTINCT u.id), '{}')
    FROM {{schema}}.app_user u
    WHERE u.id = {{schema}}.current_app_user_id()
       OR u.team_id = ANY ({{schema}}.sec_hier_team_ids())
$$;

-- The person's own team plus the teams they manage: team shares and team_id on new rows.
CREATE FUNCTION sec_member_team_ids() RETURNS bigint[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(array_agg(DISTINCT x), '{}') FROM (
        SELECT team_id AS x FROM {{schema}}.app_user
        WHERE username = session_user::text AND active AND team_id IS NOT NULL
        UNION ALL
        SELECT unnest({{schema}}.sec_hier_team_ids())
    ) s
$$;

-- Is the organisation-wide default of `object_type` open for reading (or writing)?
CREATE FUNCTION sec_default_open(object_type text, for_write boolean) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT CASE WHEN for_write THEN d.access = 'public_read_write'
                                 ELSE d.access <> 'private' END
                     FROM {{schema}}.sharing_default d WHERE d.object_type = $1), false)
$$;

-- Teams whose effective access (override, else default) is open for reading (or writing).
CREATE FUNCTION sec_open_team_ids(object_type text, for_write boolean) RETURNS bigint[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(array_agg(t.id), '{}')
    FROM {{schema}}.team t
    LEFT JOIN {{schema}}.sharing_default d ON d.object_type = $1
    WHERE CASE WHEN for_write THEN coalesce(t.sharing, d.access) = 'public_read_write'
               ELSE coalesce(t.sharing, d.access, 'private') <> 'private' END
$$;

DO $grant_helpers$
DECLARE f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['sec_is_admin()', 'sec_role()', 'sec_hier_team_ids()',
                             'sec_hier_user_ids()', 'sec_member_team_ids()',
                             'sec_default_open(text, boolean)',
                             'sec_open_team_ids(text, boolean)']
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION {{schema}}.%s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION {{schema}}.%s TO {{roles}}_user', f);
    END LOOP;
END
$grant_helpers$;

-- ---------------------------------------------------------------------------------------------
-- Object privileges (docs/security.md has the matrix). Baseline from 0001: {{roles}}_user may
-- SELECT every table except audit_log. Opportunities are not for agents at all.

REVOKE SELECT ON opportunity FROM {{roles}}_user;
GRANT SELECT ON opportunity TO {{roles}}_rep, {{roles}}_manager, {{roles}}_admin;
GRANT SELECT ON audit_log TO {{roles}}_user;  -- RLS: admins all, others rows they can see

DO $privileges$
DECLARE
    t text;
    cols text;
    -- Tables people work in; owner_id/team_id are left out of plain UPDATE (reassigning).
    work_tables text[] := ARRAY['account', 'contact', 'contact_relationship', 'opportunity',
                                'support_case', 'activity', 'document', 'saved_view',
                                'campaign_member'];
BEGIN
    FOREACH t IN ARRAY work_tables || ARRAY['campaign'] LOOP
        SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) INTO cols
        FROM information_schema.columns
        WHERE table_schema = '{{schema}}' AND table_name = t
          AND column_name NOT IN ('id', 'owner_id', 'team_id', 'created_at', 'updated_at',
                                  'version', 'full_name')
          AND is_generated = 'NEVER';
        IF t <> 'campaign' THEN
            EXECUTE format('GRANT INSERT, UPDATE (%s) ON {{schema}}.%I TO {{roles}}_rep', cols, t);
            EXECUTE format('GRANT INSERT, UPDATE ON {{schema}}.%I TO {{roles}}_manager', t);
        ELSE
            EXECUTE format('GRANT INSERT, UPDATE ON {{schema}}.%I TO {{roles}}_manager', t);
        END IF;
        -- Agents: activities and cases, and correcting contact details.
        IF t IN ('activity', 'support_case') THEN
            EXECUTE format('GRANT INSERT, UPDATE (%s) ON {{schema}}.%I TO {{roles}}_agent', cols, t);
        ELSIF t = 'contact' THEN
            EXECUTE format('GRANT UPDATE (%s) ON {{schema}}.%I TO {{roles}}_agent', cols, t);
        END IF;
    END LOOP;
    -- Link and detail tables without owner columns.
    GRANT INSERT, UPDATE, DELETE ON contact_phone, contact_email
        TO {{roles}}_agent, {{roles}}_rep, {{roles}}_manager;
    GRANT INSERT, DELETE ON contact_tag, account_tag TO {{roles}}_rep, {{roles}}_manager;
    GRANT INSERT ON tag TO {{roles}}_rep, {{roles}}_manager;
    GRANT DELETE ON saved_view TO {{roles}}_agent, {{roles}}_rep, {{roles}}_manager;
    GRANT INSERT, UPDATE ON saved_view TO {{roles}}_agent;
    -- Admins: everything people do, purge (DELETE), settings, teams and sharing. Users only
    -- through the admin API (no direct writes to app_user for anyone).
    FOREACH t IN ARRAY work_tables || ARRAY['campaign', 'contact_phone', 'contact_email',
        'contact_tag', 'account_tag', 'tag', 'pipeline', 'stage', 'custom_field',
        'glossary_term', 'relationship_type', 'team', 'sharing_default', 'account_share'] LOOP
        EXECUTE format('GRANT INSERT, UPDATE, DELETE ON {{schema}}.%I TO {{roles}}_admin', t);
    END LOOP;
END
$privileges$;

-- ---------------------------------------------------------------------------------------------
-- Row-level security. The predicates are built once here as text so every policy that
-- follows an account uses the same rule.

DO $rls$
DECLARE
    s text := '{{schema}}';
    t text;
    core text;      -- admin, the owner (or their manager), records of managed teams
    acc_read text;  -- account visible, for alias %1$s
    acc_write text; -- account writable
    con_read text;
    con_write text;
    ins_check text;
BEGIN
    -- Every table but schema_migrations: RLS on and forced, and the owner sees everything
    -- (the owner is NOLOGIN; this is what its SECURITY DEFINER helpers and triggers need).
    FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = s AND c.relkind = 'r' AND c.relname <> 'schema_migrations'
    LOOP
        EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', s, t);
        EXECUTE format('ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY', s, t);
        EXECUTE format('CREATE POLICY owner_all ON %I.%I TO %I USING (true) WITH CHECK (true)',
                       s, t, '{{roles}}_owner');
    END LOOP;

    -- Reference and settings tables: everybody reads; object privileges decide who writes.
    FOREACH t IN ARRAY ARRAY['team', 'app_user', 'relationship_type', 'pipeline', 'stage', 'tag',
                             'custom_field', 'glossary_term', 'sharing_default'] LOOP
        EXECUTE format('CREATE POLICY everyone ON %I.%I TO %I USING (true) WITH CHECK (true)',
                       s, t, '{{roles}}_user');
    END LOOP;
    EXECUTE format('CREATE POLICY user_admin ON %I.app_user TO %I USING (true) WITH CHECK (true)',
                   s, '{{roles}}_useradmin');

    core := '((SELECT %2$s.sec_is_admin()) OR %1$s.owner_id = ANY ((SELECT %2$s.sec_hier_user_ids())::bigint[])'
         || ' OR %1$s.team_id = ANY ((SELECT %2$s.sec_hier_team_ids())::bigint[]))';
    -- Effective default of the record's team (override) or the organisation.
    acc_read := '(' || core
        || ' OR (%1$s.team_id IS NULL AND (SELECT %2$s.sec_default_open(''account'', false)))'
        || ' OR %1$s.team_id = ANY ((SELECT %2$s.sec_open_team_ids(''account'', false))::bigint[])'
        || ' OR EXISTS (SELECT 1 FROM %2$s.account_share sh WHERE sh.account_id = %1$s.id))';
    acc_write := '(' || core
        || ' OR (%1$s.team_id IS NULL AND (SELECT %2$s.sec_default_open(''account'', true)))'
        || ' OR %1$s.team_id = ANY ((SELECT %2$s.sec_open_team_ids(''account'', true))::bigint[])'
        || ' OR EXISTS (SELECT 1 FROM %2$s.account_share sh WHERE sh.account_id = %1$s.id'
        || ' AND sh.access = ''write''))';

    -- account_share: admins, and the person or team a share is for (RLS on it is what makes
    -- the EXISTS above mean "shared with me").
    EXECUTE format('CREATE POLICY shares ON %1$I.account_share TO %2$I USING ((SELECT %1$I.sec_is_admin())'
        || ' OR user_id = (SELECT %1$I.current_app_user_id())'
        || ' OR team_id = ANY ((SELECT %1$I.sec_member_team_ids())::bigint[])) WITH CHECK ((SELECT %1$I.sec_is_admin()))',
        s, '{{roles}}_user');

    -- New rows: owned by the person (or, for managers and admins, by someone in their teams),
    -- in one of their teams or none.
    ins_check := '((SELECT %2$s.sec_is_admin()) OR (%1$s.owner_id = ANY ((SELECT %2$s.sec_hier_user_ids())::bigint[])'
        || ' AND (%1$s.team_id IS NULL OR %1$s.team_id = ANY ((SELECT %2$s.sec_member_team_ids())::bigint[]))))';

    -- account
    EXECUTE format('CREATE POLICY read ON %2$s.account FOR SELECT TO %3$I USING ' || acc_read,
                   'account', s, '{{roles}}_user');
    EXECUTE format('CREATE POLICY add ON %2$s.account FOR INSERT TO %3$I WITH CHECK ' || ins_check,
                   'account', s, '{{roles}}_user');
    EXECUTE format('CREATE POLICY change ON %2$s.account FOR UPDATE TO %3$I USING ' || acc_write
                   || ' WITH CHECK ' || acc_write, 'account', s, '{{roles}}_user');
    EXECUTE format('CREATE POLICY purge ON %2$s.account FOR DELETE TO %3$I USING ' || acc_write,
                   'account', s, '{{roles}}_user');

    -- Records that follow their account (or their own owner when they have none).
    FOREACH t IN ARRAY ARRAY['contact', 'opportunity', 'support_case', 'campaign', 'document']
    LOOP
        DECLARE
            own_team text := CASE WHEN t = 'document' THEN 'false'
                ELSE format('(%1$s.team_id IS NULL AND (SELECT %2$s.sec_default_open(%3$L, %%s)))'
                         || ' OR %1$s.team_id = ANY ((SELECT %2$s.sec_open_team_ids(%3$L, %%s))::bigint[])',
                            t, s, t) END;
            r text;
            w text;
            c text := replace(core, '%1$s', t);
            parent_r text := 'false';
            parent_w text := 'false';
        BEGIN
            IF t = 'document' THEN
                c := format('((SELECT %1$s.sec_is_admin()) OR %2$s.owner_id = ANY ((SELECT %1$s.sec_hier_user_ids())::bigint[]))', s, t);
            END IF;
            c := replace(c, '%2$s', s);
            IF t <> 'campaign' THEN
                parent_r := format('(%1$s.account_id IS NOT NULL AND EXISTS (SELECT 1 FROM %2$s.account a WHERE a.id = %1$s.account_id))', t, s);
                parent_w := format('(%1$s.account_id IS NOT NULL AND EXISTS (SELECT 1 FROM %2$s.account a WHERE a.id = %1$s.account_id AND %3$s))',
                                   t, s, format(acc_write, 'a', s));
            END IF;
            IF t = 'support_case' THEN
                c := '(' || c || format(' OR %s.assignee_id = (SELECT %s.current_app_user_id()))', t, s);
                parent_r := '(' || parent_r || format(' OR (%1$s.account_id IS NULL AND EXISTS (SELECT 1 FROM %2$s.contact k WHERE k.id = %1$s.contact_id)))', t, s);
            END IF;
            r := format('(%s OR %s OR (%s%s))', c, parent_r,
                        CASE WHEN t = 'campaign' THEN '' ELSE t || '.account_id IS NULL AND ' END,
                        CASE WHEN t = 'document' THEN 'false' ELSE format(own_team, 'false', 'false') END);
            IF t = 'support_case' THEN
                -- a case without an account follows its contact
                r := format('(%s OR %s OR (support_case.account_id IS NULL AND support_case.contact_id IS NULL AND %s))',
                            c, parent_r, format(own_team, 'false', 'false'));
            END IF;
            w := format('(%s OR %s OR (%s%s))', c, parent_w,
                        CASE WHEN t = 'campaign' THEN '' ELSE t || '.account_id IS NULL AND ' END,
                        CASE WHEN t = 'document' THEN 'false' ELSE format(own_team, 'true', 'true') END);
            EXECUTE format('CREATE POLICY read ON %s.%I FOR SELECT TO %I USING %s', s, t, '{{roles}}_user', r);
            EXECUTE format('CREATE POLICY add ON %s.%I FOR INSERT TO %I WITH CHECK (%s AND (%s))',
                           s, t, '{{roles}}_user',
                           CASE WHEN t = 'document' THEN format('((SELECT %1$s.sec_is_admin()) OR document.owner_id = ANY ((SELECT %1$s.sec_hier_user_ids())::bigint[]))', s)
                                ELSE format(ins_check, t, s) END,
                           CASE WHEN t = 'campaign' THEN 'true'
                                ELSE format('%1$s.account_id IS NULL OR EXISTS (SELECT 1 FROM %2$s.account a WHERE a.id = %1$s.account_id)', t, s) END);
            EXECUTE format('CREATE POLICY change ON %s.%I FOR UPDATE TO %I USING %s WITH CHECK %s',
                           s, t, '{{roles}}_user', w, w);
            EXECUTE format('CREATE POLICY purge ON %s.%I FOR DELETE TO %I USING %s', s, t, '{{roles}}_user', w);
            IF t = 'contact' THEN
                con_read := format('(EXISTS (SELECT 1 FROM %s.contact k WHERE k.id = %%1$s))', s);
                con_write := format('(EXISTS (SELECT 1 FROM %s.contact k WHERE k.id = %%1$s AND %s))',
                                    s, replace(w, 'contact.', 'k.'));
            END IF;
        END;
    END LOOP;

    -- activity: author (or their manager), assignee, else its account, contact, deal or case.
    DECLARE
        c text := format('((SELECT %1$s.sec_is_admin()) OR activity.author_id = ANY ((SELECT %1$s.sec_hier_user_ids())::bigint[])'
                         || ' OR activity.assignee_id = (SELECT %1$s.current_app_user_id()))', s);
        r text;
        w text;
    BEGIN
        r := format('(%2$s OR (activity.account_id IS NOT NULL AND EXISTS (SELECT 1 FROM %1$s.account a WHERE a.id = activity.account_id))'
            || ' OR (activity.account_id IS NULL AND activity.contact_id IS NOT NULL AND %3$s)'
            || ' OR (activity.account_id IS NULL AND activity.contact_id IS NULL AND (SELECT %1$s.sec_default_open(''activity'', false))))',
            s, c, format(con_read, 'activity.contact_id'));
        w := format('(%2$s OR (activity.account_id IS NOT NULL AND EXISTS (SELECT 1 FROM %1$s.account a WHERE a.id = activity.account_id AND %4$s))'
            || ' OR (activity.account_id IS NULL AND activity.contact_id IS NOT NULL AND %3$s)'
            || ' OR (activity.account_id IS NULL AND activity.contact_id IS NULL AND (SELECT %1$s.sec_default_open(''activity'', true))))',
            s, c, format(con_write, 'activity.contact_id'), format(acc_write, 'a', s));
        EXECUTE format('CREATE POLICY read ON %s.activity FOR SELECT TO %I USING %s', s, '{{roles}}_user', r);
        EXECUTE format('CREATE POLICY add ON %1$s.activity FOR INSERT TO %2$I WITH CHECK (((SELECT %1$s.sec_is_admin()) OR activity.author_id = ANY ((SELECT %1$s.sec_hier_user_ids())::bigint[]))'
            || ' AND (activity.account_id IS NULL OR EXISTS (SELECT 1 FROM %1$s.account a WHERE a.id = activity.account_id))'
            || ' AND (activity.contact_id IS NULL OR %3$s))', s, '{{roles}}_user', format(con_read, 'activity.contact_id'));
        EXECUTE format('CREATE POLICY change ON %s.activity FOR UPDATE TO %I USING %s WITH CHECK %s', s, '{{roles}}_user', w, w);
        EXECUTE format('CREATE POLICY purge ON %s.activity FOR DELETE TO %I USING %s', s, '{{roles}}_user', w);
    END;

    -- Details of a contact follow the contact.
    FOREACH t IN ARRAY ARRAY['contact_phone', 'contact_email', 'contact_tag', 'campaign_member'] LOOP
        EXECUTE format('CREATE POLICY read ON %s.%I FOR SELECT TO %I USING %s',
                       s, t, '{{roles}}_user', format(con_read, t || '.contact_id'));
        EXECUTE format('CREATE POLICY write ON %s.%I FOR ALL TO %I USING %s WITH CHECK %s',
                       s, t, '{{roles}}_user', format(con_write, t || '.contact_id'),
                       format(con_write, t || '.contact_id'));
    END LOOP;
    EXECUTE format('CREATE POLICY read ON %s.contact_relationship FOR SELECT TO %I USING (%s AND %s)',
                   s, '{{roles}}_user', format(con_read, 'contact_relationship.from_contact_id'),
                   format(con_read, 'contact_relationship.to_contact_id'));
    EXECUTE format('CREATE POLICY write ON %s.contact_relationship FOR ALL TO %I USING (%s AND %s) WITH CHECK (%s AND %s)',
                   s, '{{roles}}_user', format(con_write, 'contact_relationship.from_contact_id'),
                   format(con_read, 'contact_relationship.to_contact_id'),
                   format(con_write, 'contact_relationship.from_contact_id'),
                   format(con_read, 'contact_relationship.to_contact_id'));
    EXECUTE format('CREATE POLICY read ON %1$s.account_tag FOR SELECT TO %2$I USING (EXISTS (SELECT 1 FROM %1$s.account a WHERE a.id = account_tag.account_id))',
                   s, '{{roles}}_user');
    EXECUTE format('CREATE POLICY write ON %1$s.account_tag FOR ALL TO %2$I USING (EXISTS (SELECT 1 FROM %1$s.account a WHERE a.id = account_tag.account_id AND %3$s)) WITH CHECK (EXISTS (SELECT 1 FROM %1$s.account a WHERE a.id = account_tag.account_id AND %3$s))',
                   s, '{{roles}}_user', format(acc_write, 'a', s));

    -- saved views: one's own, and the shared ones.
    EXECUTE format('CREATE POLICY read ON %1$s.saved_view FOR SELECT TO %2$I USING (shared OR owner_id = (SELECT %1$s.current_app_user_id()) OR (SELECT %1$s.sec_is_admin()))', s, '{{roles}}_user');
    EXECUTE format('CREATE POLICY write ON %1$s.saved_view FOR ALL TO %2$I USING (owner_id = (SELECT %1$s.current_app_user_id()) OR (SELECT %1$s.sec_is_admin())) WITH CHECK (owner_id = (SELECT %1$s.current_app_user_id()) OR (SELECT %1$s.sec_is_admin()))', s, '{{roles}}_user');

    -- audit_log: admins read all of it; others the history of rows they can see now.
    EXECUTE format($p$CREATE POLICY read ON %1$s.audit_log FOR SELECT TO %2$I USING (
        (SELECT %1$s.sec_is_admin()) OR CASE audit_log.table_name
            WHEN 'account' THEN EXISTS (SELECT 1 FROM %1$s.account x WHERE x.id = audit_log.row_id)
            WHEN 'contact' THEN EXISTS (SELECT 1 FROM %1$s.contact x WHERE x.id = audit_log.row_id)
            -- not the opportunity table itself: agents may not even name it
            WHEN 'opportunity' THEN (SELECT %1$s.sec_role()) <> 'agent' AND audit_log.account_id IS NOT NULL
                 AND EXISTS (SELECT 1 FROM %1$s.account x WHERE x.id = audit_log.account_id)
            WHEN 'support_case' THEN EXISTS (SELECT 1 FROM %1$s.support_case x WHERE x.id = audit_log.row_id)
            WHEN 'activity' THEN EXISTS (SELECT 1 FROM %1$s.activity x WHERE x.id = audit_log.row_id)
            WHEN 'campaign' THEN EXISTS (SELECT 1 FROM %1$s.campaign x WHERE x.id = audit_log.row_id)
            WHEN 'contact_phone' THEN EXISTS (SELECT 1 FROM %1$s.contact_phone x WHERE x.id = audit_log.row_id)
            WHEN 'contact_email' THEN EXISTS (SELECT 1 FROM %1$s.contact_email x WHERE x.id = audit_log.row_id)
            ELSE false END)$p$, s, '{{roles}}_user');
END
$rls$;

-- Opportunities are invisible to agents even through policies that follow them.
-- (They hold no SELECT privilege; the policy is for the roles that do.)

-- ---------------------------------------------------------------------------------------------
-- Only managers reassign (owner or team), within their teams; admins anywhere; the installer
-- (a member of the owner role) when loading data.

CREATE FUNCTION guard_reassign() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o jsonb := to_jsonb(OLD);
    n jsonb := to_jsonb(NEW);
BEGIN
    IF (o->'owner_id') IS NOT DISTINCT FROM (n->'owner_id')
       AND (o->'team_id') IS NOT DISTINCT FROM (n->'team_id') THEN
        RETURN NEW;
    END IF;
    IF pg_has_role(session_user, '{{roles}}_owner', 'MEMBER') OR {{schema}}.sec_is_admin() THEN
        RETURN NEW;
    END IF;
    IF {{schema}}.sec_role() IS DISTINCT FROM 'manager' THEN
        RAISE EXCEPTION 'only a manager or an admin may reassign a record'
            USING ERRCODE = '42501', COLUMN = 'owner_id';
    END IF;
    IF (n->>'owner_id') IS NOT NULL
       AND NOT (n->>'owner_id')::bigint = ANY ({{schema}}.sec_hier_user_ids()) THEN
        RAISE EXCEPTION 'a manager may reassign only to people in their teams'
            USING ERRCODE = '42501', COLUMN = 'owner_id';
    END IF;
    IF (n->>'team_id') IS NOT NULL
       AND NOT (n->>'team_id')::bigint = ANY ({{schema}}.sec_member_team_ids()) THEN
        RAISE EXCEPTION 'a manager may move records only into their own teams'
            USING ERRCODE = '42501', COLUMN = 'team_id';
    END IF;
    RETURN NEW;
END
$$;

DO $guards$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['account', 'contact', 'opportunity', 'support_case', 'campaign',
                             'document', 'saved_view'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON {{schema}}.%I FOR EACH ROW '
                       'EXECUTE FUNCTION {{schema}}.guard_reassign()', t || '_reassign', t);
    END LOOP;
END
$guards$;

-- ---------------------------------------------------------------------------------------------
-- Audit trail and change notices: one AFTER row trigger per table. Writes who (session_user:
-- correct inside SECURITY DEFINER), when, txid, table, row id, operation, the changed fields
-- only (old and new), and the account the row belongs to; then a notice carrying no data.

CREATE FUNCTION record_change() RETURNS trigger
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
REVOKE ALL ON FUNCTION record_change() FROM PUBLIC;

DO $audit$
DECLARE t text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = '{{schema}}' AND c.relkind = 'r'
               AND c.relname NOT IN ('schema_migrations', 'audit_log')
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON {{schema}}.%I '
                       'FOR EACH ROW EXECUTE FUNCTION {{schema}}.record_change()', t || '_audit', t);
    END LOOP;
END
$audit$;

-- ---------------------------------------------------------------------------------------------
-- The admin API: owned by {{roles}}_useradmin (CREATEROLE, NOLOGIN), which creates every
-- login and therefore manages them on PostgreSQL 16+ too. EXECUTE for {{roles}}_admin only.

RESET ROLE;
GRANT SELECT, INSERT, UPDATE ON {{schema}}.app_user TO {{roles}}_useradmin;
GRANT SELECT ON {{schema}}.team TO {{roles}}_useradmin;
GRANT INSERT ON {{schema}}.audit_log TO {{roles}}_useradmin;
CREATE POLICY user_admin ON {{schema}}.audit_log FOR INSERT TO {{roles}}_useradmin WITH CHECK (true);
GRANT USAGE ON SCHEMA {{schema}} TO {{roles}}_useradmin;
SET LOCAL ROLE {{roles}}_useradmin;

-- The person a function may act on: an app_user of this schema, never a superuser or group.
CREATE FUNCTION {{schema}}_admin_api.target(p_username text) RETURNS {{schema}}.app_user
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE u {{schema}}.app_user;
BEGIN
    SELECT * INTO u FROM {{schema}}.app_user WHERE username = p_username;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such person: %', p_username USING ERRCODE = 'P0002', COLUMN = 'username';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = p_username AND (rolsuper OR rolbypassrls)) THEN
        RAISE EXCEPTION '% is a superuser: manage that login with psql', p_username
            USING ERRCODE = '42501', COLUMN = 'username';
    END IF;
    RETURN u;
END
$$;

CREATE FUNCTION {{schema}}_admin_api.check_caller() RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT (pg_catalog.pg_has_role(session_user, '{{roles}}_admin', 'MEMBER')
            OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = session_user AND rolsuper)) THEN
        RAISE EXCEPTION 'only an admin may manage people' USING ERRCODE = '42501';
    END IF;
END
$$;

CREATE FUNCTION {{schema}}_admin_api.check_verifier(p_verifier text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_verifier IS NOT NULL AND p_verifier !~ '^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' THEN
        RAISE EXCEPTION 'must be a SCRAM-SHA-256 verifier made on the client, never a plain password'
            USING ERRCODE = '22023', COLUMN = 'password';
    END IF;
END
$$;

CREATE FUNCTION {{schema}}_admin_api.check_role(p_role text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_role IS NULL OR p_role NOT IN ('agent', 'rep', 'manager', 'admin') THEN
        RAISE EXCEPTION 'must be one of agent, rep, manager, admin' USING ERRCODE = '22023', COLUMN = 'role';
    END IF;
END
$$;

CREATE FUNCTION {{schema}}_admin_api.check_team(p_team_id bigint) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_team_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM {{schema}}.team WHERE id = p_team_id AND deleted_at IS NULL) THEN
        RAISE EXCEPTION 'no such team' USING ERRCODE = '22023', COLUMN = 'team';
    END IF;
END
$$;

-- Would this leave the organisation without an active admin?
CREATE FUNCTION {{schema}}_admin_api.check_not_last_admin(p_username text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM {{schema}}.app_user WHERE username = p_username AND role = 'admin' AND active)
       AND NOT EXISTS (SELECT 1 FROM {{schema}}.app_user
                       WHERE username <> p_username AND role = 'admin' AND active) THEN
        RAISE EXCEPTION '% is the last active admin', p_username
            USING ERRCODE = '42501', COLUMN = 'role';
    END IF;
END
$$;

CREATE FUNCTION {{schema}}_admin_api.create_user(
    p_username text, p_display_name text, p_role text, p_team_id bigint, p_email text,
    p_password_verifier text
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE new_id bigint;
BEGIN
    PERFORM {{schema}}_admin_api.check_caller();
    IF p_username IS NULL OR p_username !~ '^[a-z_][a-z0-9_.-]{0,62}$' THEN
        RAISE EXCEPTION 'use 1 to 63 lower-case letters, digits, ''_'', ''.'' or ''-'', starting with a letter'
            USING ERRCODE = '22023', COLUMN = 'username';
    END IF;
    IF p_username LIKE 'pg\_%' OR p_username LIKE '{{roles}}\_%' THEN
        RAISE EXCEPTION 'names starting with pg_ or {{roles}}_ are reserved'
            USING ERRCODE = '22023', COLUMN = 'username';
    END IF;
    IF p_display_name IS NULL OR length(btrim(p_display_name)) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'give a name of 1 to 200 characters' USING ERRCODE = '22023', COLUMN = 'display_name';
    END IF;
    IF p_email IS NOT NULL AND (length(p_email) > 320 OR p_email !~ '^[^@\s]+@[^@\s]+$') THEN
        RAISE EXCEPTION 'not an email address' USING ERRCODE = '22023', COLUMN = 'email';
    END IF;
    PERFORM {{schema}}_admin_api.check_role(p_role);
    PERFORM {{schema}}_admin_api.check_team(p_team_id);
    PERFORM {{schema}}_admin_api.check_verifier(p_password_verifier);
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = p_username)
       OR EXISTS (SELECT 1 FROM {{schema}}.app_user WHERE username = p_username) THEN
        RAISE EXCEPTION 'the name % is taken', p_username USING ERRCODE = '23505', COLUMN = 'username';
    END IF;
    EXECUTE format('CREATE ROLE %I LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE '
                   'NOREPLICATION NOBYPASSRLS', p_username);
    IF p_password_verifier IS NOT NULL THEN
        EXECUTE format('ALTER ROLE %I PASSWORD %L', p_username, p_password_verifier);
    END IF;
    EXECUTE format('GRANT %I TO %I', '{{roles}}_' || p_role, p_username);
    INSERT INTO {{schema}}.app_user (username, display_name, email, team_id, role)
    VALUES (p_username, btrim(p_display_name), p_email, p_team_id, p_role)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

CREATE FUNCTION {{schema}}_admin_api.update_user(p_username text, p_display_name text, p_email text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM {{schema}}_admin_api.check_caller();
    PERFORM {{schema}}_admin_api.target(p_username);
    IF p_display_name IS NULL OR length(btrim(p_display_name)) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'give a name of 1 to 200 characters' USING ERRCODE = '22023', COLUMN = 'display_name';
    END IF;
    IF p_email IS NOT NULL AND (length(p_email) > 320 OR p_email !~ '^[^@\s]+@[^@\s]+$') THEN
        RAISE EXCEPTION 'not an email address' USING ERRCODE = '22023', COLUMN = 'email';
    END IF;
    UPDATE {{schema}}.app_user SET display_name = btrim(p_display_name), email = p_email
    WHERE username = p_username;
END
$$;

CREATE FUNCTION {{schema}}_admin_api.disable_user(p_username text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM {{schema}}_admin_api.check_caller();
    PERFORM {{schema}}_admin_api.target(p_username);
    IF p_username = session_user::text THEN
        RAISE EXCEPTION 'you cannot disable yourself' USING ERRCODE = '42501', COLUMN = 'username';
    END IF;
    PERFORM {{schema}}_admin_api.check_not_last_admin(p_username);
    EXECUTE format('ALTER ROLE %I NOLOGIN', p_username);
    UPDATE {{schema}}.app_user SET active = false WHERE username = p_username;
    PERFORM pg_catalog.pg_terminate_backend(a.pid) FROM pg_catalog.pg_stat_activity a
    WHERE a.usename = p_username AND a.pid <> pg_catalog.pg_backend_pid();
END
$$;

CREATE FUNCTION {{schema}}_admin_api.enable_user(p_username text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM {{schema}}_admin_api.check_caller();
    PERFORM {{schema}}_admin_api.target(p_username);
    EXECUTE format('ALTER ROLE %I LOGIN', p_username);
    UPDATE {{schema}}.app_user SET active = true WHERE username = p_username;
END
$$;

CREATE FUNCTION {{schema}}_admin_api.set_password(p_username text, p_password_verifier text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM {{schema}}_admin_api.check_caller();
    PERFORM {{schema}}_admin_api.target(p_username);
    IF p_password_verifier IS NULL THEN
        RAISE EXCEPTION 'give a password' USING ERRCODE = '22023', COLUMN = 'password';
    END IF;
    PERFORM {{schema}}_admin_api.check_verifier(p_password_verifier);
    EXECUTE format('ALTER ROLE %I PASSWORD %L', p_username, p_password_verifier);
    -- The change itself is audited (never the verifier).
    UPDATE {{schema}}.app_user SET updated_at = now() WHERE username = p_username;
    INSERT INTO {{schema}}.audit_log (actor, table_name, row_id, op, new_values)
    SELECT session_user, 'app_user', id, 'U', '{"password": "reset"}'::jsonb
    FROM {{schema}}.app_user WHERE username = p_username;
END
$$;

CREATE FUNCTION {{schema}}_admin_api.set_role(p_username text, p_role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE r text;
BEGIN
    PERFORM {{schema}}_admin_api.check_caller();
    PERFORM {{schema}}_admin_api.target(p_username);
    PERFORM {{schema}}_admin_api.check_role(p_role);
    IF p_role <> 'admin' THEN
        PERFORM {{schema}}_admin_api.check_not_last_admin(p_username);
    END IF;
    FOREACH r IN ARRAY ARRAY['agent', 'rep', 'manager', 'admin'] LOOP
        IF r <> p_role AND pg_catalog.pg_has_role(p_username, '{{roles}}_' || r, 'MEMBER') THEN
            EXECUTE format('REVOKE %I FROM %I', '{{roles}}_' || r, p_username);
        END IF;
    END LOOP;
    EXECUTE format('GRANT %I TO %I', '{{roles}}_' || p_role, p_username);
    UPDATE {{schema}}.app_user SET role = p_role WHERE username = p_username;
END
$$;

CREATE FUNCTION {{schema}}_admin_api.set_team(p_username text, p_team_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM {{schema}}_admin_api.check_caller();
    PERFORM {{schema}}_admin_api.target(p_username);
    PERFORM {{schema}}_admin_api.check_team(p_team_id);
    UPDATE {{schema}}.app_user SET team_id = p_team_id WHERE username = p_username;
END
$$;

RESET ROLE;
DO $api$
DECLARE f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = '{{schema}}_admin_api'
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, '{{roles}}_admin');
    END LOOP;
END
$api$;
