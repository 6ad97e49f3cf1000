-- dtledger.own_event(position): the whole stored event at a position, only
-- when the calling login recorded it (its metadata.db_role, which
-- dtledger.append sets to session_user, is this session's login): lets a
-- writer show what it just appended (or appended on a first attempt) without
-- any SELECT on the ledger, and nothing recorded by anyone else. The columns
-- are EventStore.columns' (timestamps as microseconds since 1970 UTC, jsonb
-- as text, hashes as hex).
--
-- Called by:  dtledger_writer (EXECUTE; SECURITY DEFINER).
-- Raises:     nothing of its own; no row for an event of another login.

CREATE OR REPLACE FUNCTION dtledger.own_event(p_position bigint)
RETURNS TABLE (event_position bigint, event_id uuid, case_id text, event_version bigint, event_type text,
               occurred_micros bigint, recorded_micros bigint, actor text, source text, idempotency_key text,
               data text, metadata text, previous_hash text, event_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT e.position, e.id, e.case_id, e.version, e.type,
           (extract(epoch FROM e.occurred_at) * 1000000)::bigint, (extract(epoch FROM e.recorded_at) * 1000000)::bigint,
           e.actor, e.source, e.idempotency_key, e.data::text, e.metadata::text,
           encode(e.previous_hash, 'hex'), encode(e.hash, 'hex')
      FROM dtledger.events e
     WHERE e.position = p_position AND e.metadata->>'db_role' = session_user::text
$$;

REVOKE ALL ON FUNCTION dtledger.own_event(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dtledger.own_event(bigint) TO dtledger_writer;
