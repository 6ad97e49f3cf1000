-- dtledger.append_many(events, opening_types, tool_version): set-based
-- append of many events across many cases in one call (file imports,
-- `append --file`). Same guarantees as dtledger.append: one head-row lock
-- held until the transaction ends, gap-free positions, the same hash per
-- event (dtledger.event_hash), idempotency keys, "case never opened", the
-- CHECK constraints of dtledger.events. Differences: no expected version
-- (imports append at whatever version each case is), and a key repeated
-- inside one call for the same case and type is a replay of its first
-- occurrence (dtledger.append refuses it within one batch). Each stage
-- gathers one array of a composite type (dtledger.append_item,
-- dtledger.append_row), sorted once. See docs/ledger.md, "Appending many
-- events".
--
--   p_events   JSON array of {case, type, occurred_at, actor, source, key?, data, metadata?}
--   p_opening  event types that may open a case that does not exist yet (NULL: no check)
--   p_tool     the appending tool's version, kept in metadata
-- Returns one row: how many events were appended, how many were replays of
-- stored keys (or of a key earlier in the call), and the positions appended.
-- Refusals name the offending element in DETAIL as "item N" (1-based), so a
-- client can point at the line it came from.
--
-- It refuses what dtledger.append refuses (undecodable data, an
-- occurred_at more than 5 minutes ahead, the rules of the reference
-- streams), with DETAIL "item N", and bounds the head-lock wait and the
-- idle time after it in the same way (see 0001_append.sql).
--
-- Called by:  dtledger_writer (EXECUTE; SECURITY DEFINER).
-- Raises:     DTL00  not READ COMMITTED; nothing to append; undecodable
--                    data; occurred_at in the future; a retroactive_reason
--                    that is not a non-blank text; DETAIL "item N"
--             DTL05  a retroactive publication without a reason; "item N"
--             DTL06  a policy version already published; "item N"
--             42501  not dtledger_publisher, for the reference streams
--             55P03  the head lock was not granted within the bound
--             DTL03  a key already used for another case or type (stored,
--                    or earlier in this call); DETAIL "item N"
--             DTL04  a case that does not exist is not opened by its first
--                    event; DETAIL "item N"
--             23514  a CHECK constraint of dtledger.events (0004)
-- Requires:   event_hash (and dtledger.append_row as migration 0009 left it)

