-- 0016: forecast adjustments (issue 12 part 4; docs/forecast.md).
--
-- A manager may put their own figure beside a rep's forecast figure for a period and a category,
-- as collaborative forecasts do. Every adjustment is a new row: the history is kept, the latest
-- one is shown beside the rep's own figure with who made it and when. Who and when are set by
-- the database (session_user, now()), never taken from the client.
--
-- Rules, enforced here and attacked with raw SQL in tests/db/test_forecast.py:
--   * read: admins all; a person their own adjustments; managers those of the people in the
--     teams they manage (recursively, sec_hier_user_ids()).
--   * write (INSERT only): admins for anyone; managers for people in the teams they manage
--     (recursively, sec_hier_team_ids()), never for themselves; nobody else (reps and agents
--     hold no INSERT privilege at all).
--   * nobody updates or deletes an adjustment (append-only history); the audit trigger
--     record_change() logs every row and sends the usual change notice.

SET LOCAL ROLE {{roles}}_owner;
SET LOCAL search_path = {{schema}}, public;

CREATE TABLE forecast_adjustment (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period_kind  text NOT NULL CHECK (period_kind IN ('month', 'quarter')),
    period_start date NOT NULL,
    user_id      bigint NOT NULL REFERENCES app_user(id),
    category     text NOT NULL CHECK (category IN ('commit', 'best_case', 'pipeline')),
    amount       numeric(18, 2) NOT NULL CHECK (amount >= 0 AND amount < 1e15),
    currency     char(3) NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    note         text CHECK (length(note) <= 500),
    adjusted_by  bigint NOT NULL REFERENCES app_user(id),
    adjusted_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (period_start = date_trunc('month', period_start)::date),
    CHECK (period_kind = 'month' OR extract(month FROM period_start) IN (1, 4, 7, 10))
);
CREATE INDEX forecast_adjustment_latest_idx
    ON forecast_adjustment (period_kind, period_start, user_id, category, currency,
                            adjusted_at DESC, id DESC);

-- Who and when come from the session, whatever the client sent.
CREATE FUNCTION forecast_adjustment_stamp() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    NEW.adjusted_by := {{schema}}.current_app_user_id();
    NEW.adjusted_at := now();
    IF NEW.adjusted_by IS NULL THEN
        RAISE EXCEPTION 'only an active person of this installation may adjust a forecast'
            USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION forecast_adjustment_stamp() FROM PUBLIC;
CREATE TRIGGER forecast_adjustment_stamp BEFORE INSERT ON forecast_adjustment
    FOR EACH ROW EXECUTE FUNCTION forecast_adjustment_stamp();
CREATE TRIGGER forecast_adjustment_audit AFTER INSERT OR UPDATE OR DELETE ON forecast_adjustment
    FOR EACH ROW EXECUTE FUNCTION record_change();

ALTER TABLE forecast_adjustment ENABLE ROW LEVEL SECURITY;
ALTER TABLE forecast_adjustment FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON forecast_adjustment TO {{roles}}_owner USING (true) WITH CHECK (true);
CREATE POLICY read ON forecast_adjustment FOR SELECT TO {{roles}}_user USING (
    (SELECT sec_is_admin())
    OR forecast_adjustment.user_id = ANY ((SELECT sec_hier_user_ids())::bigint[])
);
CREATE POLICY add ON forecast_adjustment FOR INSERT TO {{roles}}_user WITH CHECK (
    (SELECT sec_is_admin())
    OR ((SELECT sec_role()) = 'manager'
        AND forecast_adjustment.user_id <> (SELECT current_app_user_id())
        AND forecast_adjustment.user_id IN (
            SELECT u.id FROM app_user u
             WHERE u.team_id = ANY ((SELECT sec_hier_team_ids())::bigint[])))
);

REVOKE ALL ON forecast_adjustment FROM PUBLIC;
GRANT SELECT ON forecast_adjustment TO {{roles}}_rep, {{roles}}_manager, {{roles}}_admin;
GRANT INSERT (period_kind, period_start, user_id, category, amount, currency, note)
    ON forecast_adjustment TO {{roles}}_manager, {{roles}}_admin;

-- The forecast and the KPIs read open deals by close date and won or lost deals by the day they
-- closed; a period is a range of either.
CREATE INDEX opportunity_open_close_idx ON opportunity (expected_close)
    WHERE NOT is_closed AND deleted_at IS NULL;
