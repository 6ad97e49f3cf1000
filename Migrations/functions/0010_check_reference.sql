-- dtledger.check_reference(case, event, now): the rules for the reference
-- streams ('policy', 'directory'), which decide how every case is judged.
-- dtledger.append and dtledger.append_many call it for each new event that
-- goes to one of those streams, is a policy.published or
-- directory.published, or is an event.retracted (the target's stream
-- decides), and raise what it returns. See docs/ledger.md, "What the append
-- functions refuse", and SECURITY.md, "Roles".
--
--   p_case   the event's case (stream)
--   p_event  the event as given: {type, occurred_at, actor, source, key?, data, metadata?}
--   p_now    the time of recording (the appending function's clock)
-- Returns NULL when the event may be appended, else {SQLSTATE, message}:
--   42501  the session's login is not a member of dtledger_publisher (a
--          superuser is): "only dtledger_publisher may publish to the
--          'policy' stream (login bob)"
--   DTL05  a publication whose effective_from is more than 5 minutes
--          before p_now without a non-blank data.retroactive_reason
--   DTL06  a policy name and version already published
--   DTL00  data.retroactive_reason given but not a non-blank string
--
-- Called by:  dtledger.append, dtledger.append_many (no EXECUTE for anyone
--             else; it runs as their owner, so it may read dtledger.events).
-- Raises:     nothing itself (22007 for an effective_from that is not a time)

CREATE OR REPLACE FUNCTION dtledger.check_reference(p_case text, p_event jsonb, p_now timestamptz)
RETURNS text[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_type      text := p_event->>'type';
    v_stream    text := p_case;
    v_target    text;
    v_effective timestamptz;
    v_reason    jsonb;
    v_name      text;
    v_version   text;
BEGIN
    IF v_type = 'policy.published' THEN
        v_stream := 'policy';
    ELSIF v_type = 'directory.published' THEN
        v_stream := 'directory';
    ELSIF v_type = 'event.retracted' AND p_case NOT IN ('policy', 'directory') THEN
        -- A retraction elsewhere needs the privilege only when its target is
        -- a reference event.
        v_target := p_event->'data'->>'event_id';
        IF v_target IS NULL OR v_target !~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' THEN
            RETURN NULL;
        END IF;
        SELECT e.case_id INTO v_stream FROM dtledger.events e WHERE e.id = v_target::uuid;
        IF v_stream IS NULL OR v_stream NOT IN ('policy', 'directory') THEN
            RETURN NULL;
        END IF;
    ELSIF p_case NOT IN ('policy', 'directory') THEN
        RETURN NULL;
    END IF;

    IF NOT pg_has_role(session_user, 'dtledger_publisher', 'MEMBER') THEN
        RETURN ARRAY['42501', format('only dtledger_publisher may %s the %L stream (login %s)',
                     CASE WHEN v_type = 'event.retracted' THEN 'retract events of' ELSE 'publish to' END,
                     v_stream, session_user)];
    END IF;

    IF v_type IN ('policy.published', 'directory.published') THEN
        v_reason := p_event->'data'->'retroactive_reason';
        IF v_reason IS NOT NULL AND (jsonb_typeof(v_reason) <> 'string' OR btrim(v_reason #>> '{}') = '') THEN
            RETURN ARRAY['DTL00', 'retroactive_reason must be a non-blank text'];
        END IF;
        v_effective := (p_event->'data'->>'effective_from')::timestamptz;
        IF v_effective < p_now - interval '5 minutes' AND v_reason IS NULL THEN
            RETURN ARRAY['DTL05', format('effective_from %s is before the time of recording; a retroactive publication needs a reason (--retroactive-reason)',
                         to_char(v_effective AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))];
        END IF;
    END IF;

    IF v_type = 'policy.published' THEN
        v_name := p_event->'data'->'policy'->>'name';
        v_version := p_event->'data'->'policy'->>'version';
        -- The unique index events_policy_version (migration 0010) answers this.
        IF EXISTS (SELECT 1 FROM dtledger.events e
                    WHERE e.type = 'policy.published'
                      AND (e.data->'policy'->>'name') = v_name AND (e.data->'policy'->>'version') = v_version) THEN
            RETURN ARRAY['DTL06', format('policy %L version %L is already published; publish a new version', v_name, v_version)];
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION dtledger.check_reference(text, jsonb, timestamptz) FROM PUBLIC;
