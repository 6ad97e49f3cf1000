-- dtledger.opened_cases(): each case (stream) in the ledger with the type
-- of the event that opened it: what an import needs to know which cases it
-- may add to (a case never opened is refused), without any SELECT on the
-- ledger.
--
-- Called by:  dtledger_writer (EXECUTE; SECURITY DEFINER).
-- Raises:     nothing of its own.

CREATE OR REPLACE FUNCTION dtledger.opened_cases()
RETURNS TABLE (case_id text, opened_type text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.case_id, s.opened_type FROM dtledger.streams s ORDER BY s.opened_at, s.case_id
$$;

REVOKE ALL ON FUNCTION dtledger.opened_cases() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dtledger.opened_cases() TO dtledger_writer;
