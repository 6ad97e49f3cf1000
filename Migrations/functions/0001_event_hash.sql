-- dtledger.event_hash(previous, id, position, case, version, type,
-- occurred_at, recorded_at, actor, source, key, data, metadata): the hash
-- of one event in the chain, SHA-256 over the previous event's hash (32
-- zero bytes before the first event) followed by the event's canonical
-- bytes. The only place in SQL that builds the canonical bytes and hashes
-- them: dtledger.append and dtledger.append_many both call it.
--
-- The canonical bytes are the header "dtledger-event-v1" and each field as
-- "\n<byte length>:<text>" ("\n~" for a NULL key), in this order: id,
-- position, case, version, type, occurred_at and recorded_at (whole
-- microseconds since 1970-01-01 UTC), actor, source, key, data, metadata
-- (the server's text output of the jsonb values). Sources/Ledger/
-- ChainHash.swift builds the same bytes from the stored columns to verify
-- the chain without trusting this function. Changing anything here breaks
-- every stored hash: the format is versioned by its header.
--
-- A single-SELECT SQL function without SET or SECURITY DEFINER, so the
-- planner inlines it into the caller's expression (no call overhead).
-- Built with || and ::text casts rather than concat(), which looks up each
-- argument's output function on every call. Every field but the key is
-- NOT NULL in dtledger.events, so a NULL one (which makes the hash NULL)
-- is refused by the INSERT that follows.
--
-- Called by:  dtledger.append, dtledger.append_many (as the owner, inside
--             those SECURITY DEFINER functions); no EXECUTE for anyone else.
-- Raises:     nothing of its own.

CREATE OR REPLACE FUNCTION dtledger.event_hash(
    p_previous bytea, p_id uuid, p_position bigint, p_case text, p_version bigint, p_type text,
    p_occurred timestamptz, p_recorded timestamptz, p_actor text, p_source text, p_key text,
    p_data jsonb, p_metadata jsonb) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT sha256(p_previous || convert_to('dtledger-event-v1'
        || E'\n' || octet_length(p_id::text)::text || ':' || p_id::text
        || E'\n' || octet_length(p_position::text)::text || ':' || p_position::text
        || E'\n' || octet_length(p_case)::text || ':' || p_case
        || E'\n' || octet_length(p_version::text)::text || ':' || p_version::text
        || E'\n' || octet_length(p_type)::text || ':' || p_type
        || E'\n' || octet_length(((extract(epoch FROM p_occurred) * 1000000)::bigint)::text)::text || ':'
                  || ((extract(epoch FROM p_occurred) * 1000000)::bigint)::text
        || E'\n' || octet_length(((extract(epoch FROM p_recorded) * 1000000)::bigint)::text)::text || ':'
                  || ((extract(epoch FROM p_recorded) * 1000000)::bigint)::text
        || E'\n' || octet_length(p_actor)::text || ':' || p_actor
        || E'\n' || octet_length(p_source)::text || ':' || p_source
        || CASE WHEN p_key IS NULL THEN E'\n~' ELSE E'\n' || octet_length(p_key)::text || ':' || p_key END
        || E'\n' || octet_length(p_data::text)::text || ':' || p_data::text
        || E'\n' || octet_length(p_metadata::text)::text || ':' || p_metadata::text, 'UTF8'))
$$;

REVOKE ALL ON FUNCTION dtledger.event_hash(bytea, uuid, bigint, text, bigint, text, timestamptz, timestamptz,
                                           text, text, text, jsonb, jsonb) FROM PUBLIC;
