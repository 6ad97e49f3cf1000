-- dtledger.undecodable(events): NULL when the readers can decode every
-- event's data and metadata as far as nesting and numbers go, else
-- {message, item} naming the first event that they could not (from
-- dtledger.check_decodable). The whole batch is tested at once with two
-- native jsonpath scans (a container 256 levels below an event's data or
-- metadata; a number beyond a double); only a batch that fails them is
-- walked event by event. Sizes are checked per event by the callers.
--
-- Called by:  dtledger.append, dtledger.append_many (no EXECUTE for anyone
--             else), before they take the head lock.
-- Raises:     nothing (the callers raise DTL00 with the message)
-- Requires:   check_decodable

CREATE OR REPLACE FUNCTION dtledger.undecodable(p_events jsonb)
RETURNS text[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF jsonb_path_exists(p_events, 'strict $.**{258} ? (@.type() == "object" || @.type() == "array")')
       OR jsonb_path_exists(p_events, 'strict $.** ? (@.type() == "number" && (@ >= 179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792 || @ <= -179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792))') THEN
        RETURN coalesce(dtledger.check_decodable(p_events),
                        ARRAY['an event nests deeper than 256 levels or has a number beyond the range of a double', '1']);
    END IF;
    RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION dtledger.undecodable(jsonb) FROM PUBLIC;
