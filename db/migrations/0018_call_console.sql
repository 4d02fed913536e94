-- 0018: the call console (issue 13 parts 2-6; docs/console.md).
--
-- 1. Caller lookup under row-level security: caller_match() (SECURITY DEFINER, owner, fixed
--    search_path, EXECUTE for {{roles}}_user only) finds phones by exact E.164 through
--    contact_phone_e164_idx and by the last 7-10 digits through contact_phone_suffix_idx
--    (0001: reverse(e164) text_pattern_ops) and returns only contacts the caller may read
--    (sec_visible_contact, 0010). The range operators ~>=~ / ~<~ are what the suffix index
--    serves; a LIKE with a parameter pattern would not use it. Exact hits win: suffix hits
--    are returned only when no phone matches exactly.
-- 2. screen_pop: a row per "open this number in that person's console", readable and
--    updatable only by that person. Written only by screen_pop(username, number), a SECURITY
--    DEFINER function executable by admins and by the new group role {{roles}}_telephony
--    (grant it to the login a telephony system uses). It sends the change notice itself:
--    {"t":"screen_pop","op":"I","id":<id>,"a":null}, never the number. The row is not audited
--    (the audit log would keep every caller's number for admins to read).
-- 3. callback: booked callbacks, a queue taken with FOR UPDATE SKIP LOCKED in one short
--    statement (claimed_by/claimed_at). A claim older than 15 minutes without done_at is
--    back in the queue; release_callback() puts it back at once.
-- 4. support_case: the status workflow is enforced (case_workflow trigger): new -> open,
--    waiting, resolved, closed; open <-> waiting; open/waiting -> resolved, closed;
--    resolved -> open (reopen), closed; closed -> open (reopen). closed_at is set on resolved
--    and closed and cleared on reopen. The SLA due time comes from the priority when none is
--    given: urgent 4 h, high 8 h, normal 24 h, low 72 h after creation (and again from the
--    creation time when the priority changes and due_at is left alone).

DO $roles$
DECLARE
    marker text := 'switchboard: telephony (screen pops) of schema {{schema}}';
    r pg_roles;
BEGIN
    SELECT * INTO r FROM pg_roles WHERE rolname = '{{roles}}_telephony';
    IF NOT FOUND THEN
        CREATE ROLE {{roles}}_telephony NOLOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE
            NOREPLICATION NOBYPASSRLS;
        EXECUTE format('COMMENT ON ROLE {{roles}}_telephony IS %L', marker);
    ELSIF r.rolcanlogin OR r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication
          OR r.rolbypassrls
          OR shobj_description(r.oid, 'pg_authid') IS DISTINCT FROM marker THEN
        RAISE EXCEPTION 'a role named {{roles}}_telephony already exists on this server and this installation did not create it: drop or rename it, or install under another role prefix'
            USING ERRCODE = '42710';
    END IF;
END
$roles$;
GRANT USAGE ON SCHEMA {{schema}} TO {{roles}}_telephony;

SET LOCAL ROLE {{roles}}_owner;
SET LOCAL search_path = {{schema}}, public;

-- ---------------------------------------------------------------------------------------------
-- 1. Caller lookup

CREATE FUNCTION caller_match(p_e164 text[], p_suffix text, p_limit integer)
RETURNS TABLE (contact_id bigint, e164 text, exact boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 2 SET search_path = pg_catalog, {{schema}}, pg_temp AS $$
BEGIN
    -- PL/pgSQL keeps this plan for the session (an SQL function is planned at every call).
    -- The phones first (both through their indexes, the suffix branch bounded), then the
    -- visibility of each one's contact as a scalar sub-select by primary key: never a join
    -- the planner could turn into a hash over every contact (8 s at 1M contacts).
    RETURN QUERY
    WITH hits AS MATERIALIZED (
        SELECT ph.contact_id, ph.e164, true AS exact FROM contact_phone ph
         WHERE ph.e164 = ANY (coalesce(p_e164, '{}'))
        UNION ALL
        (SELECT ph.contact_id, ph.e164, false FROM contact_phone ph
          WHERE p_suffix ~ '^[0-9]{7,15}$'
            AND reverse(ph.e164) ~>=~ p_suffix AND reverse(ph.e164) ~<~ (p_suffix || ':')
          LIMIT 500)
    ), visible AS MATERIALIZED (
        SELECT DISTINCT ON (h.contact_id) h.contact_id, h.e164, h.exact FROM hits h
         WHERE coalesce((SELECT true FROM sec_visible_contact c
                          WHERE c.id = h.contact_id AND c.deleted_at IS NULL), false)
         ORDER BY h.contact_id, h.exact DESC
    )
    SELECT v.contact_id, v.e164, v.exact FROM visible v
     WHERE v.exact OR NOT EXISTS (SELECT 1 FROM visible w WHERE w.exact)
     ORDER BY v.exact DESC, v.contact_id
     LIMIT least(greatest(p_limit, 0), 100);
END
$$;
REVOKE ALL ON FUNCTION caller_match(text[], text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION caller_match(text[], text, integer) TO {{roles}}_user;

-- The open deals of a caller's account for the card, as the caller sees them; NULL for those
-- who may not read deals at all (agents). PL/pgSQL plans the query only when it runs, so an
-- agent's card never names the table it has no privilege on.
CREATE FUNCTION caller_deals(p_account_id bigint) RETURNS json
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, {{schema}}, pg_temp AS $$
BEGIN
    IF NOT has_table_privilege('{{schema}}.opportunity', 'SELECT') THEN
        RETURN NULL;
    END IF;
    IF p_account_id IS NULL THEN
        RETURN '[]'::json;
    END IF;
    RETURN coalesce((
        SELECT json_agg(d) FROM (
            SELECT o.id, o.name, s.name AS stage, o.amount, o.currency, o.expected_close
              FROM opportunity o JOIN stage s ON s.id = o.stage_id
             WHERE o.account_id = p_account_id AND NOT o.is_closed AND o.deleted_at IS NULL
             ORDER BY o.expected_close NULLS LAST, o.id LIMIT 3) d), '[]'::json);
END
$$;
REVOKE ALL ON FUNCTION caller_deals(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION caller_deals(bigint) TO {{roles}}_user;

-- The caller card's phones and relationships, with the visibility checked once per contact
-- (the contact's, then each related contact's) instead of once per policy: under row-level
-- security a relationship row checks both its contacts and the joined contact a third time.
-- The same rows as a plain read under RLS would give (contact_phone and contact_relationship
-- follow their contacts), or nothing when the contact is not visible.
CREATE FUNCTION caller_details(p_contact_id bigint) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, {{schema}}, pg_temp AS $$
BEGIN
    IF NOT coalesce((SELECT true FROM sec_visible_contact v
                      WHERE v.id = p_contact_id AND v.deleted_at IS NULL), false) THEN
        RETURN NULL;
    END IF;
    RETURN json_build_object(
        'phones', (SELECT json_agg(json_build_object('kind', p.kind, 'n', coalesce(p.e164, p.raw))
                                   ORDER BY p.position, p.id)
                     FROM contact_phone p WHERE p.contact_id = p_contact_id),
        'related', (SELECT json_agg(x) FROM (
            SELECT y.label, y.name, y.id FROM (
                SELECT t.label, o.full_name AS name, o.id FROM contact_relationship r
                  JOIN relationship_type t ON t.id = r.type_id
                  JOIN contact o ON o.id = r.to_contact_id
                 WHERE r.from_contact_id = p_contact_id AND r.deleted_at IS NULL
                   AND o.deleted_at IS NULL
                UNION ALL
                SELECT t.inverse_label, o.full_name, o.id FROM contact_relationship r
                  JOIN relationship_type t ON t.id = r.type_id
                  JOIN contact o ON o.id = r.from_contact_id
                 WHERE r.to_contact_id = p_contact_id AND r.deleted_at IS NULL
                   AND o.deleted_at IS NULL) y
             WHERE coalesce((SELECT true FROM sec_visible_contact v WHERE v.id = y.id), false)
             LIMIT 6) x));
END
$$;
REVOKE ALL ON FUNCTION caller_details(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION caller_details(bigint) TO {{roles}}_user;

-- The caller card's data as JSON, read as the caller (SECURITY INVOKER: row-level security
-- applies). PL/pgSQL keeps its plan, and plan_cache_mode makes it the generic plan from the
-- first call: planning this (eight tables, each with its policies) costs ~20 ms, and a prepared
-- statement is planned with its values five times before it settles.
CREATE FUNCTION caller_card_json(p_contact_id bigint, p_account_id bigint, p_owner_id bigint)
RETURNS json
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan
SET search_path = pg_catalog, {{schema}}, pg_temp AS $$
BEGIN
    RETURN json_build_object(
        'owner', (SELECT u.display_name FROM app_user u WHERE u.id = p_owner_id),
        'details', caller_details(p_contact_id),
        'cases', (SELECT json_agg(x) FROM (
                    SELECT s.id, s.subject, s.status, s.priority, s.due_at FROM (
                        SELECT s1.id FROM support_case s1 WHERE s1.contact_id = p_contact_id
                           AND s1.status NOT IN ('resolved', 'closed') AND s1.deleted_at IS NULL
                        UNION
                        SELECT s2.id FROM support_case s2 WHERE s2.account_id = p_account_id
                           AND s2.status NOT IN ('resolved', 'closed') AND s2.deleted_at IS NULL
                    ) k JOIN support_case s ON s.id = k.id
                    ORDER BY s.due_at NULLS LAST, s.id LIMIT 5) x),
        'deals', caller_deals(p_account_id),
        'recent', (SELECT json_agg(x) FROM (
                    SELECT a.id, a.kind, a.direction, a.outcome,
                           coalesce(nullif(a.subject, ''), split_part(left(a.body, 200), E'\n', 1))
                               AS subject,
                           a.occurred_at, u.display_name AS author
                      FROM activity a LEFT JOIN app_user u ON u.id = a.author_id
                     WHERE a.contact_id = p_contact_id AND a.deleted_at IS NULL
                     ORDER BY a.occurred_at DESC, a.id DESC LIMIT 5) x));
END
$$;
REVOKE ALL ON FUNCTION caller_card_json(bigint, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION caller_card_json(bigint, bigint, bigint) TO {{roles}}_user;

-- ---------------------------------------------------------------------------------------------
-- 2. Screen pops

CREATE TABLE screen_pop (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    number      text NOT NULL CHECK (length(number) BETWEEN 1 AND 60),
    created_by  text NOT NULL DEFAULT session_user,
    created_at  timestamptz NOT NULL DEFAULT now(),
    taken_at    timestamptz
);
CREATE INDEX screen_pop_user_idx ON screen_pop (user_id, created_at DESC);
ALTER TABLE screen_pop ENABLE ROW LEVEL SECURITY;
ALTER TABLE screen_pop FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON screen_pop TO {{roles}}_owner USING (true) WITH CHECK (true);
CREATE POLICY read ON screen_pop FOR SELECT TO {{roles}}_user
    USING (user_id = (SELECT current_app_user_id()));
CREATE POLICY take ON screen_pop FOR UPDATE TO {{roles}}_user
    USING (user_id = (SELECT current_app_user_id()))
    WITH CHECK (user_id = (SELECT current_app_user_id()));
REVOKE ALL ON screen_pop FROM PUBLIC;
GRANT SELECT, UPDATE (taken_at) ON screen_pop TO {{roles}}_user;

CREATE FUNCTION screen_pop(p_username text, p_number text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, {{schema}}, pg_temp AS $$
DECLARE
    uid bigint;
    rid bigint;
    n text := btrim(coalesce(p_number, ''));
BEGIN
    IF length(n) NOT BETWEEN 1 AND 60 OR n ~ '[\x01-\x1f\x7f]' THEN
        RAISE EXCEPTION 'the number must be 1 to 60 printable characters'
            USING ERRCODE = '22023', COLUMN = 'number';
    END IF;
    SELECT u.id INTO uid FROM app_user u
     WHERE u.username = p_username AND u.active AND u.deleted_at IS NULL;
    IF uid IS NULL THEN
        RAISE EXCEPTION 'no active user named %', p_username
            USING ERRCODE = 'P0002', COLUMN = 'user';
    END IF;
    INSERT INTO screen_pop (user_id, number) VALUES (uid, n) RETURNING id INTO rid;
    PERFORM pg_notify('{{schema}}', json_build_object('t', 'screen_pop', 'op', 'I', 'id', rid,
                                                       'a', NULL)::text);
    RETURN rid;
END
$$;
REVOKE ALL ON FUNCTION screen_pop(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION screen_pop(text, text) TO {{roles}}_admin, {{roles}}_telephony;

-- ---------------------------------------------------------------------------------------------
-- 3. Callbacks

CREATE TABLE callback (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id       bigint REFERENCES contact(id),
    account_id       bigint REFERENCES account(id),
    number           text CHECK (length(number) BETWEEN 1 AND 60),
    note             text CHECK (length(note) <= 2000),
    due_at           timestamptz NOT NULL,
    assignee_id      bigint REFERENCES app_user(id),  -- NULL: anyone who takes the queue
    requested_by     bigint REFERENCES app_user(id) DEFAULT current_app_user_id(),
    activity_id      bigint REFERENCES activity(id),   -- the call it was booked in
    claimed_by       bigint REFERENCES app_user(id),
    claimed_at       timestamptz,
    done_at          timestamptz,
    done_activity_id bigint REFERENCES activity(id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (contact_id IS NOT NULL OR number IS NOT NULL)
);
CREATE INDEX callback_queue_idx ON callback (due_at, id) WHERE done_at IS NULL;
CREATE INDEX callback_contact_idx ON callback (contact_id) WHERE done_at IS NULL;
ALTER TABLE callback ENABLE ROW LEVEL SECURITY;
ALTER TABLE callback FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON callback TO {{roles}}_owner USING (true) WITH CHECK (true);
-- Readable and workable: the contact must be readable, and the callback be the queue's (no
-- assignee), or assigned to the person or someone in their teams, or booked by them.
CREATE POLICY read ON callback FOR SELECT TO {{roles}}_user USING (
    (SELECT current_app_user_id()) IS NOT NULL
    AND (callback.contact_id IS NULL OR EXISTS (SELECT 1 FROM contact k WHERE k.id = callback.contact_id))
    AND ((SELECT sec_is_admin()) OR callback.assignee_id IS NULL
         OR callback.assignee_id = ANY ((SELECT sec_hier_user_ids())::bigint[])
         OR callback.requested_by = (SELECT current_app_user_id())));
CREATE POLICY add ON callback FOR INSERT TO {{roles}}_user WITH CHECK (
    callback.requested_by = (SELECT current_app_user_id())
    AND (callback.contact_id IS NULL OR EXISTS (SELECT 1 FROM contact k WHERE k.id = callback.contact_id)));
CREATE POLICY change ON callback FOR UPDATE TO {{roles}}_user USING (
    (callback.contact_id IS NULL OR EXISTS (SELECT 1 FROM contact k WHERE k.id = callback.contact_id))
    AND ((SELECT sec_is_admin()) OR callback.assignee_id IS NULL
         OR callback.assignee_id = ANY ((SELECT sec_hier_user_ids())::bigint[])
         OR callback.requested_by = (SELECT current_app_user_id())))
    WITH CHECK (true);
REVOKE ALL ON callback FROM PUBLIC;
GRANT SELECT, INSERT (contact_id, account_id, number, note, due_at, assignee_id, activity_id),
    UPDATE (claimed_by, claimed_at, done_at, done_activity_id, due_at, assignee_id, note)
    ON callback TO {{roles}}_user;

-- A claim names the person making it; nobody claims for someone else.
CREATE FUNCTION callback_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, {{schema}}, pg_temp AS $$
BEGIN
    IF NEW.claimed_by IS DISTINCT FROM OLD.claimed_by AND NEW.claimed_by IS NOT NULL
       AND NEW.claimed_by IS DISTINCT FROM current_app_user_id()
       AND NOT pg_has_role(session_user, '{{roles}}_owner', 'MEMBER') THEN
        RAISE EXCEPTION 'a callback is taken by the person who takes it'
            USING ERRCODE = '42501', COLUMN = 'claimed_by';
    END IF;
    IF NEW.claimed_by IS NOT NULL AND NEW.claimed_at IS NULL THEN
        NEW.claimed_at := now();
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER callback_guard BEFORE UPDATE ON callback FOR EACH ROW
    EXECUTE FUNCTION callback_guard();
CREATE TRIGGER callback_audit AFTER INSERT OR UPDATE OR DELETE ON callback
    FOR EACH ROW EXECUTE FUNCTION record_change();

-- ---------------------------------------------------------------------------------------------
-- 4. Case workflow and SLA

CREATE FUNCTION case_sla(p_priority text) RETURNS interval
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE p_priority WHEN 'urgent' THEN interval '4 hours'
                           WHEN 'high' THEN interval '8 hours'
                           WHEN 'low' THEN interval '72 hours'
                           ELSE interval '24 hours' END
$$;
GRANT EXECUTE ON FUNCTION case_sla(text) TO {{roles}}_user;

CREATE FUNCTION case_workflow() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, {{schema}}, pg_temp AS $$
DECLARE
    loading boolean;
BEGIN
    -- The installer (a member of the owner role) loads data as it was, in any status.
    loading := pg_has_role(session_user, '{{roles}}_owner', 'MEMBER');
    IF TG_OP = 'INSERT' THEN
        IF NEW.status NOT IN ('new', 'open') AND NOT loading THEN
            RAISE EXCEPTION 'a new case starts as new or open, not %', NEW.status
                USING ERRCODE = 'check_violation', COLUMN = 'status';
        END IF;
        IF NEW.due_at IS NULL THEN
            NEW.due_at := coalesce(NEW.created_at, now()) + case_sla(NEW.priority);
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF NOT loading AND NOT (OLD.status, NEW.status) IN (
            ('new', 'open'), ('new', 'waiting'), ('new', 'resolved'), ('new', 'closed'),
            ('open', 'waiting'), ('open', 'resolved'), ('open', 'closed'),
            ('waiting', 'open'), ('waiting', 'resolved'), ('waiting', 'closed'),
            ('resolved', 'open'), ('resolved', 'closed'), ('closed', 'open')) THEN
            RAISE EXCEPTION 'a case cannot go from % to %', OLD.status, NEW.status
                USING ERRCODE = 'check_violation', COLUMN = 'status';
        END IF;
        IF NEW.status IN ('resolved', 'closed') THEN
            NEW.closed_at := coalesce(NEW.closed_at, now());
        ELSE
            NEW.closed_at := NULL;
        END IF;
    END IF;
    IF NEW.priority IS DISTINCT FROM OLD.priority AND NEW.due_at IS NOT DISTINCT FROM OLD.due_at THEN
        NEW.due_at := OLD.created_at + case_sla(NEW.priority);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER case_workflow BEFORE INSERT OR UPDATE ON support_case FOR EACH ROW
    EXECUTE FUNCTION case_workflow();
CREATE INDEX support_case_open_due_idx ON support_case (due_at, id)
    WHERE status NOT IN ('resolved', 'closed') AND deleted_at IS NULL;
