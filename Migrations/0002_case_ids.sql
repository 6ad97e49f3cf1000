-- Generated case ids (INC-2026-0001, PD-2026-0001): one counter row per
-- prefix and year, advanced with a row lock, so concurrent callers get
-- distinct numbers and a number is never handed out twice. Ids already
-- used by a case (typed by hand) are skipped. See docs/runbooks.md.
-- dtledger.next_case_id and the counters' triggers live in
-- Migrations/functions/ (0002_*.sql), applied with this migration.

CREATE TABLE dtledger.case_id_counters (
    prefix text    NOT NULL CHECK (prefix ~ '^[A-Z]{1,8}$'),
    year   integer NOT NULL CHECK (year BETWEEN 1900 AND 9999),
    last   integer NOT NULL CHECK (last >= 0),
    PRIMARY KEY (prefix, year)
);

REVOKE ALL ON dtledger.case_id_counters FROM PUBLIC;
GRANT SELECT ON dtledger.case_id_counters TO dtledger_reader;
