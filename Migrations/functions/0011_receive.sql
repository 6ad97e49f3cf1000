-- dtledger.receive(items): makes a batch of received requests durable in one
-- statement (the service's group commit: every request that arrived while
-- the previous batch was committing). `items` is a JSON array of
-- {source, delivery_key, received_at, headers, body (base64), refs}. A
-- delivery already received (same source and delivery_key: a vendor's
-- retry) is not added again: its existing id is returned with duplicate.
-- Rows are stamped with session_user. Returns one row per item, in order,
-- and NOTIFYs dtledger_receipts (delivered when the statement's transaction
-- commits), so one statement makes a batch durable and wakes the mapper.
--
-- Called by:  dtledger_receiver (EXECUTE; SECURITY DEFINER).
-- Raises:     DTL00  an item is missing a field or is malformed

CREATE OR REPLACE FUNCTION dtledger.receive(p_items jsonb)
RETURNS TABLE (item integer, receipt_id bigint, duplicate boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_item  jsonb;
    v_n     integer := 0;
    v_body  bytea;
    v_id    bigint;
BEGIN
    IF p_items IS NULL OR jsonb_typeof(p_items) <> 'array' THEN
        RAISE EXCEPTION 'receive: items must be a JSON array' USING ERRCODE = 'DTL00';
    END IF;
    FOR v_item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
        v_n := v_n + 1;
        IF jsonb_typeof(v_item->'source') IS DISTINCT FROM 'string'
           OR jsonb_typeof(v_item->'delivery_key') IS DISTINCT FROM 'string'
           OR jsonb_typeof(v_item->'received_at') IS DISTINCT FROM 'string'
           OR jsonb_typeof(v_item->'headers') IS DISTINCT FROM 'object'
           OR jsonb_typeof(v_item->'body') IS DISTINCT FROM 'string' THEN
            RAISE EXCEPTION 'receive: item % needs source, delivery_key, received_at, headers and body', v_n
                USING ERRCODE = 'DTL00';
        END IF;
        v_body := decode(v_item->>'body', 'base64');
        INSERT INTO dtledger.receipts (source, delivery_key, received_at, headers, body, body_sha256, refs, login)
        VALUES (v_item->>'source', v_item->>'delivery_key', (v_item->>'received_at')::timestamptz,
                v_item->'headers', v_body, sha256(v_body),
                coalesce(ARRAY(SELECT jsonb_array_elements_text(coalesce(v_item->'refs', '[]'::jsonb))), '{}'),
                session_user)
        ON CONFLICT (source, delivery_key) DO NOTHING
        RETURNING id INTO v_id;
        IF v_id IS NULL THEN
            SELECT r.id INTO v_id FROM dtledger.receipts r
             WHERE r.source = v_item->>'source' AND r.delivery_key = v_item->>'delivery_key';
            item := v_n; receipt_id := v_id; duplicate := true;
        ELSE
            item := v_n; receipt_id := v_id; duplicate := false;
        END IF;
        RETURN NEXT;
        v_id := NULL;
    END LOOP;
    PERFORM pg_notify('dtledger_receipts', 'receipt');
END;
$$;

REVOKE ALL ON FUNCTION dtledger.receive(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dtledger.receive(jsonb) TO dtledger_receiver;
