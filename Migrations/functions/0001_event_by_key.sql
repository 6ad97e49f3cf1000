-- dtledger.event_by_key(key): the event stored under an idempotency key,
-- as little of it as a writer needs to answer a retry without reading the
-- ledger: its case, type, position, version, id, hash (hex) and recording
-- time. No row when the key is unused. A runbook command that generated its
-- case id finds the case of its first attempt with it (a retry with the same
-- --key does not open a second case).
--
-- Called by:  dtledger_writer (EXECUTE; SECURITY DEFINER, so the writer
--             needs no SELECT on dtledger.events).
-- Raises:     nothing of its own.

CREATE OR REPLACE FUNCTION dtledger.event_by_key(p_key text)
RETURNS TABLE (case_id text, event_type text, event_position bigint, event_version bigint, event_id uuid,
               event_hash text, event_recorded_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT e.case_id, e.type, e.position, e.version, e.id, encode(e.hash, 'hex'), e.recorded_at
      FROM dtledger.events e
     WHERE e.idempotency_key = p_key
$$;

REVOKE ALL ON FUNCTION dtledger.event_by_key(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dtledger.event_by_key(text) TO dtledger_writer;
