-- dtledger.streams, one row per case (its version), cannot be truncated:
-- losing it would reset every case's version and reopen closed cases.
--
-- Fires:   dtledger.reject_change() (0001_reject_change.sql)
-- Raises:  DTL02  (from reject_change)
-- Requires: reject_change

CREATE OR REPLACE TRIGGER streams_no_truncate BEFORE TRUNCATE ON dtledger.streams
    FOR EACH STATEMENT EXECUTE FUNCTION dtledger.reject_change();
