-- Case-id counters only move forward: a deleted counter row would hand out
-- numbers again (docs/runbooks.md).
--
-- Fires:   dtledger.reject_change() (0001_reject_change.sql)
-- Raises:  DTL02  (from reject_change)
-- Requires: reject_change

CREATE OR REPLACE TRIGGER case_id_counters_no_delete BEFORE DELETE ON dtledger.case_id_counters
    FOR EACH ROW EXECUTE FUNCTION dtledger.reject_change();
CREATE OR REPLACE TRIGGER case_id_counters_no_truncate BEFORE TRUNCATE ON dtledger.case_id_counters
    FOR EACH STATEMENT EXECUTE FUNCTION dtledger.reject_change();
