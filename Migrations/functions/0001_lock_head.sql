-- dtledger.lock_head(): takes the head row's lock for the rest of the
-- transaction and returns the chain's tip (position and hash), with the
-- waiting and the idling bounded. The one place dtledger.append and
-- dtledger.append_many serialise.
--
-- Uncontended (the usual case), SKIP LOCKED takes the lock at once and
-- costs what a plain FOR UPDATE does. Otherwise the wait is bounded by
-- lock_timeout: 5 s, or dtledger.append_lock_timeout (ms) if the session
-- set it shorter; past it PostgreSQL raises 55P03, reported as "another
-- session holds the ledger's append lock". The session's own lock_timeout
-- is set back once the lock is held. Then the transaction is ended by the
-- server once idle for 30 s, or dtledger.append_idle_timeout (ms) if the
-- session set it shorter (idle_in_transaction_session_timeout, until the
-- transaction ends). A session may shorten either bound, never lengthen it.
--
-- Called by:  dtledger.append, dtledger.append_many (no EXECUTE for anyone
--             else).
-- Raises:     55P03 (lock_not_available) when the wait runs out

CREATE OR REPLACE FUNCTION dtledger.lock_head(OUT head_position bigint, OUT head_hash bytea)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_setting text;
    v_saved   text;
BEGIN
    SELECT h.position, h.hash INTO head_position, head_hash
      FROM dtledger.head h WHERE h.singleton FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        v_setting := current_setting('dtledger.append_lock_timeout', true);
        v_saved := current_setting('lock_timeout');
        v_setting := set_config('lock_timeout',
            CASE WHEN v_setting IS NOT NULL AND v_setting NOT IN ('', '0') AND v_setting::integer BETWEEN 1 AND 4999
                 THEN v_setting ELSE '5000' END, true);
        SELECT h.position, h.hash INTO head_position, head_hash
          FROM dtledger.head h WHERE h.singleton FOR UPDATE;
        v_setting := set_config('lock_timeout', v_saved, true);
    END IF;
    v_setting := current_setting('dtledger.append_idle_timeout', true);
    v_setting := set_config('idle_in_transaction_session_timeout',
        CASE WHEN v_setting IS NOT NULL AND v_setting NOT IN ('', '0') AND v_setting::integer BETWEEN 1 AND 29999
             THEN v_setting ELSE '30000' END, true);
END;
$$;

REVOKE ALL ON FUNCTION dtledger.lock_head() FROM PUBLIC;
