-- dtledger.reference_events(): the events of the reference streams (the
-- 'policy' and 'directory' streams: publications and their retractions), in
-- position order, with their type, data and recording time. What a writer's
-- runbook command or import needs to check an audience or resolve an actor
-- against the directory in force, without any SELECT on the ledger (the
-- reference data is published to everyone who records against it).
--
-- Called by:  dtledger_writer (EXECUTE; SECURITY DEFINER).
-- Raises:     nothing of its own.

CREATE OR REPLACE FUNCTION dtledger.reference_events()
RETURNS TABLE (event_position bigint, event_id uuid, case_id text, event_type text,
               recorded_micros bigint, data text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT e.position, e.id, e.case_id, e.type, (extract(epoch FROM e.recorded_at) * 1000000)::bigint, e.data::text
      FROM dtledger.events e
     WHERE e.case_id IN ('policy', 'directory')
     ORDER BY e.position
$$;

REVOKE ALL ON FUNCTION dtledger.reference_events() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dtledger.reference_events() TO dtledger_writer;
