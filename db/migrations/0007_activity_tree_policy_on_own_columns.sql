-- 0007: activity_tree answers "may I read this activity?" from its own columns.
--
-- In 0005 a row of activity_tree was visible when a lookup of its activity was: for every row
-- the sub-account stream of a timeline read, PostgreSQL probed activity, ran the activity
-- policy on it (which probes the account and runs the account policy), and then did it all
-- again for the join to activity that fetches the columns. The rows now carry the three
-- columns of their activity that the activity policy reads (its account, author and
-- assignee), and the policy is the activity policy's own rule on them, minus the branches for
-- activities without an account, which never have rows here. Who sees which row is unchanged;
-- tests/security compares, person by person, the rows of activity_tree one may read with the
-- activities one may read. Measured in docs/performance.md (B5).
--
-- The triggers of 0005 keep the new columns: an activity given to someone else (or moved in
-- time) updates its rows in place; every insert path copies them. The table is rebuilt once
-- here: about a minute for the 1.66M rows of the benchmark scale (1M contacts).

SET LOCAL ROLE {{roles}}_owner;
SET LOCAL search_path = {{schema}}, public;

ALTER TABLE activity_tree
    ADD COLUMN account_id  bigint,
    ADD COLUMN author_id   bigint,
    ADD COLUMN assignee_id bigint;

-- The rows of one activity: one per proper ancestor of its account.
CREATE OR REPLACE FUNCTION activity_tree_sync() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {{schema}}, pg_temp AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.account_id IS NOT DISTINCT FROM OLD.account_id THEN
            IF (NEW.occurred_at, NEW.author_id, NEW.assignee_id)
               IS DISTINCT FROM (OLD.occurred_at, OLD.author_id, OLD.assignee_id) THEN
                UPDATE activity_tree SET occurred_at = NEW.occurred_at,
                       author_id = NEW.author_id, assignee_id = NEW.assignee_id
                 WHERE activity_id = NEW.id;
            END IF;
            RETURN NULL;
        END IF;
        DELETE FROM activity_tree WHERE activity_id = OLD.id;
    END IF;
    IF NEW.account_id IS NOT NULL THEN
        INSERT INTO activity_tree
               (ancestor_id, occurred_at, activity_id, account_id, author_id, assignee_id)
        WITH RECURSIVE up(id, n) AS (
            SELECT a.parent_id, 1 FROM account a
             WHERE a.id = NEW.account_id AND a.parent_id IS NOT NULL AND a.deleted_at IS NULL
            UNION
            SELECT a.parent_id, up.n + 1 FROM account a JOIN up ON a.id = up.id
             WHERE a.parent_id IS NOT NULL AND up.n < 100
        )
        SELECT DISTINCT id, NEW.occurred_at, NEW.id, NEW.account_id, NEW.author_id,
               NEW.assignee_id
          FROM up;
    END IF;
    RETURN NULL;
END
$$;
DROP TRIGGER activity_tree_sync ON activity;
CREATE TRIGGER activity_tree_sync
    AFTER INSERT OR UPDATE OF account_id, occurred_at, author_id, assignee_id
    ON activity FOR EACH ROW EXECUTE FUNCTION activity_tree_sync();

-- An account moved under another parent: every activity in its subtree keeps the ancestors
-- inside the subtree and gets the new outside ones. Moving an account under its own
-- sub-account would make a loop: refused.
CREATE OR REPLACE FUNCTION account_tree_moved() RETURNS trigger
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
    INSERT INTO activity_tree
           (ancestor_id, occurred_at, activity_id, account_id, author_id, assignee_id)
    SELECT o, x.occurred_at, x.id, x.account_id, x.author_id, x.assignee_id
      FROM activity x JOIN account a ON a.id = x.account_id CROSS JOIN unnest(outside) o
     WHERE x.account_id = ANY (subtree) AND a.deleted_at IS NULL;
    RETURN NULL;
END
$$;

-- An account trashed: its activities leave its ancestors' timelines; restored: they return.
CREATE OR REPLACE FUNCTION account_tree_trashed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {{schema}}, pg_temp AS $$
BEGIN
    IF NEW.deleted_at IS NOT NULL THEN
        DELETE FROM activity_tree t USING activity x
         WHERE x.account_id = NEW.id AND t.activity_id = x.id;
    ELSIF NEW.parent_id IS NOT NULL THEN
        INSERT INTO activity_tree
               (ancestor_id, occurred_at, activity_id, account_id, author_id, assignee_id)
        WITH RECURSIVE up(id, n) AS (
            SELECT NEW.parent_id, 1
            UNION
            SELECT a.parent_id, up.n + 1 FROM account a JOIN up ON a.id = up.id
             WHERE a.parent_id IS NOT NULL AND up.n < 100
        )
        SELECT DISTINCT up.id, x.occurred_at, x.id, x.account_id, x.author_id, x.assignee_id
          FROM activity x CROSS JOIN up
         WHERE x.account_id = NEW.id
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

-- Recompute every row (set-based); returns how many there are.
CREATE OR REPLACE FUNCTION activity_tree_rebuild() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {{schema}}, pg_temp AS $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM activity_tree;
    INSERT INTO activity_tree
           (ancestor_id, occurred_at, activity_id, account_id, author_id, assignee_id)
    WITH RECURSIVE anc(account_id, ancestor_id, n) AS (
        SELECT id, parent_id, 1 FROM account WHERE parent_id IS NOT NULL AND deleted_at IS NULL
        UNION
        SELECT anc.account_id, a.parent_id, anc.n + 1
          FROM anc JOIN account a ON a.id = anc.ancestor_id
         WHERE a.parent_id IS NOT NULL AND anc.n < 100
    )
    SELECT anc.ancestor_id, x.occurred_at, x.id, x.account_id, x.author_id, x.assignee_id
      FROM (SELECT DISTINCT account_id, ancestor_id FROM anc) anc
      JOIN activity x ON x.account_id = anc.account_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

SELECT activity_tree_rebuild();
ALTER TABLE activity_tree ALTER COLUMN account_id SET NOT NULL;

-- The activity policy (0003) on the row's own columns. Its branches for activities without an
-- account (reached through their contact, or the organisation's default) do not apply: such
-- activities have no rows here.
ALTER POLICY read ON activity_tree USING (
    (SELECT sec_is_admin())
    OR activity_tree.author_id = ANY ((SELECT sec_hier_user_ids())::bigint[])
    OR activity_tree.assignee_id = (SELECT current_app_user_id())
    OR coalesce((SELECT true FROM account a WHERE a.id = activity_tree.account_id), false)
);
