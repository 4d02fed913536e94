-- 0004: the policy helpers in PL/pgSQL, so that a query pays microseconds for them, not
-- milliseconds. Same rules, same owner, same grants; only the language changes.
--
-- A SQL-language function that cannot be inlined (these are SECURITY DEFINER with a fixed
-- search_path, so none is) has its body parsed and planned again in every query that calls it.
-- A policy calls them as InitPlans, once per policy instance, but a timeline query holds a
-- dozen policy instances (activity -> account -> account_share, contact -> account, ...) and
-- sec_hier_user_ids() plans three nested functions each time: ~0.5 ms a call, ~5 ms of the
-- newest-50 timeline page of a contact (B5). PL/pgSQL keeps its plans for the session, so the
-- calls cost a few microseconds each after the first. Measured in docs/performance.md.

SET LOCAL ROLE {{roles}}_owner;
SET LOCAL search_path = {{schema}}, public;

CREATE OR REPLACE FUNCTION current_app_user_id() RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {{schema}}, pg_temp AS $$
BEGIN
    RETURN (SELECT id FROM app_user WHERE username = session_user::text AND active);
END
$$;

CREATE OR REPLACE FUNCTION sec_is_admin() RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM {{schema}}.app_user
                   WHERE username = session_user::text AND active AND role = 'admin');
END
$$;

CREATE OR REPLACE FUNCTION sec_role() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN (SELECT role FROM {{schema}}.app_user WHERE username = session_user::text AND active);
END
$$;

-- Teams the person manages, with all their sub-teams. Most people manage no team: for them the
-- answer comes from two index lookups, without starting a recursive query (~40 us a call, and
-- these helpers run once per policy instance, a dozen times a query). The person is looked up
-- inline: every SECURITY DEFINER call with its own search_path costs a few microseconds more.
CREATE OR REPLACE FUNCTION sec_hier_team_ids() RETURNS bigint[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me bigint;
BEGIN
    SELECT u.id INTO me FROM {{schema}}.app_user u
     WHERE u.username = session_user::text AND u.active;
    IF me IS NULL OR NOT EXISTS (SELECT 1 FROM {{schema}}.team tm
                                 WHERE tm.manager_id = me AND tm.deleted_at IS NULL) THEN
        RETURN '{}';
    END IF;
    RETURN (
        WITH RECURSIVE t(id) AS (
            SELECT tm.id FROM {{schema}}.team tm
            WHERE tm.manager_id = me AND tm.deleted_at IS NULL
            UNION
            SELECT c.id FROM {{schema}}.team c JOIN t ON c.parent_id = t.id
            WHERE c.deleted_at IS NULL
        )
        SELECT coalesce(array_agg(id), '{}') FROM t
    );
END
$$;

-- The person and everyone in the teams they manage (and sub-teams). Managers pay one more
-- call (sec_hier_team_ids); everyone else stops at the fast path.
CREATE OR REPLACE FUNCTION sec_hier_user_ids() RETURNS bigint[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me bigint;
BEGIN
    SELECT u.id INTO me FROM {{schema}}.app_user u
     WHERE u.username = session_user::text AND u.active;
    IF me IS NULL THEN
        RETURN '{}';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM {{schema}}.team tm
                   WHERE tm.manager_id = me AND tm.deleted_at IS NULL) THEN
        RETURN ARRAY[me];
    END IF;
    RETURN (
        SELECT coalesce(array_agg(DISTINCT u.id), '{}')
        FROM {{schema}}.app_user u
        WHERE u.id = me OR u.team_id = ANY ({{schema}}.sec_hier_team_ids())
    );
END
$$;

-- The person's own team plus the teams they manage: team shares and team_id on new rows.
CREATE OR REPLACE FUNCTION sec_member_team_ids() RETURNS bigint[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    own_team bigint;
    managed bigint[];
BEGIN
    SELECT u.team_id INTO own_team FROM {{schema}}.app_user u
     WHERE u.username = session_user::text AND u.active;
    managed := {{schema}}.sec_hier_team_ids();
    RETURN (
        SELECT coalesce(array_agg(DISTINCT x), '{}') FROM (
            SELECT own_team AS x WHERE own_team IS NOT NULL
            UNION ALL
            SELECT unnest(managed)
        ) s
    );
END
$$;

-- Is the organisation-wide default of `object_type` open for reading (or writing)?
CREATE OR REPLACE FUNCTION sec_default_open(object_type text, for_write boolean)
RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN coalesce((SELECT CASE WHEN sec_default_open.for_write
                                 THEN d.access = 'public_read_write'
                                 ELSE d.access <> 'private' END
                     FROM {{schema}}.sharing_default d
                     WHERE d.object_type = sec_default_open.object_type), false);
END
$$;

-- Teams whose effective access (override, else default) is open for reading (or writing).
CREATE OR REPLACE FUNCTION sec_open_team_ids(object_type text, for_write boolean)
RETURNS bigint[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN (
        SELECT coalesce(array_agg(t.id), '{}')
        FROM {{schema}}.team t
        LEFT JOIN {{schema}}.sharing_default d
               ON d.object_type = sec_open_team_ids.object_type
        WHERE CASE WHEN sec_open_team_ids.for_write
                   THEN coalesce(t.sharing, d.access) = 'public_read_write'
                   ELSE coalesce(t.sharing, d.access, 'private') <> 'private' END
    );
END
$$;
