-- dtledger.reject_change(): the trigger function behind the ledger's
-- immutability. It refuses the operation that fired it, for every role
-- (the owner included), naming the operation and the table.
--
-- Called by:  the triggers in 0001_events_append_only.sql,
--             0001_head_kept.sql, 0001_streams_kept.sql and
--             0002_case_id_counters_forward_only.sql; nobody calls it
--             directly (no EXECUTE for anyone).
-- Raises:     DTL02  the operation is not allowed on this table.

CREATE OR REPLACE FUNCTION dtledger.reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event ledger is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'DTL02';
END;
$$;

REVOKE ALL ON FUNCTION dtledger.reject_change() FROM PUBLIC;
