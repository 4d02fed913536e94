-- 0008: installations are strangers, the admin API hands out no power, disabled means disabled,
-- and every login gets server-side timeouts (issue 10, parts 1, 2, 3 and 7; docs/security.md
-- "Installations and logins").
--   * <schema>.role_prefix() names this installation's roles ({{roles}}_owner, _rep, ...);
--   * the open branches of the sharing defaults give nothing to a login without an active
--     person row of this installation;
--   * the admin API's caller must be an active admin person of this installation, and it acts
--     only on plain logins that belong to this installation alone;
--   * disabling takes the login's group role and LOGIN in the same transaction;
--   * CONNECT on the database only for the installation's people;
--   * statement, lock and idle-in-transaction timeouts on every person's login.
-- Runs as the installer.

SET LOCAL ROLE {{roles}}_owner;
SET LOCAL search_path = {{schema}}, public;

-- Read by db/migrate.py (and anyone: role names are public in pg_roles anyway).
CREATE FUNCTION role_prefix() RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$ SELECT '{{roles}}'::text $$;

-- The organisation-wide defaults are open only to this installation's active people: a login
-- of another installation (or a disabled one) matches none of the other branches either, so it
-- sees nothing at all.
CREATE OR REPLACE FUNCTION sec_default_open(object_type text, for_write boolean)
RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- One query (the person's row is an InitPlan of it): a second one costs ~20 us a call.
    RETURN coalesce((SELECT CASE WHEN sec_default_open.for_write
                                 THEN d.access = 'public_read_write'
                                 ELSE d.access <> 'private' END
                     FROM {{schema}}.sharing_default d
                     WHERE d.object_type = sec_default_open.object_type
                       AND EXISTS (SELECT 1 FROM {{schema}}.app_user u
                                   WHERE u.username = session_user::text AND u.active)), false);
END
$$;

CREATE OR REPLACE FUNCTION sec_open_team_ids(object_type text, for_write boolean)
RETURNS bigint[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN (
        SELECT coalesce(array_agg(t.id), '{}')
        FROM {{schema}}.team t
        LEFT JOIN {{schema}}.sharing_default d
               ON d.object_type = sec_open_team_ids.object_type
        WHERE EXISTS (SELECT 1 FROM {{schema}}.app_user u
                      WHERE u.username = session_user::text AND u.active)
          AND CASE WHEN sec_open_team_ids.for_write
                   THEN coalesce(t.sharing, d.access) = 'public_read_write'
                   ELSE coalesce(t.sharing, d.access, 'private') <> 'private' END
    );
END
$$;

-- ---------------------------------------------------------------------------------------------
-- As the installer: CONNECT, and what existing logins get.

RESET ROLE;

DO $connect$
BEGIN
    EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), '{{roles}}_user');
END
$connect$;

-- The server-side defaults of a person's login. Group-role settings are not inherited, so they
-- are set on each login (here for existing ones, by create_user for new ones). A person may
-- still SET them in their own session: docs/security.md says what that does and does not allow.
-- SECURITY INVOKER: create_user runs it as the user admin, this migration as the installer.
CREATE FUNCTION {{schema}}_admin_api.set_login_defaults(p_username text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', p_username, '60s');
    EXECUTE format('ALTER ROLE %I SET lock_timeout = %L', p_username, '10s');
    EXECUTE format('ALTER ROLE %I SET idle_in_transaction_session_timeout = %L', p_username, '60s');
END
$$;
ALTER FUNCTION {{schema}}_admin_api.set_login_defaults(text) OWNER TO {{roles}}_useradmin;
REVOKE ALL ON FUNCTION {{schema}}_admin_api.set_login_defaults(text) FROM PUBLIC;

-- Existing people: plain logins get the defaults; disabled ones lose their group role (they
-- kept it before this migration, and a session opened in a race kept its rights with it).
DO $existing$
DECLARE
    u record;
    g text;
BEGIN
    FOR u IN SELECT a.username, a.active FROM {{schema}}.app_user a
             JOIN pg_catalog.pg_roles r ON r.rolname = a.username
             WHERE NOT (r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication
                        OR r.rolbypassrls)
    LOOP
        PERFORM {{schema}}_admin_api.set_login_defaults(u.username);
        IF NOT u.active THEN
            FOREACH g IN ARRAY ARRAY['agent', 'rep', 'manager', 'admin'] LOOP
                IF EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m
                           WHERE m.member = quote_ident(u.username)::regrole
                             AND m.roleid = ('{{roles}}_' || g)::regrole) THEN
                    EXECUTE format('REVOKE %I FROM %I', '{{roles}}_' || g, u.username);
                END IF;
            END LOOP;
        END IF;
    END LOOP;
