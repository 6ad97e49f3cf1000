-- dtledger.email_thread_cases(message_refs): for each given Message-ID (no
-- angle brackets; at most the first 1,000 are looked at), the case of the
-- email notification.sent stored with that message_ref, earliest first when
-- there are several, leaving out one that was retracted. No row for an id
-- no email notification carries. Only the ids given and their cases are
-- returned, never anything else of an event: what an `import email` run as
-- a writer needs to place a reply in its thread's case (docs/importers.md,
-- "Threads").
--
-- Called by:  dtledger_writer (EXECUTE; SECURITY DEFINER, so the writer
--             needs no SELECT on dtledger.events).
-- Raises:     nothing of its own.

CREATE OR REPLACE FUNCTION dtledger.email_thread_cases(p_message_refs text[])
RETURNS TABLE (message_ref text, case_id text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT DISTINCT ON (btrim(e.data->>'message_ref', '<> '))
           btrim(e.data->>'message_ref', '<> '), e.case_id
      FROM dtledger.events e
     WHERE e.type = 'notification.sent' AND e.data->>'channel' = 'email'
       AND btrim(e.data->>'message_ref', '<> ') = ANY (p_message_refs[1:1000])
       AND NOT EXISTS (SELECT 1 FROM dtledger.events r
                        WHERE r.type = 'event.retracted' AND r.case_id = e.case_id
                          AND r.data->>'event_id' = e.id::text)
     -- The imported message itself (source email) before anything typed
     -- with the same message_ref: a notification typed first with a real
     -- Message-ID cannot pull the thread's replies into another case.
     ORDER BY btrim(e.data->>'message_ref', '<> '), (e.source <> 'email'), e.position
$$;

REVOKE ALL ON FUNCTION dtledger.email_thread_cases(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dtledger.email_thread_cases(text[]) TO dtledger_writer;
