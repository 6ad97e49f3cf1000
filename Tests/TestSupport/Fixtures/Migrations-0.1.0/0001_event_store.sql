-- The event store: one append-only table of events, a head row that
-- serialises sequencing and carries the chain's tip, and one stream-head row
-- per case for optimistic concurrency. See docs/ledger.md.

CREATE SCHEMA IF NOT EXISTS dtledger;

CREATE TABLE dtledger.events (
    position        bigint      PRIMARY KEY,
    id              uuid        NOT NULL UNIQUE,
    case_id         text        NOT NULL,
    version         bigint      NOT NULL CHECK (version >= 1),
    type            text        NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    actor           text        NOT NULL,
    source          text        NOT NULL,
    idempotency_key text        UNIQUE,
    data            jsonb       NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    metadata        jsonb       NOT NULL CHECK (jsonb_typeof(metadata) = 'object'),
    previous_hash   bytea       NOT NULL CHECK (octet_length(previous_hash) = 32),
    hash            bytea       NOT NULL CHECK (octet_length(hash) = 32),
    UNIQUE (case_id, version)
);
CREATE INDEX events_type_idx ON dtledger.events (type);

-- The tip of the chain. Appends lock this row, so positions are assigned and
-- committed strictly in order: a reader following `position` never sees
-- position n+1 before n has committed.
CREATE TABLE dtledger.head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    position  bigint  NOT NULL,
    hash      bytea   NOT NULL
);
INSERT INTO dtledger.head VALUES (true, 0, decode(repeat('00', 32), 'hex'));

-- One row per case: its current version (the stream head).
CREATE TABLE dtledger.streams (
    case_id       text        PRIMARY KEY,
    version       bigint      NOT NULL,
    opened_type   text        NOT NULL,
    opened_at     timestamptz NOT NULL,
    last_position bigint      NOT NULL
);

-- Immutability, enforced by the database for every role.
CREATE FUNCTION dtledger.reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event ledger is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'DTL02';
END;
$$;

CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON dtledger.events
    FOR EACH ROW EXECUTE FUNCTION dtledger.reject_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON dtledger.events
    FOR EACH STATEMENT EXECUTE FUNCTION dtledger.reject_change();
CREATE TRIGGER head_no_delete BEFORE DELETE ON dtledger.head
    FOR EACH ROW EXECUTE FUNCTION dtledger.reject_change();
CREATE TRIGGER head_no_truncate BEFORE TRUNCATE ON dtledger.head
    FOR EACH STATEMENT EXECUTE FUNCTION dtledger.reject_change();
CREATE TRIGGER streams_no_truncate BEFORE TRUNCATE ON dtledger.streams
    FOR EACH STATEMENT EXECUTE FUNCTION dtledger.reject_change();