END
$existing$;

-- ---------------------------------------------------------------------------------------------
-- The admin API (as its owner, the user admin).

SET LOCAL ROLE {{roles}}_useradmin;

-- The caller: an active admin person of THIS installation who holds the admin group role (or
-- the installer: a superuser, or a member of the owner role). Membership of a group role alone
-- proves nothing: before 0008 two installations could share one.
CREATE OR REPLACE FUNCTION {{schema}}_admin_api.check_caller() RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = session_user AND rolsuper)
       OR pg_catalog.pg_has_role(session_user, '{{roles}}_owner', 'MEMBER') THEN
        RETURN;
    END IF;
    IF NOT pg_catalog.pg_has_role(session_user, '{{roles}}_admin', 'MEMBER')
       OR NOT EXISTS (SELECT 1 FROM {{schema}}.app_user
                      WHERE username = session_user::text AND active AND role = 'admin') THEN
        RAISE EXCEPTION 'only an admin may manage people (an active admin of this installation)'
            USING ERRCODE = '42501';
    END IF;
END
$$;

-- The person a function may act on: an app_user of this installation whose login is a plain
-- login (no SUPERUSER, CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS, no pg_* role) that belongs
-- to this installation alone (member of nothing but this installation's group roles, and of no
-- role a member itself). Anything else is a DBA's business, done with psql.
CREATE OR REPLACE FUNCTION {{schema}}_admin_api.target(p_username text) RETURNS {{schema}}.app_user
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u {{schema}}.app_user;
    r pg_catalog.pg_roles;
    powers text[];
    others text;
BEGIN
    SELECT * INTO u FROM {{schema}}.app_user WHERE username = p_username;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such person: %', p_username USING ERRCODE = 'P0002', COLUMN = 'username';
    END IF;
    SELECT * INTO r FROM pg_catalog.pg_roles WHERE rolname = p_username;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the person % has no login role', p_username
            USING ERRCODE = 'P0002', COLUMN = 'username';
    END IF;
    powers := array_remove(ARRAY[
        CASE WHEN r.rolsuper THEN 'SUPERUSER' END, CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END,
        CASE WHEN r.rolcreatedb THEN 'CREATEDB' END,
        CASE WHEN r.rolreplication THEN 'REPLICATION' END,
        CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END], NULL)
        || coalesce((SELECT array_agg(g.rolname::text ORDER BY g.rolname) FROM pg_catalog.pg_roles g
                     WHERE g.rolname LIKE 'pg\_%' AND pg_catalog.pg_has_role(r.oid, g.oid, 'MEMBER')),
                    '{}');
    IF cardinality(powers) > 0 THEN
        RAISE EXCEPTION '% holds %: the admin API does not manage a privileged login; a superuser does, with psql',
            p_username, array_to_string(powers, ', ') USING ERRCODE = '42501', COLUMN = 'username';
    END IF;
    SELECT string_agg(g.rolname, ', ' ORDER BY g.rolname) INTO others
      FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
     WHERE m.member = r.oid
       AND g.rolname NOT IN ('{{roles}}_agent', '{{roles}}_rep', '{{roles}}_manager', '{{roles}}_admin');
    IF others IS NOT NULL THEN
        RAISE EXCEPTION 'the login % is also a member of % and so does not belong to this installation alone: manage it with psql',
            p_username, others USING ERRCODE = '42501', COLUMN = 'username';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m WHERE m.roleid = r.oid) THEN
        RAISE EXCEPTION 'the login % is a group of other roles: manage it with psql', p_username
            USING ERRCODE = '42501', COLUMN = 'username';
    END IF;
    RETURN u;
END
$$;

CREATE OR REPLACE FUNCTION {{schema}}_admin_api.create_user(
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
    IF p_username LIKE 'pg\_%' OR p_username LIKE '{{roles}}\_%' OR p_username LIKE '{{schema}}\_%' THEN
        RAISE EXCEPTION 'names starting with % are reserved',
            CASE WHEN '{{roles}}' = '{{schema}}' THEN 'pg_ or {{schema}}_'
                 ELSE 'pg_, {{roles}}_ or {{schema}}_' END
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
    -- A login that exists already is never adopted: it may be another installation's person.
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = p_username)
       OR EXISTS (SELECT 1 FROM {{schema}}.app_user WHERE username = p_username) THEN
        RAISE EXCEPTION 'the name % is taken', p_username USING ERRCODE = '23505', COLUMN = 'username';
    END IF;
    EXECUTE format('CREATE ROLE %I LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE '
                   'NOREPLICATION NOBYPASSRLS', p_username);
    IF p_password_verifier IS NOT NULL THEN
        EXECUTE format('ALTER ROLE %I PASSWORD %L', p_username, p_password_verifier);
    END IF;
    PERFORM {{schema}}_admin_api.set_login_defaults(p_username);
    EXECUTE format('GRANT %I TO %I', '{{roles}}_' || p_role, p_username);
    INSERT INTO {{schema}}.app_user (username, display_name, email, team_id, role)
    VALUES (p_username, btrim(p_display_name), p_email, p_team_id, p_role)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

