-- 0012: the slow poll that covers lost change notices (issue 11 part 3, docs/live.md).
--
-- Notices are hints and can be lost: while the listening connection is down (reconnecting),
-- when the server's notice queue overflows, or when a client missed them for any other
-- reason. Every app polls change_mark() every ~10 s; when the mark moved and no notice came
-- since the previous poll, the app refreshes what it shows. Every change writes one audit_log
-- row (record_change(), 0002/0010), so the newest audit id is a global change counter; the
-- function reads it with one backward probe of the primary key.
--
-- What it tells a caller: how many changes the whole installation made (the audit id), not
-- which record nor what. Anyone logged in can already see that changes happen (any role may
-- LISTEN on the channel and receives every notice's table and id: docs/security.md); the
-- counter adds nothing a listener does not have. It is not LEAKPROOF and reads no row data.

SET LOCAL ROLE {{roles}}_owner;
SET LOCAL search_path = {{schema}}, public;

CREATE FUNCTION change_mark() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT l.id FROM {{schema}}.audit_log l ORDER BY l.id DESC LIMIT 1), 0)
$$;
REVOKE ALL ON FUNCTION change_mark() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION change_mark() TO {{roles}}_user;