CREATE OR REPLACE FUNCTION dtledger.append_many(p_events jsonb, p_opening text[], p_tool text)
RETURNS TABLE (appended bigint, duplicates bigint, first_position bigint, last_position bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_head_position bigint;
    v_head_hash     bytea;
    v_now           timestamptz;
    v_stamp         jsonb;
    v_bad           record;
    v_count         integer;
    v_inputs        integer;
    i_items         dtledger.append_item[];
    n_rows          dtledger.append_row[];
    r               dtledger.append_row;
    n_previous      bytea[];
    n_hash          bytea[];
    v_err           text[];
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'dtledger.append_many must run at READ COMMITTED isolation' USING ERRCODE = 'DTL00';
    END IF;
    IF jsonb_typeof(p_events) <> 'array' OR jsonb_array_length(p_events) = 0 THEN
        RAISE EXCEPTION 'nothing to append' USING ERRCODE = 'DTL00';
    END IF;

    -- What the readers could not decode (as in dtledger.append).
    v_err := dtledger.undecodable(p_events);
    IF v_err IS NOT NULL THEN
        RAISE EXCEPTION '%', v_err[1]
            USING ERRCODE = 'DTL00', DETAIL = 'item ' || v_err[2];
    END IF;

    -- Serialise: the head row lock is held until this transaction ends,
    -- the wait for it and the idling while holding it bounded (lock_head).
    SELECT l.head_position, l.head_hash INTO v_head_position, v_head_hash FROM dtledger.lock_head() l;
    v_now := clock_timestamp();
    v_stamp := jsonb_build_object(
        'db_role', session_user::text,
        'client_addr', coalesce(host(inet_client_addr()), 'local'),
        'application_name', current_setting('application_name'),
        'tool_version', p_tool);

    SELECT array_agg(ROW(t.c, t.type, t.occurred_at, t.actor, t.source, t.key, t.data, t.metadata)::dtledger.append_item
                     ORDER BY t.ord)
      INTO i_items
      FROM ROWS FROM (jsonb_to_recordset(p_events) AS ("case" text, type text, occurred_at timestamptz,
                      actor text, source text, key text, data jsonb, metadata jsonb))
           WITH ORDINALITY AS t(c, type, occurred_at, actor, source, key, data, metadata, ord);
    v_inputs := cardinality(i_items);

    -- A key already stored for another case or type.
    SELECT i.ord, i.key, e.type, e.case_id INTO v_bad
      FROM unnest(i_items) WITH ORDINALITY AS i(c, type, occurred, actor, source, key, data, metadata, ord)
      JOIN dtledger.events e ON e.idempotency_key = i.key
     WHERE e.case_id <> i.c OR e.type <> i.type
     ORDER BY i.ord LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'idempotency key "%" was already used for a % event of case %',
            v_bad.key, v_bad.type, v_bad.case_id USING ERRCODE = 'DTL03', DETAIL = 'item ' || v_bad.ord;
    END IF;
    -- A key used twice in this call for another case or type.
    SELECT y.ord, y.key, y.first_type, y.first_case INTO v_bad
      FROM (SELECT x.ord, x.key, x.c, x.type,
                   first_value(x.c) OVER w AS first_case, first_value(x.type) OVER w AS first_type
              FROM unnest(i_items) WITH ORDINALITY AS x(c, type, occurred, actor, source, key, data, metadata, ord)
             WHERE x.key IS NOT NULL
            WINDOW w AS (PARTITION BY x.key ORDER BY x.ord)) y
     WHERE y.first_case <> y.c OR y.first_type <> y.type
     ORDER BY y.ord LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'idempotency key "%" was already used for a % event of case %',
            v_bad.key, v_bad.first_type, v_bad.first_case USING ERRCODE = 'DTL03', DETAIL = 'item ' || v_bad.ord;
    END IF;

    -- The new events: no key, or a key neither stored nor seen earlier in
    -- this call. Positions follow the input order; versions follow each
    -- case's stream head. Element j of n_rows is the j-th event appended,
    -- at position v_head_position + j.
    SELECT array_agg(ROW(n.ord, n.c, n.type, n.occurred, n.actor, n.source, n.key, n.data, n.version, n.id,
                         n.metadata)::dtledger.append_row ORDER BY n.ord)
      INTO n_rows
      FROM (SELECT i.*, row_number() OVER (ORDER BY i.ord) AS rank,
                   coalesce(s.version, 0) + row_number() OVER (PARTITION BY i.c ORDER BY i.ord) AS version,
                   gen_random_uuid() AS id,
                   coalesce(i.metadata_in, '{}'::jsonb) || v_stamp AS metadata
              FROM (SELECT u.*, min(u.ord) OVER (PARTITION BY u.key) AS first_ord
                      FROM unnest(i_items) WITH ORDINALITY
                           AS u(c, type, occurred, actor, source, key, data, metadata_in, ord)) i
              LEFT JOIN dtledger.streams s ON s.case_id = i.c
             WHERE i.key IS NULL
                OR (i.ord = i.first_ord
                    AND NOT EXISTS (SELECT 1 FROM dtledger.events e WHERE e.idempotency_key = i.key))) n;

    v_count := coalesce(cardinality(n_rows), 0);
    IF v_count > 0 THEN
        -- The new events that need a closer look: a future occurred_at, a
        -- large event, the reference streams. Usually none.
        FOR v_bad IN
            SELECT x.ord, x.c, x.type, x.occurred, x.data, x.metadata
              FROM unnest(n_rows) AS x
             WHERE x.occurred > v_now + interval '5 minutes'
                OR pg_column_size(x.data) > 131072 OR pg_column_size(x.metadata) > 131072
                OR x.c IN ('policy', 'directory') OR x.type IN ('policy.published', 'directory.published', 'event.retracted')
             ORDER BY x.ord
        LOOP
            IF v_bad.occurred > v_now + interval '5 minutes' THEN
                RAISE EXCEPTION 'occurred_at % is more than 5 minutes in the future (the database clock says %)',
                    to_char(v_bad.occurred AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                    to_char(v_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                    USING ERRCODE = 'DTL00', DETAIL = 'item ' || v_bad.ord;
            END IF;
            v_err := dtledger.check_decodable(jsonb_build_array(jsonb_build_object('data', v_bad.data, 'metadata', v_bad.metadata)));
            IF v_err IS NOT NULL THEN
                RAISE EXCEPTION '%', replace(v_err[1], 'of event 1', 'of event ' || v_bad.ord)
                    USING ERRCODE = 'DTL00', DETAIL = 'item ' || v_bad.ord;
            END IF;
            IF v_bad.c IN ('policy', 'directory') OR v_bad.type IN ('policy.published', 'directory.published', 'event.retracted') THEN
                v_err := dtledger.check_reference(v_bad.c, jsonb_build_object('type', v_bad.type, 'data', v_bad.data), v_now);
                IF v_err IS NOT NULL THEN
                    RAISE EXCEPTION '%', v_err[2] USING ERRCODE = v_err[1], DETAIL = 'item ' || v_bad.ord;
                END IF;
            END IF;
        END LOOP;

        -- A case that does not exist yet must be opened by its first event.
        IF p_opening IS NOT NULL THEN
            SELECT x.ord, x.c INTO v_bad
              FROM unnest(n_rows) AS x
             WHERE x.version = 1 AND NOT (x.type = ANY (p_opening))
             ORDER BY x.ord LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'case % was never opened: its first event must be one of %', v_bad.c,
                    array_to_string(p_opening, ', ') USING ERRCODE = 'DTL04', DETAIL = 'item ' || v_bad.ord;
            END IF;
        END IF;

        -- The chain: each hash covers the previous one and the event's
        -- canonical bytes (dtledger.event_hash, as in dtledger.append).
        n_previous := array_fill(NULL::bytea, ARRAY[v_count]);
        n_hash := array_fill(NULL::bytea, ARRAY[v_count]);
        FOR j IN 1..v_count LOOP
            r := n_rows[j];
            n_previous[j] := v_head_hash;
            v_head_hash := dtledger.event_hash(v_head_hash, r.id, v_head_position + j, r.c, r.version, r.type,
                                               r.occurred, v_now, r.actor, r.source, r.key, r.data, r.metadata);
            n_hash[j] := v_head_hash;
        END LOOP;

        INSERT INTO dtledger.events (position, id, case_id, version, type, occurred_at, recorded_at,
                                     actor, source, idempotency_key, data, metadata, previous_hash, hash)
        SELECT v_head_position + x.rank, x.id, x.c, x.version, x.type, x.occurred, v_now,
               x.actor, x.source, x.key, x.data, x.metadata, n_previous[x.rank], n_hash[x.rank]
          FROM unnest(n_rows) WITH ORDINALITY
               AS x(ord, c, type, occurred, actor, source, key, data, version, id, metadata, rank);

        INSERT INTO dtledger.streams AS s (case_id, version, opened_type, opened_at, last_position)
        SELECT x.c, max(x.version), (array_agg(x.type ORDER BY x.rank))[1],
               (array_agg(x.occurred ORDER BY x.rank))[1], v_head_position + max(x.rank)
          FROM unnest(n_rows) WITH ORDINALITY
               AS x(ord, c, type, occurred, actor, source, key, data, version, id, metadata, rank)
         GROUP BY x.c
        ON CONFLICT (case_id) DO UPDATE SET version = EXCLUDED.version, last_position = EXCLUDED.last_position;

        v_head_position := v_head_position + v_count;
        UPDATE dtledger.head SET position = v_head_position, hash = v_head_hash WHERE singleton;
        PERFORM pg_notify('dtledger_events', v_head_position::text);
    END IF;

    -- One summary row (a per-event result is what dtledger.append is for):
    -- replays are counted as duplicates.
    appended := v_count;
    duplicates := v_inputs - v_count;
    first_position := CASE WHEN v_count > 0 THEN v_head_position - v_count + 1 END;
    last_position := CASE WHEN v_count > 0 THEN v_head_position END;
    RETURN NEXT;
END;
$$;

REVOKE ALL ON FUNCTION dtledger.append_many(jsonb, text[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dtledger.append_many(jsonb, text[], text) TO dtledger_writer;
