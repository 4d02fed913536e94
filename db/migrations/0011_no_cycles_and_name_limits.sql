-- 0011: saving never damages data (issue 9 part 5).
--
-- 1. The no-cycle rule holds under concurrency. account_tree_moved (0005, 0007) refuses a
--    move under the account's own sub-tree, but checked only committed state: two sessions
--    moving 1 under 17 and 17 under 1 at once each passed and both committed, a loop that
--    took both sub-trees out of the roots. Every move in this schema now takes one
--    transaction-level advisory lock before it checks, so the second mover waits for the
--    first to commit and then, in READ COMMITTED (the app's level: every statement takes a
--    new snapshot), sees it and is refused. Under REPEATABLE READ or SERIALIZABLE the
--    snapshot can be older than a move committed since; there the mover also share-locks its
--    new parent's ancestor chain, which fails with a serialization error (retry) when any
--    account on it changed since the snapshot. Moves are rare: serialising them costs nothing.
--
-- 2. Names have a maximum: account names 200 characters, a contact's first and last names 100
--    each, cities and countries 200 (db/services/validation.py says the same, in words, before
--    anything is sent). A 5,000-character name was accepted and pushed the delete dialog's keys
--    off screen. Rows already longer are cut to the limit with "…" first; the audit trigger
--    keeps the full old value in the record's history.

SET LOCAL ROLE {{schema}}_owner;
SET LOCAL search_path = {{schema}}, public;

CREATE OR REPLACE FUNCTION account_tree_moved() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {{schema}}, pg_temp AS $$
DECLARE
    subtree bigint[];
    outside bigint[];
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('{{schema}}:account.parent_id'));
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        PERFORM 1 FROM account a
         WHERE a.id IN (
            WITH RECURSIVE up(id, n) AS (
                SELECT NEW.parent_id, 1 WHERE NEW.parent_id IS NOT NULL
                UNION
                SELECT a.parent_id, up.n + 1 FROM account a JOIN up ON a.id = up.id
                 WHERE a.parent_id IS NOT NULL AND up.n < 100
            )
            SELECT id FROM up)
           FOR SHARE;
    END IF;
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

UPDATE account SET name = left(name, 199) || '…' WHERE length(name) > 200;
UPDATE account SET city = left(city, 199) || '…' WHERE length(city) > 200;
UPDATE account SET country = left(country, 199) || '…' WHERE length(country) > 200;
UPDATE contact SET first_name = left(first_name, 99) || '…' WHERE length(first_name) > 100;
UPDATE contact SET last_name = left(last_name, 99) || '…' WHERE length(last_name) > 100;
UPDATE contact SET city = left(city, 199) || '…' WHERE length(city) > 200;
UPDATE contact SET country = left(country, 199) || '…' WHERE length(country) > 200;

ALTER TABLE account
    ADD CONSTRAINT account_name_max CHECK (length(name) <= 200),
    ADD CONSTRAINT account_city_max CHECK (length(city) <= 200),
    ADD CONSTRAINT account_country_max CHECK (length(country) <= 200);
ALTER TABLE contact
    ADD CONSTRAINT contact_first_name_max CHECK (length(first_name) <= 100),
    ADD CONSTRAINT contact_last_name_max CHECK (length(last_name) <= 100),
    ADD CONSTRAINT contact_city_max CHECK (length(city) <= 200),
    ADD CONSTRAINT contact_country_max CHECK (length(country) <= 200);
