-- dtledger.append(case, expected, events, opening_types, tool_version):
-- appends a batch of events to one case, atomically, and returns one row
-- per input event in input order (id, position, version, hash as hex,
-- recorded_at, duplicate). See docs/ledger.md, "Appending".
--
--   p_case      the case (stream) id
--   p_expected  NULL = any version; 0 = the case must not exist yet; n = exact
--   p_events    JSON array of {type, occurred_at, actor, source, key?, data, metadata?}
--   p_opening   event types that may open a case that does not exist yet (NULL: no check)
--   p_tool      the appending tool's version, kept in metadata
--
-- Locks the head row until the transaction ends (positions are assigned
-- and committed strictly in order, without gaps). Events whose idempotency
-- key is already in the ledger are not appended: the stored original is
-- returned with duplicate = true; the expected version applies to the
-- events that are new. Each new event's hash comes from dtledger.event_hash,
-- as dtledger.append_many's do. The batch is walked by index and the
-- stream's row is read and advanced by one UPDATE ... RETURNING (rolled
-- back with the rest when a check refuses the batch): fewer statements per
-- single-event append.
--
-- Before anything is stored it refuses, for every caller (docs/ledger.md,
-- "What the append functions refuse"): data the readers could not decode
-- (dtledger.check_decodable: more than 1 MiB, nesting deeper than 256,
-- numbers beyond a double), an occurred_at more than 5 minutes ahead of the
-- database clock, and what dtledger.check_reference refuses for the
-- 'policy' and 'directory' streams (only dtledger_publisher publishes;
-- retroactive publications need a reason; a policy version once).
-- Waiting for the head lock is bounded (dtledger.append_lock_timeout ms,
-- default and at most 5000), and the transaction that holds it is ended by
-- the server once idle for dtledger.append_idle_timeout ms (default and at
-- most 30000; idle_in_transaction_session_timeout, until it ends). A
-- session may shorten either, never lengthen it.
--
-- Called by:  dtledger_writer (EXECUTE; SECURITY DEFINER, so the writer
--             needs no privilege on the tables).
-- Raises:     DTL00  not READ COMMITTED; nothing to append; a key twice in
--                    one batch; undecodable data; occurred_at in the future;
--                    a retroactive_reason that is not a non-blank text
--             DTL05  a retroactive publication without a reason
--             DTL06  a policy version already published
--             42501  not dtledger_publisher, for the reference streams
--             55P03  the head lock was not granted within the bound
--             DTL01  the case is not at the expected version
--             DTL03  the key was already used for another case or type
--             DTL04  the case does not exist and the first event does not
--                    open it
--             23514  a CHECK constraint of dtledger.events (0004)
-- Requires:   event_hash, lock_head

CREATE OR REPLACE FUNCTION dtledger.append(p_case text, p_expected bigint, p_events jsonb,
                                p_opening text[], p_tool text)
