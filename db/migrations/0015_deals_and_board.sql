-- 0015: deals and the pipeline board (issue 12 parts 1-3).
--
-- 1. Stages carry a "rotting" period (rotting_days, set by admins): a deal idle longer than
--    that in its stage is flagged on the board.
-- 2. A deal knows when it entered its stage (stage_entered_at, kept by the trigger below),
--    whether its probability was typed by a person (probability_manual) and its next step
--    (next_step, 500 characters at most). Older rows have no stage_entered_at: the board
--    reads coalesce(stage_entered_at, created_at), so nothing is rewritten here.
-- 3. The stage decides whether a deal is open, won or lost, in the database: a BEFORE trigger
--    derives is_closed, is_won, closed_at and forecast_category 'closed' from the stage, sets
--    the stage's probability on a move unless the person set one (won 100, lost 0 always), and
--    refuses a lost deal without a reason. psql cannot make an inconsistent deal either.
-- 4. A deal cannot be moved into a deleted stage (the trigger checks).
-- 5. Reps may write the new person-set columns of the deals RLS lets them change; nobody but
--    the trigger writes stage_entered_at (no UPDATE grant on it). Stages and pipelines stay
--    admin-written (0002). The audit/notice trigger record_change() covers both tables (0002).
-- 6. Indexes for the board under RLS (B6, docs/performance.md): the board index covers what the
--    aggregate and the read policy read; account (id) covers owner and team for every policy
--    that probes "is the account visible"; a deal's open follow-ups by due date.

SET LOCAL ROLE {{roles}}_owner;
SET LOCAL search_path = {{schema}}, public;

ALTER TABLE stage ADD COLUMN rotting_days smallint CHECK (rotting_days BETWEEN 1 AND 3650);
ALTER TABLE stage ADD CONSTRAINT stage_name_len CHECK (length(name) BETWEEN 1 AND 100) NOT VALID;
ALTER TABLE stage ADD CONSTRAINT stage_exit_criteria_len
    CHECK (exit_criteria IS NULL OR length(exit_criteria) <= 2000) NOT VALID;
ALTER TABLE pipeline ADD CONSTRAINT pipeline_name_len CHECK (length(name) BETWEEN 1 AND 100) NOT VALID;

ALTER TABLE opportunity ADD COLUMN stage_entered_at timestamptz;
ALTER TABLE opportunity ADD COLUMN probability_manual boolean NOT NULL DEFAULT false;
ALTER TABLE opportunity ADD COLUMN next_step text CHECK (length(next_step) <= 500);
ALTER TABLE opportunity ADD CONSTRAINT opportunity_lost_reason_len
    CHECK (lost_reason IS NULL OR length(lost_reason) <= 500) NOT VALID;

-- Default rotting periods of the seeded pipeline (admins change them).
UPDATE stage SET rotting_days = CASE position WHEN 1 THEN 14 WHEN 2 THEN 21 WHEN 3 THEN 14
                                              WHEN 4 THEN 10 END
 WHERE pipeline_id = (SELECT id FROM pipeline WHERE name = 'Sales') AND NOT is_won AND NOT is_lost;

CREATE FUNCTION deal_stage_rules() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s record;
    moved boolean := TG_OP = 'INSERT' OR NEW.stage_id IS DISTINCT FROM OLD.stage_id;
BEGIN
    SELECT st.probability, st.is_won, st.is_lost, st.deleted_at INTO s
      FROM {{schema}}.stage st WHERE st.id = NEW.stage_id;
    IF moved AND s.deleted_at IS NOT NULL THEN
        RAISE EXCEPTION 'that stage was deleted' USING ERRCODE = 'check_violation',
            COLUMN = 'stage_id';
    END IF;
    IF TG_OP = 'INSERT' THEN
        -- a deal loaded with its history (demo data, an import) entered its stage when it was
        -- made; never in the future
        NEW.stage_entered_at := least(coalesce(NEW.stage_entered_at, NEW.created_at, now()), now());
        IF NEW.probability IS NULL THEN
            NEW.probability := s.probability;
            NEW.probability_manual := false;
        END IF;
    ELSIF moved THEN
        NEW.stage_entered_at := now();
        IF NOT NEW.probability_manual AND NEW.probability IS NOT DISTINCT FROM OLD.probability THEN
            NEW.probability := s.probability;
        END IF;
    ELSE
        NEW.stage_entered_at := OLD.stage_entered_at;  -- only a move sets it
    END IF;
    IF s.is_won OR s.is_lost THEN
        IF s.is_lost AND coalesce(btrim(NEW.lost_reason), '') = '' THEN
            RAISE EXCEPTION 'a lost deal needs a reason' USING ERRCODE = 'check_violation',
                COLUMN = 'lost_reason';
        END IF;
        NEW.is_closed := true;
        NEW.is_won := s.is_won;
        NEW.probability := CASE WHEN s.is_won THEN 100 ELSE 0 END;
        NEW.forecast_category := 'closed';
        IF TG_OP = 'INSERT' OR NOT OLD.is_closed OR moved THEN
            NEW.closed_at := coalesce(CASE WHEN TG_OP = 'INSERT' THEN NEW.closed_at END, now());
        END IF;
        IF s.is_won THEN
            NEW.lost_reason := NULL;
        END IF;
    ELSE
        NEW.is_closed := false;
        NEW.is_won := false;
        NEW.closed_at := NULL;
        NEW.lost_reason := NULL;
        IF NEW.forecast_category = 'closed' THEN
            NEW.forecast_category := 'pipeline';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION deal_stage_rules() FROM PUBLIC;

CREATE TRIGGER opportunity_stage_rules BEFORE INSERT OR UPDATE ON opportunity
    FOR EACH ROW EXECUTE FUNCTION deal_stage_rules();

-- The board: open deals of a stage by amount (opportunity_board_idx, 0001), carrying every
-- column the per-stage aggregate, the cards and the read policy use, so both scans are
-- index-only where the visibility map allows (B6: 52 -> 42 ms for the aggregate of 20,000 deals
-- as a rep, docs/performance.md).
DROP INDEX opportunity_board_idx;
CREATE INDEX opportunity_board_idx ON opportunity (stage_id, amount DESC, id)
    INCLUDE (owner_id, team_id, account_id, probability, expected_close, created_at,
             stage_entered_at)
    WHERE NOT is_closed AND deleted_at IS NULL;
-- Every read policy that follows an account (contact, opportunity, support_case, document,
-- activity) probes account by id and judges its owner and team: covering them makes each probe
-- index-only (B6: 20,000 probes per board, ~10 % of the aggregate).
CREATE INDEX account_visibility_idx ON account (id) INCLUDE (owner_id, team_id);
-- Next activity of a deal: open follow-ups by due date.
CREATE INDEX activity_opportunity_due_idx ON activity (opportunity_id, due_at)
    WHERE opportunity_id IS NOT NULL AND completed_at IS NULL AND due_at IS NOT NULL;

-- People write what they type on the deals RLS lets them change, admins the stage's rotting
-- period: UPDATE is granted per column since 0009, so new columns are granted here. Nobody
-- gets stage_entered_at (the trigger keeps it).
GRANT UPDATE (probability_manual, next_step) ON opportunity
    TO {{roles}}_rep, {{roles}}_manager, {{roles}}_admin;
GRANT UPDATE (rotting_days) ON stage TO {{roles}}_admin;
