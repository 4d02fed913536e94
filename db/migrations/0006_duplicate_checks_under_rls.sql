-- 0006: the duplicate checks at entry use their indexes under row-level security, and the
-- trash has its own (small) indexes.
--
-- Under RLS the planner may only use an index for a condition whose functions are LEAKPROOF
-- (they cannot reveal a hidden row through an error). lower() and pg_trgm's similarity
-- operator are not, so at 1M contacts "is this email already here?" read all 1.5M email rows
-- (9.7 s, as a rep) and "is there a company with a similar name?" all 100k accounts (0.5 s).
--
-- * Emails get a stored lower-case key, compared with plain `=` (texteq is LEAKPROOF), so the
--   btree index serves the check for everyone. It replaces the index on lower(email).
-- * Where the installer is a superuser, pg_trgm's `%` (similarity_op) is marked LEAKPROOF, as
--   DESIGN.md section 4 allows: it computes a number from two strings and raises no error that
--   depends on them. Then the trigram indexes serve name checks under RLS too. Without a
--   superuser the checks stay correct, only slower; `switchboard db status` cannot tell, so
--   docs/security.md says how to run this line by hand.

DO $leakproof$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        ALTER FUNCTION similarity_op(text, text) LEAKPROOF;
    ELSE
        RAISE NOTICE 'not a superuser: pg_trgm similarity_op stays non-LEAKPROOF (slower duplicate checks under RLS)';
    END IF;
END
$leakproof$;

SET LOCAL ROLE {{roles}}_owner;
SET LOCAL search_path = {{schema}}, public;

ALTER TABLE contact_email ADD COLUMN email_key text GENERATED ALWAYS AS (lower(email)) STORED;
CREATE INDEX contact_email_key_idx ON contact_email (email_key);
DROP INDEX contact_email_lower_idx;

-- The trash lists deleted rows newest first: a partial index holds only them (the whole table
-- was read for an empty trash: 0.46 s at 1M contacts).
CREATE INDEX account_trash_idx ON account (deleted_at DESC, id DESC) WHERE deleted_at IS NOT NULL;
CREATE INDEX contact_trash_idx ON contact (deleted_at DESC, id DESC) WHERE deleted_at IS NOT NULL;
CREATE INDEX contact_relationship_trash_idx ON contact_relationship (deleted_at DESC, id DESC)
    WHERE deleted_at IS NOT NULL;