CREATE INDEX opportunity_closed_at_idx ON opportunity (closed_at)
    WHERE is_closed AND deleted_at IS NULL;
-- ... and, for a rep or a manager (a list of owners), by owner first.
CREATE INDEX opportunity_owner_open_close_idx ON opportunity (owner_id, expected_close)
    WHERE NOT is_closed AND deleted_at IS NULL;
CREATE INDEX opportunity_owner_closed_at_idx ON opportunity (owner_id, closed_at)
    WHERE is_closed AND deleted_at IS NULL;

-- KPIs: what the reps of the caller's scope logged in a period, counted from an index alone.
-- Under row-level security every counted row pays the activity policy and a heap visit (0.5 s
-- for a manager's quarter at 5M activities). The function counts exactly the rows the policy
-- would let through: its scope is the reps among sec_hier_user_ids() (or everyone, for admins),
-- and the activity read policy (0002) shows every activity whose author is in
-- sec_hier_user_ids() to that person. It returns counts only, never rows.
CREATE INDEX activity_author_kpi_idx ON activity (author_id, occurred_at)
    INCLUDE (kind, outcome, id) WHERE deleted_at IS NULL;

-- Overdue follow-ups stay under row-level security (the policy's other arms matter there); an
-- index holding every column the policy reads lets them be counted from the index alone
-- (35k overdue at scale 1.0: 440 ms through the heap, 18 ms from this index).
CREATE INDEX activity_overdue_kpi_idx ON activity (assignee_id, due_at)
    INCLUDE (author_id, account_id, contact_id)
    WHERE completed_at IS NULL AND due_at IS NOT NULL AND deleted_at IS NULL;

CREATE FUNCTION kpi_rep_activity(p_start timestamptz, p_until timestamptz)
RETURNS TABLE (is_call boolean, outcome text, n bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    admin boolean := {{schema}}.sec_is_admin();
    scope bigint[] := {{schema}}.sec_hier_user_ids();
BEGIN
    IF {{schema}}.current_app_user_id() IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT a.kind = 'call', coalesce(a.outcome, 'none'), count(*)
      FROM {{schema}}.app_user u
      JOIN {{schema}}.activity a ON a.author_id = u.id AND a.deleted_at IS NULL
                                 AND a.occurred_at >= p_start AND a.occurred_at < p_until
     WHERE u.active AND u.deleted_at IS NULL AND u.role = 'rep'
       AND (admin OR u.id = ANY (scope))
     GROUP BY 1, 2;
END
$$;
REVOKE ALL ON FUNCTION kpi_rep_activity(timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kpi_rep_activity(timestamptz, timestamptz)
    TO {{roles}}_rep, {{roles}}_manager, {{roles}}_admin;

-- The ids of one drill-down page of those activities (all kinds, or the calls of one outcome),
-- newest id first, below `p_after`. Same scope as kpi_rep_activity; the caller then reads the
-- rows by id under row-level security as usual. Through RLS alone the page walked the primary
-- key or the author index with a heap visit per activity (0.7-5 s for a manager at 1.0).
CREATE FUNCTION kpi_rep_activity_page(p_start timestamptz, p_until timestamptz,
                                      p_outcome text, p_after bigint, p_limit integer)
RETURNS SETOF bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    admin boolean := {{schema}}.sec_is_admin();
    scope bigint[] := {{schema}}.sec_hier_user_ids();
BEGIN
    IF {{schema}}.current_app_user_id() IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT a.id
      FROM {{schema}}.app_user u
      JOIN {{schema}}.activity a ON a.author_id = u.id AND a.deleted_at IS NULL
                                 AND a.occurred_at >= p_start AND a.occurred_at < p_until
     WHERE u.active AND u.deleted_at IS NULL AND u.role = 'rep'
       AND (admin OR u.id = ANY (scope))
       AND (p_outcome IS NULL OR (a.kind = 'call' AND coalesce(a.outcome, 'none') = p_outcome))
       AND (p_after IS NULL OR a.id < p_after)
     ORDER BY a.id DESC
     LIMIT least(greatest(p_limit, 0), 1000);
END
$$;
REVOKE ALL ON FUNCTION kpi_rep_activity_page(timestamptz, timestamptz, text, bigint, integer)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kpi_rep_activity_page(timestamptz, timestamptz, text, bigint, integer)
    TO {{roles}}_rep, {{roles}}_manager, {{roles}}_admin;