-- One length-prefixed field of the canonical bytes: "\n<bytes>:<text>",
-- or "\n~" for NULL. The Swift verifier builds the same string.
CREATE FUNCTION dtledger.canonical_field(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT E'\n' || octet_length(value)::text || ':' || value
$$;

-- Appends a batch of events to one case, atomically.
--   p_case      the case (stream) id
--   p_expected  NULL = any version; 0 = the case must not exist yet; n = exact
--   p_events    JSON array of {type, occurred_at, actor, source, key?, data, metadata?}
--   p_opening   event types that may open a case that does not exist yet
--   p_tool      the appending tool's version, kept in metadata
-- Events whose idempotency key is already in the ledger are not appended:
-- the stored original is returned with duplicate = true. The expected
-- version applies to the events that are new.
CREATE FUNCTION dtledger.append(p_case text, p_expected bigint, p_events jsonb,
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
    v_canonical     text;
    v_hash          bytea;
    v_index         integer;
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

    -- Serialise: the head row lock is held until this transaction ends.
    SELECT h.position, h.hash INTO v_head_position, v_head_hash
      FROM dtledger.head h WHERE h.singleton FOR UPDATE;
    v_now := clock_timestamp();

    -- Replayed keys: keep the originals' results, append the rest. Results
    -- are returned in input order.
    v_index := 0;
    FOR v_event IN SELECT value FROM jsonb_array_elements(p_events) LOOP
        v_index := v_index + 1;
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
        FOR i IN 1..v_index LOOP
            event_id := r_id[i]; event_position := r_position[i]; event_version := r_version[i];
            event_hash := r_hash[i]; event_recorded_at := r_recorded[i]; duplicate := true;
            RETURN NEXT;
        END LOOP;
        RETURN;
    END IF;

    SELECT s.version INTO v_version FROM dtledger.streams s WHERE s.case_id = p_case;
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
        v_head_position := v_head_position + 1;
        v_version := v_version + 1;
        v_id := gen_random_uuid();
        v_occurred := (v_event->>'occurred_at')::timestamptz;
        v_metadata := coalesce(v_event->'metadata', '{}'::jsonb) || jsonb_build_object(
            'db_role', session_user::text,
            'client_addr', coalesce(host(inet_client_addr()), 'local'),
            'application_name', current_setting('application_name'),
            'tool_version', p_tool);
        v_canonical := 'dtledger-event-v1'
            || dtledger.canonical_field(v_id::text)
            || dtledger.canonical_field(v_head_position::text)
            || dtledger.canonical_field(p_case)
            || dtledger.canonical_field(v_version::text)
            || dtledger.canonical_field(v_event->>'type')
            || dtledger.canonical_field(((extract(epoch FROM v_occurred) * 1000000)::bigint)::text)
            || dtledger.canonical_field(((extract(epoch FROM v_now) * 1000000)::bigint)::text)
            || dtledger.canonical_field(v_event->>'actor')
            || dtledger.canonical_field(v_event->>'source')
            || coalesce(dtledger.canonical_field(v_event->>'key'), E'\n~')
            || dtledger.canonical_field((v_event->'data')::text)
            || dtledger.canonical_field(v_metadata::text);
        v_hash := sha256(v_head_hash || convert_to(v_canonical, 'UTF8'));
        INSERT INTO dtledger.events (position, id, case_id, version, type, occurred_at, recorded_at,
                                     actor, source, idempotency_key, data, metadata, previous_hash, hash)
        VALUES (v_head_position, v_id, p_case, v_version, v_event->>'type', v_occurred, v_now,
                v_event->>'actor', v_event->>'source', v_event->>'key', v_event->'data', v_metadata,
                v_head_hash, v_hash);
        v_head_hash := v_hash;
        r_id[v_new_index[j]] := v_id; r_position[v_new_index[j]] := v_head_position;
        r_version[v_new_index[j]] := v_version; r_hash[v_new_index[j]] := encode(v_hash, 'hex');
        r_recorded[v_new_index[j]] := v_now; r_duplicate[v_new_index[j]] := false;
    END LOOP;

    IF v_opened THEN
        UPDATE dtledger.streams s SET version = v_version, last_position = v_head_position
         WHERE s.case_id = p_case;
    ELSE
        INSERT INTO dtledger.streams (case_id, version, opened_type, opened_at, last_position)
        VALUES (p_case, v_version, v_new[1]->>'type', (v_new[1]->>'occurred_at')::timestamptz, v_head_position);
    END IF;
    UPDATE dtledger.head SET position = v_head_position, hash = v_head_hash WHERE singleton;
    PERFORM pg_notify('dtledger_events', v_head_position::text);

    FOR i IN 1..v_index LOOP
        event_id := r_id[i]; event_position := r_position[i]; event_version := r_version[i];
        event_hash := r_hash[i]; event_recorded_at := r_recorded[i]; duplicate := r_duplicate[i];
        RETURN NEXT;
    END LOOP;
END;
$$;

-- Least privilege. Roles are cluster-wide; create them once.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dtledger_writer') THEN
        BEGIN
            CREATE ROLE dtledger_writer NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dtledger_reader') THEN
        BEGIN
            CREATE ROLE dtledger_reader NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
END;
$$;

REVOKE ALL ON SCHEMA dtledger FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA dtledger FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA dtledger FROM PUBLIC;
GRANT USAGE ON SCHEMA dtledger TO dtledger_writer, dtledger_reader;
-- The writer can append through the function, and nothing else.
GRANT EXECUTE ON FUNCTION dtledger.append(text, bigint, jsonb, text[], text) TO dtledger_writer;
-- The reader can read events and stream heads, and nothing else.
GRANT SELECT ON dtledger.events, dtledger.streams, dtledger.head TO dtledger_reader;
