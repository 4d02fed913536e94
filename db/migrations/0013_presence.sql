-- 0013: presence (issue 11 part 2; docs/presence.md). Who else has a record open, and who is
-- editing it, for the records that have a record screen: account, contact, opportunity,
-- support_case.
--
-- One row per (backend, person, record): `pid` is the backend of the app's presence
-- connection (db/presence.py), so the row lives exactly as long as that connection. An app that
-- closes deletes its rows; an app that crashes or loses its network leaves rows whose backend
-- is gone, and presence_sweep(), run by every app every few seconds, deletes them.
--
-- Who sees what: a presence row is readable by whoever may read its record now, judged AS THE
-- CALLER by the function the audit log's read policy uses (sec_audit_visible, 0010, SECURITY
-- INVOKER: the record's own read policy decides). A SECURITY DEFINER function cannot judge as
-- the caller (SET ROLE is refused inside one) and a copy of four read policies would drift, so
-- reads and announcements go through row-level security on this table:
--   * SELECT: rows of records the caller may read; anyone else's rows read as "nobody here";
--   * INSERT (table_name, row_id, editing only): pid, person and time are set by the
--     database (defaults), never by the client, and the policy checks them again; only for a
--     record the caller may read;
--   * UPDATE (editing only): the caller's own rows of their own backend;
--   * DELETE: no privilege at all (a table-level DELETE would also let a login LOCK the table
--     and stall everyone's presence); presence_clear, presence_clear_all and presence_sweep are
--     SECURITY DEFINER and delete only the caller's own rows, or rows whose backend is gone.
-- Every change sends a notice without names: {"t":"presence","op":"I|U|D","id":<record id>,
-- "a":null}, on the schema's channel like record_change(). Presence is not audited (it is not a
-- change of data, and would fill the log with every look at a record).

SET LOCAL ROLE {{roles}}_owner;
SET LOCAL search_path = {{schema}}, public;

-- UNLOGGED: no WAL for a row that lives seconds to minutes (an announcement costs no disk
-- flush), and after a server crash the table starts empty, which is right: every backend the
-- rows named is gone. Not replicated to standbys; presence is read and written on the primary.
CREATE UNLOGGED TABLE presence (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pid         integer NOT NULL DEFAULT pg_backend_pid(),
    app_user_id bigint NOT NULL DEFAULT {{schema}}.current_app_user_id()
                REFERENCES app_user (id) ON DELETE CASCADE,
    table_name  text NOT NULL
                CHECK (table_name IN ('account', 'contact', 'opportunity', 'support_case')),
    row_id      bigint NOT NULL,
    editing     boolean NOT NULL DEFAULT false,
    since       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (pid, app_user_id, table_name, row_id)
);
CREATE INDEX presence_record_idx ON presence (table_name, row_id);

ALTER TABLE presence ENABLE ROW LEVEL SECURITY;
ALTER TABLE presence FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON presence TO {{roles}}_owner USING (true) WITH CHECK (true);
CREATE POLICY read ON presence FOR SELECT TO {{roles}}_user
    USING (sec_audit_visible(presence.table_name, presence.row_id, NULL, NULL));
CREATE POLICY announce ON presence FOR INSERT TO {{roles}}_user
    WITH CHECK (presence.pid = pg_backend_pid()
                AND presence.app_user_id = (SELECT current_app_user_id())
                AND sec_audit_visible(presence.table_name, presence.row_id, NULL, NULL));
CREATE POLICY own ON presence FOR UPDATE TO {{roles}}_user
    USING (presence.pid = pg_backend_pid()
           AND presence.app_user_id = (SELECT current_app_user_id()))
    WITH CHECK (presence.pid = pg_backend_pid()
                AND presence.app_user_id = (SELECT current_app_user_id()));

REVOKE ALL ON presence FROM PUBLIC;
REVOKE ALL ON presence FROM {{roles}}_user;
GRANT SELECT ON presence TO {{roles}}_user;
GRANT INSERT (table_name, row_id, editing), UPDATE (editing) ON presence TO {{roles}}_user;

-- The notice: the record's id, never who. Identical notices of one transaction are sent once
-- (PostgreSQL folds them), so a sweep that removes many rows of one record sends one.
CREATE FUNCTION presence_notice() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rid bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.row_id ELSE NEW.row_id END;
BEGIN
    PERFORM pg_notify('{{schema}}', json_build_object('t', 'presence', 'op', left(TG_OP, 1),
                                                       'id', rid, 'a', NULL)::text);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION presence_notice() FROM PUBLIC;
