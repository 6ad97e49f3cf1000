-- dtledger.record_outcomes(items): records what the service did with
-- receipts, stamped with session_user. `items` is a JSON array of
-- {receipt_id, outcome, code?, reason?, case_id?, event_ids?: [uuid],
-- resolution_id?}. The service calls it in the same transaction as the
-- appends of the events it names, so an outcome and its events land
-- together or not at all.
--
-- Called by:  dtledger_receiver (EXECUTE; SECURITY DEFINER).
-- Raises:     DTL00  an item is malformed or names no receipt

CREATE OR REPLACE FUNCTION dtledger.record_outcomes(p_items jsonb) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_item jsonb;
    v_n    integer := 0;
BEGIN
    IF p_items IS NULL OR jsonb_typeof(p_items) <> 'array' THEN
        RAISE EXCEPTION 'record_outcomes: items must be a JSON array' USING ERRCODE = 'DTL00';
    END IF;
    FOR v_item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
        v_n := v_n + 1;
        IF NOT EXISTS (SELECT 1 FROM dtledger.receipts r WHERE r.id = (v_item->>'receipt_id')::bigint) THEN
            RAISE EXCEPTION 'record_outcomes: item % names no receipt', v_n USING ERRCODE = 'DTL00';
        END IF;
        INSERT INTO dtledger.receipt_outcomes (receipt_id, outcome, code, reason, case_id, event_ids, resolution_id, login)
        VALUES ((v_item->>'receipt_id')::bigint, v_item->>'outcome', v_item->>'code', v_item->>'reason',
                v_item->>'case_id',
                coalesce(ARRAY(SELECT jsonb_array_elements_text(coalesce(v_item->'event_ids', '[]'::jsonb))::uuid), '{}'),
                (v_item->>'resolution_id')::bigint, session_user);
    END LOOP;
    RETURN v_n;
END;
$$;

REVOKE ALL ON FUNCTION dtledger.record_outcomes(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dtledger.record_outcomes(jsonb) TO dtledger_receiver;