-- Disabling takes LOGIN and every group role in the same transaction as active = false, so a
-- session that logged in while this ran holds no rights once it commits; end_sessions (called by
-- the client after the commit) then closes such sessions.
CREATE OR REPLACE FUNCTION {{schema}}_admin_api.disable_user(p_username text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE g text;
BEGIN
    PERFORM {{schema}}_admin_api.check_caller();
    PERFORM {{schema}}_admin_api.target(p_username);
    IF p_username = session_user::text THEN
        RAISE EXCEPTION 'you cannot disable yourself' USING ERRCODE = '42501', COLUMN = 'username';
    END IF;
    PERFORM {{schema}}_admin_api.check_not_last_admin(p_username);
    EXECUTE format('ALTER ROLE %I NOLOGIN', p_username);
    FOREACH g IN ARRAY ARRAY['agent', 'rep', 'manager', 'admin'] LOOP
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m
                   WHERE m.member = quote_ident(p_username)::regrole AND m.roleid = ('{{roles}}_' || g)::regrole) THEN
            EXECUTE format('REVOKE %I FROM %I', '{{roles}}_' || g, p_username);
        END IF;
    END LOOP;
    UPDATE {{schema}}.app_user SET active = false WHERE username = p_username;
    PERFORM pg_catalog.pg_terminate_backend(a.pid) FROM pg_catalog.pg_stat_activity a
    WHERE a.usename = p_username AND a.pid <> pg_catalog.pg_backend_pid();
END
$$;

-- After disable_user has committed: end every session the disabled login still has (one that
-- connected while disable_user ran). Returns how many were ended.
CREATE FUNCTION {{schema}}_admin_api.end_sessions(p_username text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u {{schema}}.app_user;
    n integer;
BEGIN
    PERFORM {{schema}}_admin_api.check_caller();
    u := {{schema}}_admin_api.target(p_username);
    IF u.active THEN
        RAISE EXCEPTION '% is active: disable them first', p_username
            USING ERRCODE = '42501', COLUMN = 'username';
    END IF;
    SELECT count(*) FILTER (WHERE pg_catalog.pg_terminate_backend(a.pid)) INTO n
      FROM pg_catalog.pg_stat_activity a
     WHERE a.usename = p_username AND a.pid <> pg_catalog.pg_backend_pid();
    RETURN n;
END
$$;

CREATE OR REPLACE FUNCTION {{schema}}_admin_api.enable_user(p_username text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE u {{schema}}.app_user;
BEGIN
    PERFORM {{schema}}_admin_api.check_caller();
    u := {{schema}}_admin_api.target(p_username);
    EXECUTE format('ALTER ROLE %I LOGIN', p_username);
    EXECUTE format('GRANT %I TO %I', '{{roles}}_' || u.role, p_username);
    UPDATE {{schema}}.app_user SET active = true WHERE username = p_username;
END
$$;

-- A disabled person keeps no group role: their new role is granted when they are enabled.
CREATE OR REPLACE FUNCTION {{schema}}_admin_api.set_role(p_username text, p_role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r text;
    u {{schema}}.app_user;
BEGIN
    PERFORM {{schema}}_admin_api.check_caller();
    u := {{schema}}_admin_api.target(p_username);
    PERFORM {{schema}}_admin_api.check_role(p_role);
    IF p_role <> 'admin' THEN
        PERFORM {{schema}}_admin_api.check_not_last_admin(p_username);
    END IF;
    FOREACH r IN ARRAY ARRAY['agent', 'rep', 'manager', 'admin'] LOOP
        IF r <> p_role AND pg_catalog.pg_has_role(p_username, '{{roles}}_' || r, 'MEMBER') THEN
            EXECUTE format('REVOKE %I FROM %I', '{{roles}}_' || r, p_username);
        END IF;
    END LOOP;
    IF u.active THEN
        EXECUTE format('GRANT %I TO %I', '{{roles}}_' || p_role, p_username);
    END IF;
    UPDATE {{schema}}.app_user SET role = p_role WHERE username = p_username;
END
$$;

RESET ROLE;
REVOKE ALL ON FUNCTION {{schema}}_admin_api.end_sessions(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION {{schema}}_admin_api.end_sessions(text) TO {{roles}}_admin;
