-- dtledger.head, the chain's tip, can be updated (by the append functions)
-- but never deleted or truncated, so the ledger always has one tip.
--
-- Fires:   dtledger.reject_change() (0001_reject_change.sql)
-- Raises:  DTL02  (from reject_change)
-- Requires: reject_change

CREATE OR REPLACE TRIGGER head_no_delete BEFORE DELETE ON dtledger.head
    FOR EACH ROW EXECUTE FUNCTION dtledger.reject_change();
CREATE OR REPLACE TRIGGER head_no_truncate BEFORE TRUNCATE ON dtledger.head
    FOR EACH STATEMENT EXECUTE FUNCTION dtledger.reject_change();
