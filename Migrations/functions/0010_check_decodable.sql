-- dtledger.check_decodable(events): the first event of a batch whose data
-- or metadata the ledger's readers (Sources/Events/JSONValue.swift) could
-- not decode, and why. dtledger.append and dtledger.append_many test the
-- whole batch cheaply first and call this only to name the event (or,
-- for sizes, only for an event larger than 128 KiB in binary form).
--
--   p_events  JSON array of events, each with data and metadata?
-- Returns NULL, or {message, item} (item: the 1-based index in p_events).
-- The limits (docs/ledger.md, "What the append functions refuse"):
--   - data, and metadata, at most 1 MiB (1,048,576 bytes) as compact JSON
--     text: the server's text without the space it writes after each ':'
--     and ',' (the CLI counts the same text: EventValidation.maxDataBytes);
--   - at most 256 arrays and objects nested inside one another, data's
--     own object included (JSONValue.maxDepth: the readers refuse deeper
--     documents too);
--   - numbers a double can hold: magnitude below 2^1024 - 2^970 (larger
--     ones, 1e400 or a 400-digit integer, fail to decode; tiny ones such
--     as 1e-400 read as 0 and -0 as 0, so they are kept).
--
-- Called by:  dtledger.append, dtledger.append_many (no EXECUTE for anyone
--             else).
-- Raises:     nothing (the callers raise DTL00 with the message)

CREATE OR REPLACE FUNCTION dtledger.check_decodable(p_events jsonb)
RETURNS text[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_event jsonb;
    v_part  text;
    v_value jsonb;
    v_text  text;
    v_size  bigint;
BEGIN
    FOR v_index IN 1..jsonb_array_length(p_events) LOOP
        v_event := p_events->(v_index - 1);
        FOREACH v_part IN ARRAY ARRAY['data', 'metadata'] LOOP
            v_value := v_event->v_part;
            CONTINUE WHEN v_value IS NULL;
            IF jsonb_path_exists(v_value, 'strict $.**{256} ? (@.type() == "object" || @.type() == "array")') THEN
                RETURN ARRAY[format('%s of event %s nests deeper than 256 levels of arrays and objects, more than the ledger''s readers accept',
                                    v_part, v_index), v_index::text];
            END IF;
            IF jsonb_path_exists(v_value, 'strict $.** ? (@.type() == "number" && (@ >= 179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792 || @ <= -179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792))') THEN
                RETURN ARRAY[format('%s of event %s has a number beyond the range of a double (%s), which the ledger''s readers cannot decode',
                                    v_part, v_index,
                                    left(jsonb_path_query_first(v_value, 'strict $.** ? (@.type() == "number" && (@ >= 179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792 || @ <= -179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792))')::text, 20)
                                    || '...'), v_index::text];
            END IF;
            IF pg_column_size(v_value) > 131072 THEN
                v_text := v_value::text;
                -- Compact size: the server's text less the spaces outside strings.
                v_size := octet_length(v_text);
                IF v_size > 1048576 THEN
                    v_text := regexp_replace(v_text, '"(?:[^"\\]|\\.)*"', '', 'g');
                    v_size := v_size - (octet_length(v_text) - octet_length(replace(v_text, ' ', '')));
                END IF;
                IF v_size > 1048576 THEN
                    RETURN ARRAY[format('%s of event %s is %s bytes; an event''s %s may be at most 1048576 bytes (1 MiB)',
                                        v_part, v_index, v_size, v_part), v_index::text];
                END IF;
            END IF;
        END LOOP;
    END LOOP;
    RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION dtledger.check_decodable(jsonb) FROM PUBLIC;
