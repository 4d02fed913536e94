-- 0005: the timeline of an account with all its sub-accounts in one index range, whatever
-- the size of the tree.
--
-- Until now that timeline walked the tree (1,501 accounts for the biggest holding at the
-- benchmark scale) and probed the activity index once per account: ~10 ms of index probes and
-- policy checks before the first row, growing with the tree. activity_tree holds, for every
-- activity on an account that has a parent, one row per *proper* ancestor of that account
-- (the activity's own account is already indexed on activity), while that account is not in
-- the trash (a trashed sub-account's activities leave its ancestors' timelines, as the
-- sub-account leaves the tree, and come back with it). The timeline of account X with
-- its sub-accounts is then two index-ordered streams merged: activity by account_id = X and
-- activity_tree by ancestor_id = X. About a third of the activities get rows (1.66M at the
-- benchmark scale, most accounts being roots or one level down).
--
-- Kept right by triggers (SECURITY DEFINER, as the owner): an activity inserted or moved to
-- another account or time; an account moved to another parent (its whole subtree's activities
-- swap their outside ancestors); an account trashed or restored. Purges cascade. activity_tree_rebuild() recomputes it all (the
-- demo loader uses it after a bulk load that skips triggers).
--
-- Security: people may read a row only when they may read its activity (the same policy, by a
-- lookup), so it tells nobody about activities they cannot see. Nobody writes it but triggers.

SET LOCAL ROLE {{roles}}_owner;
SET LOCAL search_path = {{schema}}, public;

CREATE TABLE activity_tree (
    ancestor_id  bigint NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    occurred_at  timestamptz NOT NULL,
    activity_id  bigint NOT NULL REFERENCES activity(id) ON DELETE CASCADE,
    PRIMARY KEY (ancestor_id, occurred_at, activity_id)
);
CREATE INDEX activity_tree_activity_idx ON activity_tree (activity_id);

ALTER TABLE activity_tree ENABLE ROW LEVEL SECURITY;
ALTER TABLE activity_tree FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON activity_tree TO {{roles}}_owner USING (true) WITH CHECK (true);
-- A scalar sub-select, not EXISTS: one primary-key lookup (and activity policy check) per row
-- read, never a hashed scan of every visible activity (see 0003).
CREATE POLICY read ON activity_tree FOR SELECT TO {{roles}}_user USING (
    coalesce((SELECT true FROM activity x WHERE x.id = activity_tree.activity_id), false)
);
GRANT SELECT ON activity_tree TO {{roles}}_user;

-- The rows of one activity: one per proper ancestor of its account.
CREATE FUNCTION activity_tree_sync() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {{schema}}, pg_temp AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.account_id IS NOT DISTINCT FROM OLD.account_id THEN
            IF NEW.occurred_at IS DISTINCT FROM OLD.occurred_at THEN
                UPDATE activity_tree SET occurred_at = NEW.occurred_at
                 WHERE activity_id = NEW.id;
            END IF;
            RETURN NULL;
        END IF;
        DELETE FROM activity_tree WHERE activity_id = OLD.id;
    END IF;
    IF NEW.account_id IS NOT NULL THEN
        INSERT INTO activity_tree (ancestor_id, occurred_at, activity_id)
        WITH RECURSIVE up(id, n) AS (
            SELECT a.parent_id, 1 FROM account a
             WHERE a.id = NEW.account_id AND a.parent_id IS NOT NULL AND a.deleted_at IS NULL
            UNION
            SELECT a.parent_id, up.n + 1 FROM account a JOIN up ON a.id = up.id
             WHERE a.parent_id IS NOT NULL AND up.n < 100
        )
        SELECT DISTINCT id, NEW.occurred_at, NEW.id FROM up;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION activity_tree_sync() FROM PUBLIC;
CREATE TRIGGER activity_tree_sync AFTER INSERT OR UPDATE OF account_id, occurred_at
    ON activity FOR EACH ROW EXECUTE FUNCTION activity_tree_sync();

-- An account moved under another parent: every activity in its subtree keeps the ancestors
-- inside the subtree and gets the new outside ones. Moving an account under its own
-- sub-account would make a loop: refused.
CREATE FUNCTION account_tree_moved() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {{schema}}, pg_temp AS $$
DECLARE
    subtree bigint[];
    outside bigint[];
BEGIN
    WITH RECURSIVE sub(id) AS (
        SELECT NEW.id
        UNION
        SELECT a.id FROM account a JOIN sub ON a.parent_id = sub.id
    )
    SELECT array_agg(id) INTO subtree FROM sub;
    IF NEW.parent_id = ANY (subtree) THEN
        RAISE EXCEPTION 'an account cannot be moved under its own sub-account'
            USING ERRCODE = 'check_violation', COLUMN = 'parent_id';
    END IF;
    WITH RECURSIVE up(id, n) AS (
        SELECT NEW.parent_id, 1 WHERE NEW.parent_id IS NOT NULL
        UNION
        SELECT a.parent_id, up.n + 1 FROM account a JOIN up ON a.id = up.id
         WHERE a.parent_id IS NOT NULL AND up.n < 100
    )
    SELECT coalesce(array_agg(DISTINCT id), '{}') INTO outside FROM up;
    DELETE FROM activity_tree t USING activity x
     WHERE x.account_id = ANY (subtree) AND t.activity_id = x.id
       AND NOT (t.ancestor_id = ANY (subtree));
    INSERT INTO activity_tree (ancestor_id, occurred_at, activity_id)
    SELECT o, x.occurred_at, x.id
      FROM activity x JOIN account a ON a.id = x.account_id CROSS JOIN unnest(outside) o
     WHERE x.account_id = ANY (subtree) AND a.deleted_at IS NULL;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION account_tree_moved() FROM PUBLIC;
CREATE TRIGGER account_tree_moved AFTER UPDATE OF parent_id ON account FOR EACH ROW
    WHEN (NEW.parent_id IS DISTINCT FROM OLD.parent_id) EXECUTE FUNCTION account_tree_moved();

-- An account trashed: its activities leave its ancestors' timelines; restored: they return.
CREATE FUNCTION account_tree_trashed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {{schema}}, pg_temp AS $$
BEGIN
    IF NEW.deleted_at IS NOT NULL THEN
        DELETE FROM activity_tree t USING activity x
         WHERE x.account_id = NEW.id AND t.activity_id = x.id;
    ELSIF NEW.parent_id IS NOT NULL THEN
        INSERT INTO activity_tree (ancestor_id, occurred_at, activity_id)
        WITH RECURSIVE up(id, n) AS (
            SELECT NEW.parent_id, 1
            UNION
            SELECT a.parent_id, up.n + 1 FROM account a JOIN up ON a.id = up.id
             WHERE a.parent_id IS NOT NULL AND up.n < 100
        )
        SELECT DISTINCT up.id, x.occurred_at, x.id FROM activity x CROSS JOIN up
         WHERE x.account_id = NEW.id
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION account_tree_trashed() FROM PUBLIC;
CREATE TRIGGER account_tree_trashed AFTER UPDATE OF deleted_at ON account FOR EACH ROW
    WHEN ((NEW.deleted_at IS NULL) <> (OLD.deleted_at IS NULL))
    EXECUTE FUNCTION account_tree_trashed();

-- Recompute every row (set-based); returns how many there are.
CREATE FUNCTION activity_tree_rebuild() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {{schema}}, pg_temp AS $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM activity_tree;
    INSERT INTO activity_tree (ancestor_id, occurred_at, activity_id)
    WITH RECURSIVE anc(account_id, ancestor_id, n) AS (
        SELECT id, parent_id, 1 FROM account WHERE parent_id IS NOT NULL AND deleted_at IS NULL
        UNION
        SELECT anc.account_id, a.parent_id, anc.n + 1
          FROM anc JOIN account a ON a.id = anc.ancestor_id
         WHERE a.parent_id IS NOT NULL AND anc.n < 100
    )
    SELECT anc.ancestor_id, x.occurred_at, x.id
      FROM (SELECT DISTINCT account_id, ancestor_id FROM anc) anc
      JOIN activity x ON x.account_id = anc.account_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
REVOKE ALL ON FUNCTION activity_tree_rebuild() FROM PUBLIC;

SELECT activity_tree_rebuild();
