-- dtledger.events is append-only: no UPDATE, DELETE or TRUNCATE, for any
-- role, the owner included (a superuser can disable triggers; that is what
-- digests kept outside the database are for). Rows are only ever added by
-- dtledger.append and dtledger.append_many.
--
-- Fires:   dtledger.reject_change() (0001_reject_change.sql)
-- Raises:  DTL02  (from reject_change)
-- Requires: reject_change

CREATE OR REPLACE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON dtledger.events
    FOR EACH ROW EXECUTE FUNCTION dtledger.reject_change();
CREATE OR REPLACE TRIGGER events_no_truncate BEFORE TRUNCATE ON dtledger.events
    FOR EACH STATEMENT EXECUTE FUNCTION dtledger.reject_change();
