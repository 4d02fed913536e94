-- 0014: writes replayed from the offline outbox are applied once (issue 11 part 4).
--
-- A write made while the database was unreachable waits in the client's outbox
-- (db/outbox.py, docs/outbox.md) with a UUID made by the client. Logging an activity is
-- idempotent already (activity.client_uuid is UNIQUE, 0001). Editing a contact and completing
-- or rescheduling a follow-up are not: replaying a completion after a lost COMMIT
-- acknowledgement would run the version-checked UPDATE again and fail as a conflict with the
-- person's own change. applied_write records the UUID in the same transaction as the change;
-- a replay finds it and skips the write.
--
-- A person sees and inserts only their own rows; nobody updates or deletes them (admins
-- included: the table is bookkeeping, purged by the owner only). It is not audited: the change
-- it stands beside is (record_change on the changed table), and a notice for it would only
-- wake every listener for nothing.

SET LOCAL ROLE {{roles}}_owner;
SET LOCAL search_path = {{schema}}, public;

CREATE TABLE applied_write (
    client_uuid uuid PRIMARY KEY,
    author_id   bigint NOT NULL REFERENCES app_user(id) DEFAULT current_app_user_id(),
    kind        text NOT NULL CHECK (kind IN ('edit_contact', 'complete_followup',
                                              'reschedule_followup', 'log_activity')),
    record_id   bigint,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE applied_write ENABLE ROW LEVEL SECURITY;
ALTER TABLE applied_write FORCE ROW LEVEL SECURITY;

CREATE POLICY read ON applied_write FOR SELECT TO {{roles}}_user
    USING (author_id = (SELECT current_app_user_id()));
CREATE POLICY write ON applied_write FOR INSERT TO {{roles}}_user
    WITH CHECK (author_id = (SELECT current_app_user_id()));

REVOKE ALL ON applied_write FROM PUBLIC;
GRANT SELECT, INSERT ON applied_write TO {{roles}}_user;
