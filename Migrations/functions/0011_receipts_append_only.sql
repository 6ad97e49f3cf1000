-- The receipts, their outcomes and the inbox resolutions are append-only:
-- no UPDATE, DELETE or TRUNCATE for any role, the owner included. Rows are
-- added only by dtledger.receive, dtledger.record_outcomes and
-- dtledger.resolve_receipt.
--
-- Fires:   dtledger.reject_change() (0001_reject_change.sql)
-- Raises:  DTL02  (from reject_change)
-- Requires: reject_change

CREATE OR REPLACE TRIGGER receipts_no_update BEFORE UPDATE OR DELETE ON dtledger.receipts
    FOR EACH ROW EXECUTE FUNCTION dtledger.reject_change();
CREATE OR REPLACE TRIGGER receipts_no_truncate BEFORE TRUNCATE ON dtledger.receipts
    FOR EACH STATEMENT EXECUTE FUNCTION dtledger.reject_change();
CREATE OR REPLACE TRIGGER receipt_outcomes_no_update BEFORE UPDATE OR DELETE ON dtledger.receipt_outcomes
    FOR EACH ROW EXECUTE FUNCTION dtledger.reject_change();
CREATE OR REPLACE TRIGGER receipt_outcomes_no_truncate BEFORE TRUNCATE ON dtledger.receipt_outcomes
    FOR EACH STATEMENT EXECUTE FUNCTION dtledger.reject_change();
CREATE OR REPLACE TRIGGER receipt_resolutions_no_update BEFORE UPDATE OR DELETE ON dtledger.receipt_resolutions
    FOR EACH ROW EXECUTE FUNCTION dtledger.reject_change();
CREATE OR REPLACE TRIGGER receipt_resolutions_no_truncate BEFORE TRUNCATE ON dtledger.receipt_resolutions
    FOR EACH STATEMENT EXECUTE FUNCTION dtledger.reject_change();