CREATE TRIGGER presence_notice AFTER INSERT OR DELETE ON presence
    FOR EACH ROW EXECUTE FUNCTION presence_notice();
CREATE TRIGGER presence_notice_editing AFTER UPDATE ON presence
    FOR EACH ROW WHEN (OLD.editing IS DISTINCT FROM NEW.editing)
    EXECUTE FUNCTION presence_notice();

-- ---------------------------------------------------------------------------------------------
-- The API (db/presence.py). Invoker functions run under the policies above; the definer ones
-- delete only what the caller may delete.

-- The caller's backend has the record open (editing or not). False, and nothing stored, when
-- the caller may not read the record or it does not exist (the same answer for both), or the
-- login has no active person row here.
CREATE FUNCTION presence_set(p_table text, p_row_id bigint, p_editing boolean)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_table NOT IN ('account', 'contact', 'opportunity', 'support_case')
       OR {{schema}}.current_app_user_id() IS NULL
       OR NOT {{schema}}.sec_audit_visible(p_table, p_row_id, NULL, NULL) THEN
        RETURN false;
    END IF;
    INSERT INTO {{schema}}.presence AS p (table_name, row_id, editing)
    VALUES (p_table, p_row_id, coalesce(p_editing, false))
    ON CONFLICT (pid, app_user_id, table_name, row_id)
    DO UPDATE SET editing = EXCLUDED.editing WHERE p.editing IS DISTINCT FROM EXCLUDED.editing;
    RETURN true;
END
$$;

-- The caller's backend no longer has the record open.
CREATE FUNCTION presence_clear(p_table text, p_row_id bigint) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    DELETE FROM {{schema}}.presence
     WHERE pid = pg_backend_pid() AND app_user_id = {{schema}}.current_app_user_id()
       AND table_name = p_table AND row_id = p_row_id
$$;

-- The caller's backend has nothing open (the app closes, or starts over after a reconnect).
CREATE FUNCTION presence_clear_all() RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    DELETE FROM {{schema}}.presence
     WHERE pid = pg_backend_pid() AND app_user_id = {{schema}}.current_app_user_id()
$$;

-- Rows whose backend is gone (app crashed, network lost, session ended by an admin), or whose
-- pid now belongs to another login (the pid was reused). pid and usename of every backend are
-- visible to every role in pg_stat_activity. Returns how many rows it removed.
CREATE FUNCTION presence_sweep() RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n integer;
BEGIN
    DELETE FROM {{schema}}.presence p
     WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a JOIN {{schema}}.app_user u
                                  ON u.username = a.usename::text
                        WHERE a.pid = p.pid AND u.id = p.app_user_id);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- The OTHER people who have the record open: one row per person (their display name), editing
-- when any of their apps edits it, editors first, then by arrival. Rows whose backend is gone
-- are left out at once, before any sweep removed them. No rows when nobody else is
-- there, and no rows when the caller may not read the record: the two look the same.
CREATE FUNCTION presence_of(p_table text, p_row_id bigint)
RETURNS TABLE (user_id bigint, display_name text, editing boolean, since timestamptz)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- PL/pgSQL, not SQL: its plan is kept for the session (an SQL function with a SET clause
    -- is planned again on every call: 0.8 ms instead of ~0.3 at the demo scale).
    RETURN QUERY
    SELECT u.id, u.display_name, bool_or(p.editing), min(p.since)
      FROM {{schema}}.presence p JOIN {{schema}}.app_user u ON u.id = p.app_user_id
     WHERE p.table_name = p_table AND p.row_id = p_row_id AND u.active
       AND p.app_user_id <> (SELECT {{schema}}.current_app_user_id())
       AND EXISTS (SELECT 1 FROM pg_stat_activity a
                    WHERE a.pid = p.pid AND a.usename::text = u.username)
     GROUP BY u.id, u.display_name
     ORDER BY bool_or(p.editing) DESC, min(p.since), u.id
     LIMIT 20;
END
$$;

DO $grants$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['presence_set(text, bigint, boolean)',
                             'presence_clear(text, bigint)', 'presence_clear_all()',
                             'presence_sweep()', 'presence_of(text, bigint)']
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION {{schema}}.%s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION {{schema}}.%s TO {{roles}}_user', f);
    END LOOP;
END
$grants$;