RETURNS TABLE (event_id uuid, event_position bigint, event_version bigint,
               event_hash text, event_recorded_at timestamptz, duplicate boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_head_position bigint;
    v_head_hash     bytea;
    v_version       bigint;
    v_opened        boolean;
    v_now           timestamptz;
    v_event         jsonb;
    v_key           text;
    v_existing      record;
    v_new           jsonb[] := '{}';
    v_keys          text[] := '{}';
    v_id            uuid;
    v_occurred      timestamptz;
    v_metadata      jsonb;
    v_hash          bytea;
    v_count         integer;
    v_type          text;
    v_err           text[];
    v_new_index     integer[] := '{}';
    r_id            uuid[] := '{}';
    r_position      bigint[] := '{}';
    r_version       bigint[] := '{}';
    r_hash          text[] := '{}';
    r_recorded      timestamptz[] := '{}';
    r_duplicate     boolean[] := '{}';
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'dtledger.append must run at READ COMMITTED isolation' USING ERRCODE = 'DTL00';
    END IF;
    IF jsonb_typeof(p_events) <> 'array' OR jsonb_array_length(p_events) = 0 THEN
        RAISE EXCEPTION 'nothing to append' USING ERRCODE = 'DTL00';
    END IF;

    -- What the readers could not decode, before taking the lock: nesting
    -- (a container 256 levels below an event's data or metadata) and
    -- numbers beyond a double; sizes are checked per event below.
    v_err := dtledger.undecodable(p_events);
    IF v_err IS NOT NULL THEN
        RAISE EXCEPTION '%', v_err[1]
            USING ERRCODE = 'DTL00';
    END IF;

    -- Serialise: the head row lock is held until this transaction ends,
    -- the wait for it and the idling while holding it bounded (lock_head).
    SELECT l.head_position, l.head_hash INTO v_head_position, v_head_hash FROM dtledger.lock_head() l;
    v_now := clock_timestamp();

    -- Replayed keys: keep the originals' results, append the rest. Results
    -- are returned in input order.
    v_count := jsonb_array_length(p_events);
    FOR v_index IN 1..v_count LOOP
        v_event := p_events->(v_index - 1);
        v_key := v_event->>'key';
        IF v_key IS NOT NULL THEN
            IF v_key = ANY (v_keys) THEN
                RAISE EXCEPTION 'idempotency key "%" appears twice in one batch', v_key USING ERRCODE = 'DTL00';
            END IF;
            v_keys := v_keys || v_key;
            SELECT e.id, e.position, e.version, e.hash, e.recorded_at, e.case_id, e.type
              INTO v_existing FROM dtledger.events e WHERE e.idempotency_key = v_key;
            IF FOUND THEN
                IF v_existing.case_id <> p_case OR v_existing.type <> v_event->>'type' THEN
                    RAISE EXCEPTION 'idempotency key "%" was already used for a % event of case %',
                        v_key, v_existing.type, v_existing.case_id USING ERRCODE = 'DTL03';
                END IF;
                r_id[v_index] := v_existing.id; r_position[v_index] := v_existing.position;
                r_version[v_index] := v_existing.version; r_hash[v_index] := encode(v_existing.hash, 'hex');
                r_recorded[v_index] := v_existing.recorded_at; r_duplicate[v_index] := true;
                CONTINUE;
            END IF;
        END IF;
        v_new := v_new || v_event;
        v_new_index := v_new_index || v_index;
    END LOOP;

    IF cardinality(v_new) = 0 THEN
        FOR i IN 1..v_count LOOP
            event_id := r_id[i]; event_position := r_position[i]; event_version := r_version[i];
            event_hash := r_hash[i]; event_recorded_at := r_recorded[i]; duplicate := true;
            RETURN NEXT;
        END LOOP;
        RETURN;
    END IF;

    -- The stream's version before this batch, and its new head, in one statement.
    UPDATE dtledger.streams s SET version = s.version + cardinality(v_new),
                                  last_position = v_head_position + cardinality(v_new)
     WHERE s.case_id = p_case
    RETURNING s.version - cardinality(v_new) INTO v_version;
    v_opened := FOUND;
    IF NOT v_opened THEN
        v_version := 0;
    END IF;
    IF p_expected IS NOT NULL AND p_expected <> v_version THEN
        RAISE EXCEPTION 'case % is at version %, expected %', p_case, v_version, p_expected
            USING ERRCODE = 'DTL01';
    END IF;
    IF NOT v_opened AND p_opening IS NOT NULL AND NOT ((v_new[1]->>'type') = ANY (p_opening)) THEN
        RAISE EXCEPTION 'case % was never opened: its first event must be one of %', p_case,
            array_to_string(p_opening, ', ') USING ERRCODE = 'DTL04';
    END IF;

    FOR j IN 1..cardinality(v_new) LOOP
        v_event := v_new[j];
        v_type := v_event->>'type';
        v_occurred := (v_event->>'occurred_at')::timestamptz;
        IF v_occurred > v_now + interval '5 minutes' THEN
            RAISE EXCEPTION 'occurred_at % is more than 5 minutes in the future (the database clock says %)',
                to_char(v_occurred AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                to_char(v_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') USING ERRCODE = 'DTL00';
        END IF;
        -- pg_column_size of the extracted event is its binary size; only a
        -- large event can have more than 1 MiB of data text.
        IF pg_column_size(v_event) > 131072 THEN
            v_err := dtledger.check_decodable(jsonb_build_array(v_event));
            IF v_err IS NOT NULL THEN
                RAISE EXCEPTION '%', replace(v_err[1], 'of event 1', 'of event ' || v_new_index[j]) USING ERRCODE = 'DTL00';
            END IF;
        END IF;
        IF p_case IN ('policy', 'directory') OR v_type IN ('policy.published', 'directory.published', 'event.retracted') THEN
            v_err := dtledger.check_reference(p_case, v_event, v_now);
            IF v_err IS NOT NULL THEN
                RAISE EXCEPTION '%', v_err[2] USING ERRCODE = v_err[1];
            END IF;
        END IF;
        v_head_position := v_head_position + 1;
        v_version := v_version + 1;
        v_id := gen_random_uuid();
        v_metadata := coalesce(v_event->'metadata', '{}'::jsonb) || jsonb_build_object(
            'db_role', session_user::text,
            'client_addr', coalesce(host(inet_client_addr()), 'local'),
            'application_name', current_setting('application_name'),
            'tool_version', p_tool);
        v_hash := dtledger.event_hash(v_head_hash, v_id, v_head_position, p_case, v_version, v_type,
                                      v_occurred, v_now, v_event->>'actor', v_event->>'source', v_event->>'key',
                                      v_event->'data', v_metadata);
        INSERT INTO dtledger.events (position, id, case_id, version, type, occurred_at, recorded_at,
                                     actor, source, idempotency_key, data, metadata, previous_hash, hash)
        VALUES (v_head_position, v_id, p_case, v_version, v_type, v_occurred, v_now,
                v_event->>'actor', v_event->>'source', v_event->>'key', v_event->'data', v_metadata,
                v_head_hash, v_hash);
        v_head_hash := v_hash;
        r_id[v_new_index[j]] := v_id; r_position[v_new_index[j]] := v_head_position;
        r_version[v_new_index[j]] := v_version; r_hash[v_new_index[j]] := encode(v_hash, 'hex');
        r_recorded[v_new_index[j]] := v_now; r_duplicate[v_new_index[j]] := false;
    END LOOP;

    IF NOT v_opened THEN
        INSERT INTO dtledger.streams (case_id, version, opened_type, opened_at, last_position)
        VALUES (p_case, v_version, v_new[1]->>'type', (v_new[1]->>'occurred_at')::timestamptz, v_head_position);
    END IF;
    UPDATE dtledger.head SET position = v_head_position, hash = v_head_hash WHERE singleton;
    PERFORM pg_notify('dtledger_events', v_head_position::text);

    FOR i IN 1..v_count LOOP
        event_id := r_id[i]; event_position := r_position[i]; event_version := r_version[i];
        event_hash := r_hash[i]; event_recorded_at := r_recorded[i]; duplicate := r_duplicate[i];
        RETURN NEXT;
    END LOOP;
END;
$$;

REVOKE ALL ON FUNCTION dtledger.append(text, bigint, jsonb, text[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dtledger.append(text, bigint, jsonb, text[], text) TO dtledger_writer;
