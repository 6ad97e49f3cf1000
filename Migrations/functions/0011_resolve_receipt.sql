-- dtledger.resolve_receipt(receipt, action, case, reason, actor): a
-- person's resolution of an inbox item (`dtledger inbox assign|map|discard`),
-- recorded with their login. assign: map the receipt into this case; map:
-- map it again with the service's current configuration; discard: it is not
-- evidence (a reason is required for every action). The service applies
-- assign and map with its own login and records the outcome; a discard
-- takes the item out of the inbox. Only a receipt whose latest outcome is
-- `inbox` or `ignored` can be resolved, and only once until the service has
-- applied the previous resolution. Returns the resolution's id.
--
-- Called by:  dtledger_writer (EXECUTE; SECURITY DEFINER).
-- Raises:     DTL00  no such receipt, not in the inbox, an unapplied
--                    resolution pending, a bad action, case or reason

CREATE OR REPLACE FUNCTION dtledger.resolve_receipt(p_receipt bigint, p_action text, p_case text, p_reason text, p_actor text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_last    text;
    v_id      bigint;
BEGIN
    IF p_action IS NULL OR p_action NOT IN ('assign', 'map', 'discard') THEN
        RAISE EXCEPTION 'the action must be assign, map or discard' USING ERRCODE = 'DTL00';
    END IF;
    IF p_reason IS NULL OR length(btrim(p_reason)) = 0 THEN
        RAISE EXCEPTION 'a reason is required' USING ERRCODE = 'DTL00';
    END IF;
    IF p_actor IS NULL OR length(btrim(p_actor)) = 0 THEN
        RAISE EXCEPTION 'an actor is required' USING ERRCODE = 'DTL00';
    END IF;
    IF (p_action = 'assign') <> (p_case IS NOT NULL) THEN
        RAISE EXCEPTION 'assign needs a case; map and discard take none' USING ERRCODE = 'DTL00';
    END IF;
    IF p_case IS NOT NULL AND p_case !~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' THEN
        RAISE EXCEPTION 'case % is not a case id', p_case USING ERRCODE = 'DTL00';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM dtledger.receipts r WHERE r.id = p_receipt) THEN
        RAISE EXCEPTION 'no receipt %', p_receipt USING ERRCODE = 'DTL00';
    END IF;
    -- One resolution at a time per receipt.
    PERFORM pg_advisory_xact_lock(hashtextextended('dtledger.receipt:' || p_receipt::text, 0));
    SELECT o.outcome INTO v_last FROM dtledger.receipt_outcomes o
     WHERE o.receipt_id = p_receipt ORDER BY o.id DESC LIMIT 1;
    IF v_last IS NULL OR v_last NOT IN ('inbox', 'ignored') THEN
        RAISE EXCEPTION 'receipt % is not in the inbox (%)', p_receipt, coalesce(v_last, 'not mapped yet')
            USING ERRCODE = 'DTL00';
    END IF;
    IF EXISTS (SELECT 1 FROM dtledger.receipt_resolutions s
                WHERE s.receipt_id = p_receipt
                  AND NOT EXISTS (SELECT 1 FROM dtledger.receipt_outcomes o WHERE o.resolution_id = s.id)) THEN
        RAISE EXCEPTION 'receipt % already has a resolution the service has not applied yet', p_receipt
            USING ERRCODE = 'DTL00';
    END IF;
    INSERT INTO dtledger.receipt_resolutions (receipt_id, action, case_id, reason, actor, login)
    VALUES (p_receipt, p_action, p_case, p_reason, p_actor, session_user)
    RETURNING id INTO v_id;
    PERFORM pg_notify('dtledger_receipts', 'resolution');
    RETURN v_id;
END;
$$;

REVOKE ALL ON FUNCTION dtledger.resolve_receipt(bigint, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dtledger.resolve_receipt(bigint, text, text, text, text) TO dtledger_writer;
