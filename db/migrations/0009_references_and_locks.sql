-- 0009: no writes into what one cannot see, no forged authorship, no takeover, and no login
-- that can lock others out (issue 10, parts 4 and 7; docs/security.md "References and
-- authorship" and "Locks and timeouts").
--
-- References. Every reference column may point only at a row the writer can see; a move (an
-- UPDATE that changes it) only at a row the writer may also change. A hidden row is refused
-- with exactly the error a missing one gets (23503, the foreign key's own message), so
-- trying ids tells nobody which exist. The checks are BEFORE row triggers whose WHEN clause
-- compares OLD and NEW: they run only when a reference is set or changes. Columns the INSERT
-- policies already check (the account of a contact, deal, case, document or activity, the
-- contact of an activity, a phone's contact, both ends of a relationship) are left to them.
--
-- Authorship. activity.author_id is the person who logs the activity: set by the database,
-- refused when given as anyone else, never changed afterwards (the installer loading data
-- excepted).
--
-- Reassigning. A manager may reassign (owner_id, team_id) only records of their own teams
-- (owned by one of their people or in one of their teams), only to one of their people (never
-- to nobody) and only into one of their teams or none. Admins anywhere.
--
-- Locks. In PostgreSQL a table-level UPDATE, DELETE or TRUNCATE privilege lets its holder
-- LOCK TABLE in any mode (ACCESS EXCLUSIVE: every reader waits); INSERT allows ROW EXCLUSIVE,
-- SELECT ACCESS SHARE, and column-level grants allow nothing more. So no group role a login
-- belongs to keeps a table-level UPDATE, DELETE or TRUNCATE: UPDATE becomes column-level on
-- the same columns, and the deletes people need go through SECURITY DEFINER functions owned
-- by {{schema}}_deleter, a NOLOGIN role that is itself subject to row-level security (the
-- policies key on session_user, so a delete removes exactly the rows the caller could have
-- deleted before).

-- ---------------------------------------------------------------------------------------------
-- The deleter role (as the installer). It is one of the installation's own roles, named with
-- its role prefix like the groups (db/migrate.py checks that none of them exists before a new
-- installation). An installation made before 0008 that shares its roles with another one
-- shares this role too (it never logs in; its functions act for session_user, under each
-- database's own policies). Any other role of that name belongs to someone else and is
-- refused, never adopted: ours carries a marker comment (COMMENT ON ROLE needs CREATEROLE;
-- the admin API never comments).

DO $roles$
DECLARE
    marker text := 'switchboard: owns the delete functions of schema {{schema}}';
    r pg_roles;
BEGIN
    SELECT * INTO r FROM pg_roles WHERE rolname = '{{schema}}_deleter';
    IF NOT FOUND THEN
        CREATE ROLE {{schema}}_deleter NOLOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE
            NOREPLICATION NOBYPASSRLS;
        EXECUTE format('COMMENT ON ROLE {{schema}}_deleter IS %L', marker);
    ELSIF r.rolcanlogin OR r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication
          OR r.rolbypassrls
          OR shobj_description(r.oid, 'pg_authid') IS DISTINCT FROM marker THEN
        RAISE EXCEPTION 'a role named {{schema}}_deleter already exists on this server and this installation did not create it: drop or rename it, or install under another schema name'
            USING ERRCODE = '42710';
    END IF;
END
$roles$;
GRANT {{schema}}_user TO {{schema}}_deleter;
GRANT {{schema}}_deleter TO CURRENT_USER;

SET LOCAL ROLE {{schema}}_owner;
SET LOCAL search_path = {{schema}}, public;

-- ---------------------------------------------------------------------------------------------
-- Locks: no table-level UPDATE, DELETE or TRUNCATE for any role a login can hold.

DO $locks$
DECLARE
    t regclass;
    r text;
    cols text;
BEGIN
    FOR t IN SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = '{{schema}}' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
    LOOP
        FOREACH r IN ARRAY ARRAY['{{schema}}_agent', '{{schema}}_rep', '{{schema}}_manager',
                                 '{{schema}}_admin', '{{schema}}_user']
        LOOP
            IF EXISTS (SELECT 1 FROM pg_class c, aclexplode(c.relacl) a
                       WHERE c.oid = t AND a.grantee = r::regrole
                         AND a.privilege_type = 'UPDATE') THEN
                SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
                  FROM pg_attribute
                 WHERE attrelid = t AND attnum > 0 AND NOT attisdropped
                   AND attgenerated = '' AND attidentity <> 'a';
                EXECUTE format('REVOKE UPDATE ON %s FROM %I', t, r);
                EXECUTE format('GRANT UPDATE (%s) ON %s TO %I', cols, t, r);
            END IF;
            EXECUTE format('REVOKE DELETE, TRUNCATE ON %s FROM %I', t, r);
        END LOOP;
    END LOOP;
END
$locks$;

-- What the deleter may delete, and read to find it (opportunity is not in {{schema}}_user).
GRANT DELETE ON contact_phone, contact_email, contact_tag, account_tag, saved_view,
    account, contact, contact_relationship, opportunity, support_case, activity, document,
    campaign, campaign_member, account_share, tag, pipeline, stage, custom_field,
    glossary_term, relationship_type, team
    TO {{schema}}_deleter;
GRANT SELECT ON opportunity TO {{schema}}_deleter;
GRANT CREATE ON SCHEMA {{schema}} TO {{schema}}_deleter;

-- ---------------------------------------------------------------------------------------------
-- The deletes people need, as functions of the deleter (row-level security applies to it).

SET LOCAL ROLE {{schema}}_deleter;

-- A contact's phones or emails, before the form writes the new list (agents, reps, managers,
-- admins): removes what the caller may change, nothing else (row-level security on the table).
CREATE FUNCTION {{schema}}.delete_contact_details(p_contact bigint, p_table text,
                                                  p_ids bigint[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n integer;
BEGIN
    IF p_table = 'contact_phone' THEN
        DELETE FROM {{schema}}.contact_phone
         WHERE contact_id = p_contact AND (p_ids IS NULL OR id = ANY (p_ids));
    ELSIF p_table = 'contact_email' THEN
        DELETE FROM {{schema}}.contact_email
         WHERE contact_id = p_contact AND (p_ids IS NULL OR id = ANY (p_ids));
    ELSE
        RAISE EXCEPTION 'must be contact_phone or contact_email' USING ERRCODE = '22023';
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- Untag a contact or an account (reps, managers, admins), under the same policies as before.
CREATE FUNCTION {{schema}}.delete_tag_link(p_table text, p_record bigint, p_tag bigint)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n integer;
BEGIN
    IF p_table = 'contact_tag' THEN
        DELETE FROM {{schema}}.contact_tag WHERE contact_id = p_record AND tag_id = p_tag;
    ELSIF p_table = 'account_tag' THEN
        DELETE FROM {{schema}}.account_tag WHERE account_id = p_record AND tag_id = p_tag;
    ELSE
        RAISE EXCEPTION 'must be contact_tag or account_tag' USING ERRCODE = '22023';
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- One's own saved view (everyone; admins any).
CREATE FUNCTION {{schema}}.delete_saved_view(p_id bigint) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n integer;
BEGIN
    DELETE FROM {{schema}}.saved_view WHERE id = p_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- Admins: delete for good the rows of `p_table` whose `p_column` is one of `p_ids` (the purge
-- of the trash, removing a share, and what admins did with DELETE in psql).
CREATE FUNCTION {{schema}}.delete_rows(p_table text, p_column text, p_ids bigint[])
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n integer;
BEGIN
    IF NOT {{schema}}.sec_is_admin() THEN
        RAISE EXCEPTION 'only an admin may delete records for good' USING ERRCODE = '42501';
    END IF;
    IF p_table IS NULL OR p_table NOT IN ('account', 'contact', 'contact_relationship',
            'opportunity', 'support_case', 'activity', 'document', 'campaign',
            'campaign_member', 'account_share', 'contact_phone', 'contact_email', 'saved_view',
            'tag', 'pipeline', 'stage', 'custom_field', 'glossary_term', 'relationship_type',
            'team') THEN
        RAISE EXCEPTION 'cannot delete from %', coalesce(p_table, 'NULL') USING ERRCODE = '22023';
    END IF;
    IF p_column IS NULL OR p_column NOT IN ('id', 'account_id', 'contact_id', 'opportunity_id',
            'case_id')
       OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
                      WHERE attrelid = pg_catalog.to_regclass('{{schema}}.' || p_table)
                        AND attname = p_column AND NOT attisdropped) THEN
        RAISE EXCEPTION '% has no column %', p_table, coalesce(p_column, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    EXECUTE format('DELETE FROM {{schema}}.%I WHERE %I = ANY ($1)', p_table, p_column)
        USING p_ids;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

REVOKE ALL ON FUNCTION delete_contact_details(bigint, text, bigint[]), delete_tag_link(text, bigint, bigint),
    delete_saved_view(bigint), delete_rows(text, text, bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION delete_contact_details(bigint, text, bigint[]), delete_saved_view(bigint)
    TO {{schema}}_agent, {{schema}}_rep, {{schema}}_manager, {{schema}}_admin;
GRANT EXECUTE ON FUNCTION delete_tag_link(text, bigint, bigint)
    TO {{schema}}_rep, {{schema}}_manager, {{schema}}_admin;
GRANT EXECUTE ON FUNCTION delete_rows(text, text, bigint[]) TO {{schema}}_admin;

RESET ROLE;
SET LOCAL ROLE {{schema}}_owner;
SET LOCAL search_path = {{schema}}, public;
REVOKE CREATE ON SCHEMA {{schema}} FROM {{schema}}_deleter;

-- ---------------------------------------------------------------------------------------------
-- References. Both helpers run as the caller (SECURITY INVOKER), so row-level security answers.

-- Can the caller see row `p_id` of `p_table`? (Agents never see deals, whatever the id.)
CREATE FUNCTION sec_ref_visible(p_table text, p_id bigint) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_table = 'account' THEN
        RETURN EXISTS (SELECT 1 FROM {{schema}}.account WHERE id = p_id);
    ELSIF p_table = 'contact' THEN
        RETURN EXISTS (SELECT 1 FROM {{schema}}.contact WHERE id = p_id);
    ELSIF p_table = 'opportunity' THEN
        IF NOT has_table_privilege('{{schema}}.opportunity', 'SELECT') THEN
            RETURN false;
        END IF;
        RETURN EXISTS (SELECT 1 FROM {{schema}}.opportunity WHERE id = p_id);
    ELSIF p_table = 'support_case' THEN
        RETURN EXISTS (SELECT 1 FROM {{schema}}.support_case WHERE id = p_id);
    ELSIF p_table = 'campaign' THEN
        RETURN EXISTS (SELECT 1 FROM {{schema}}.campaign WHERE id = p_id);
    END IF;
    RAISE EXCEPTION 'no reference check for table %', p_table USING ERRCODE = '22023';
END
$$;

-- May the caller change row `p_id` of `p_table`? A locking read applies the table's UPDATE
-- policy as well as its SELECT policy; it takes the same key-share row lock a foreign key
-- check takes. Without any UPDATE privilege on the table the answer is no.
CREATE FUNCTION sec_ref_editable(p_table text, p_id bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT has_any_column_privilege('{{schema}}.' || p_table, 'UPDATE') THEN
        RETURN false;
    END IF;
    IF p_table = 'account' THEN
        PERFORM 1 FROM {{schema}}.account WHERE id = p_id FOR KEY SHARE;
    ELSIF p_table = 'contact' THEN
        PERFORM 1 FROM {{schema}}.contact WHERE id = p_id FOR KEY SHARE;
    ELSIF p_table = 'opportunity' THEN
        PERFORM 1 FROM {{schema}}.opportunity WHERE id = p_id FOR KEY SHARE;
    ELSIF p_table = 'support_case' THEN
        PERFORM 1 FROM {{schema}}.support_case WHERE id = p_id FOR KEY SHARE;
    ELSIF p_table = 'campaign' THEN
        PERFORM 1 FROM {{schema}}.campaign WHERE id = p_id FOR KEY SHARE;
    ELSE
        RAISE EXCEPTION 'no reference check for table %', p_table USING ERRCODE = '22023';
    END IF;
    RETURN FOUND;
END
$$;

-- The trigger: arguments are pairs (column, referenced table). A reference that is set (on
-- INSERT) or changed (on UPDATE) must be visible, and on UPDATE changeable too (campaigns
-- excepted).
CREATE FUNCTION guard_refs() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n jsonb := to_jsonb(NEW);
    o jsonb;
    i integer := 0;
    col text;
    tbl text;
    val bigint;
    fk text;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        o := to_jsonb(OLD);
    END IF;
    WHILE i < TG_NARGS LOOP
        col := TG_ARGV[i];
        tbl := TG_ARGV[i + 1];
        i := i + 2;
        val := (n ->> col)::bigint;
        CONTINUE WHEN val IS NULL OR (o IS NOT NULL AND (o ->> col)::bigint IS NOT DISTINCT FROM val);
        IF NOT {{schema}}.sec_ref_visible(tbl, val) THEN
            -- Word for word what the foreign key says of a missing row.
            SELECT c.conname INTO fk FROM pg_catalog.pg_constraint c
              JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             WHERE c.conrelid = TG_RELID AND c.contype = 'f' AND a.attname = col;
            RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"',
                    TG_TABLE_NAME, fk
                USING ERRCODE = '23503', SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME,
                      CONSTRAINT = fk,
                      DETAIL = format('Key (%s)=(%s) is not present in table "%s".', col, val, tbl);
        END IF;
        -- Campaigns are what deals and members are attributed to, not containers: reps may
        -- not edit any, and still attribute a deal to one they see.
        IF TG_OP = 'UPDATE' AND tbl <> 'campaign' AND NOT {{schema}}.sec_ref_editable(tbl, val) THEN
            RAISE EXCEPTION 'you may not move this % into % %: you may see it but not change it',
                    replace(TG_TABLE_NAME, '_', ' '), replace(tbl, '_', ' '), val
                USING ERRCODE = '42501', COLUMN = col, TABLE = TG_TABLE_NAME;
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION guard_refs() FROM PUBLIC;
REVOKE ALL ON FUNCTION sec_ref_visible(text, bigint), sec_ref_editable(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sec_ref_visible(text, bigint), sec_ref_editable(text, bigint)
    TO {{schema}}_user;

-- INSERT: only the columns no INSERT policy checks. UPDATE: every reference column.
CREATE TRIGGER account_refs_add BEFORE INSERT ON account FOR EACH ROW
    WHEN (NEW.parent_id IS NOT NULL)
    EXECUTE FUNCTION guard_refs('parent_id', 'account');
CREATE TRIGGER account_refs_move BEFORE UPDATE OF parent_id ON account FOR EACH ROW
    WHEN (NEW.parent_id IS DISTINCT FROM OLD.parent_id AND NEW.parent_id IS NOT NULL)
    EXECUTE FUNCTION guard_refs('parent_id', 'account');

CREATE TRIGGER contact_refs_move BEFORE UPDATE OF account_id ON contact FOR EACH ROW
    WHEN (NEW.account_id IS DISTINCT FROM OLD.account_id AND NEW.account_id IS NOT NULL)
    EXECUTE FUNCTION guard_refs('account_id', 'account');

CREATE TRIGGER opportunity_refs_add BEFORE INSERT ON opportunity FOR EACH ROW
    WHEN (NEW.primary_contact_id IS NOT NULL OR NEW.campaign_id IS NOT NULL)
    EXECUTE FUNCTION guard_refs('primary_contact_id', 'contact', 'campaign_id', 'campaign');
CREATE TRIGGER opportunity_refs_move
    BEFORE UPDATE OF account_id, primary_contact_id, campaign_id ON opportunity FOR EACH ROW
    WHEN (NEW.account_id IS DISTINCT FROM OLD.account_id
          OR (NEW.primary_contact_id IS DISTINCT FROM OLD.primary_contact_id AND NEW.primary_contact_id IS NOT NULL)
          OR (NEW.campaign_id IS DISTINCT FROM OLD.campaign_id AND NEW.campaign_id IS NOT NULL))
    EXECUTE FUNCTION guard_refs('account_id', 'account', 'primary_contact_id', 'contact',
                                'campaign_id', 'campaign');

CREATE TRIGGER support_case_refs_add BEFORE INSERT ON support_case FOR EACH ROW
    WHEN (NEW.contact_id IS NOT NULL)
    EXECUTE FUNCTION guard_refs('contact_id', 'contact');
CREATE TRIGGER support_case_refs_move BEFORE UPDATE OF account_id, contact_id ON support_case
    FOR EACH ROW
    WHEN ((NEW.account_id IS DISTINCT FROM OLD.account_id AND NEW.account_id IS NOT NULL)
          OR (NEW.contact_id IS DISTINCT FROM OLD.contact_id AND NEW.contact_id IS NOT NULL))
    EXECUTE FUNCTION guard_refs('account_id', 'account', 'contact_id', 'contact');

CREATE TRIGGER activity_refs_add BEFORE INSERT ON activity FOR EACH ROW
    WHEN (NEW.opportunity_id IS NOT NULL OR NEW.case_id IS NOT NULL)
    EXECUTE FUNCTION guard_refs('opportunity_id', 'opportunity', 'case_id', 'support_case');
CREATE TRIGGER activity_refs_move
    BEFORE UPDATE OF account_id, contact_id, opportunity_id, case_id ON activity FOR EACH ROW
    WHEN ((NEW.account_id IS DISTINCT FROM OLD.account_id AND NEW.account_id IS NOT NULL)
          OR (NEW.contact_id IS DISTINCT FROM OLD.contact_id AND NEW.contact_id IS NOT NULL)
          OR (NEW.opportunity_id IS DISTINCT FROM OLD.opportunity_id AND NEW.opportunity_id IS NOT NULL)
          OR (NEW.case_id IS DISTINCT FROM OLD.case_id AND NEW.case_id IS NOT NULL))
    EXECUTE FUNCTION guard_refs('account_id', 'account', 'contact_id', 'contact',
                                'opportunity_id', 'opportunity', 'case_id', 'support_case');

CREATE TRIGGER document_refs_add BEFORE INSERT ON document FOR EACH ROW
    WHEN (NEW.contact_id IS NOT NULL OR NEW.opportunity_id IS NOT NULL OR NEW.case_id IS NOT NULL)
    EXECUTE FUNCTION guard_refs('contact_id', 'contact', 'opportunity_id', 'opportunity',
                                'case_id', 'support_case');
CREATE TRIGGER document_refs_move
    BEFORE UPDATE OF account_id, contact_id, opportunity_id, case_id ON document FOR EACH ROW
    WHEN ((NEW.account_id IS DISTINCT FROM OLD.account_id AND NEW.account_id IS NOT NULL)
          OR (NEW.contact_id IS DISTINCT FROM OLD.contact_id AND NEW.contact_id IS NOT NULL)
          OR (NEW.opportunity_id IS DISTINCT FROM OLD.opportunity_id AND NEW.opportunity_id IS NOT NULL)
          OR (NEW.case_id IS DISTINCT FROM OLD.case_id AND NEW.case_id IS NOT NULL))
    EXECUTE FUNCTION guard_refs('account_id', 'account', 'contact_id', 'contact',
                                'opportunity_id', 'opportunity', 'case_id', 'support_case');

CREATE TRIGGER campaign_member_refs BEFORE INSERT OR UPDATE OF campaign_id ON campaign_member
    FOR EACH ROW EXECUTE FUNCTION guard_refs('campaign_id', 'campaign');

-- ---------------------------------------------------------------------------------------------
-- Authorship: the author of an activity is the person who logs it.

CREATE FUNCTION guard_author() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me bigint;
BEGIN
    IF pg_has_role(session_user, '{{schema}}_owner', 'MEMBER') THEN
        RETURN NEW;  -- the installer loading data
    END IF;
    IF TG_OP = 'INSERT' THEN
        me := {{schema}}.current_app_user_id();
        IF NEW.author_id IS NULL THEN
            NEW.author_id := me;
        ELSIF NEW.author_id IS DISTINCT FROM me THEN
            RAISE EXCEPTION 'the author of an activity is the person who logs it'
                USING ERRCODE = '42501', COLUMN = 'author_id', TABLE = 'activity';
        END IF;
    ELSIF NEW.author_id IS DISTINCT FROM OLD.author_id THEN
        RAISE EXCEPTION 'the author of an activity never changes'
            USING ERRCODE = '42501', COLUMN = 'author_id', TABLE = 'activity';
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION guard_author() FROM PUBLIC;
CREATE TRIGGER activity_author BEFORE INSERT OR UPDATE OF author_id ON activity FOR EACH ROW
    EXECUTE FUNCTION guard_author();

-- ---------------------------------------------------------------------------------------------
-- Reassigning: managers only records of their own teams, to their people, into their teams.

CREATE OR REPLACE FUNCTION guard_reassign() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o jsonb := to_jsonb(OLD);
    n jsonb := to_jsonb(NEW);
    people bigint[];
BEGIN
    IF (o->'owner_id') IS NOT DISTINCT FROM (n->'owner_id')
       AND (o->'team_id') IS NOT DISTINCT FROM (n->'team_id') THEN
        RETURN NEW;
    END IF;
    IF pg_has_role(session_user, '{{schema}}_owner', 'MEMBER') OR {{schema}}.sec_is_admin() THEN
        RETURN NEW;
    END IF;
    IF {{schema}}.sec_role() IS DISTINCT FROM 'manager' THEN
        RAISE EXCEPTION 'only a manager or an admin may reassign a record'
            USING ERRCODE = '42501', COLUMN = 'owner_id';
    END IF;
    people := {{schema}}.sec_hier_user_ids();
    IF NOT (coalesce((o->>'owner_id')::bigint = ANY (people), false)
            OR coalesce((o->>'team_id')::bigint = ANY ({{schema}}.sec_hier_team_ids()), false)) THEN
        RAISE EXCEPTION 'a manager may reassign only records of their own teams'
            USING ERRCODE = '42501', COLUMN = 'owner_id';
    END IF;
    IF (n->>'owner_id') IS NULL THEN
        RAISE EXCEPTION 'a record keeps an owner: choose one of the people in your teams'
            USING ERRCODE = '42501', COLUMN = 'owner_id';
    END IF;
    IF NOT (n->>'owner_id')::bigint = ANY (people) THEN
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
