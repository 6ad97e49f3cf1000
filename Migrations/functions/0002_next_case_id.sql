-- dtledger.next_case_id(prefix, year): the next unused case id
-- PREFIX-YEAR-NNNN (at least four digits), from the counter row of that
-- prefix and year (dtledger.case_id_counters, migration 0002), advanced
-- with a row lock, so concurrent callers get distinct numbers and a number
-- is never handed out twice. Ids already used by a case (typed by hand)
-- are skipped. Run it outside a longer transaction: the number is taken
-- when the call commits. See docs/runbooks.md.
--
-- Called by:  dtledger_writer (EXECUTE; SECURITY DEFINER).
-- Raises:     DTL00  the prefix is not 1 to 8 capital letters, or the year
--                    is not 1900-9999

CREATE OR REPLACE FUNCTION dtledger.next_case_id(p_prefix text, p_year integer) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_n  integer;
    v_id text;
BEGIN
    IF p_prefix IS NULL OR p_prefix !~ '^[A-Z]{1,8}$' THEN
        RAISE EXCEPTION 'case id prefix must be 1 to 8 capital letters' USING ERRCODE = 'DTL00';
    END IF;
    IF p_year IS NULL OR p_year NOT BETWEEN 1900 AND 9999 THEN
        RAISE EXCEPTION 'case id year must be 1900-9999' USING ERRCODE = 'DTL00';
    END IF;
    INSERT INTO dtledger.case_id_counters (prefix, year, last) VALUES (p_prefix, p_year, 0)
        ON CONFLICT (prefix, year) DO NOTHING;
    LOOP
        UPDATE dtledger.case_id_counters SET last = last + 1
         WHERE prefix = p_prefix AND year = p_year
        RETURNING last INTO v_n;
        v_id := p_prefix || '-' || p_year::text || '-' || CASE WHEN v_n < 10000 THEN lpad(v_n::text, 4, '0') ELSE v_n::text END;
        EXIT WHEN NOT EXISTS (SELECT 1 FROM dtledger.streams s WHERE s.case_id = v_id);
    END LOOP;
    RETURN v_id;
END;
$$;

REVOKE ALL ON FUNCTION dtledger.next_case_id(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dtledger.next_case_id(text, integer) TO dtledger_writer;
