-- Read models keyed for the reads they serve (issue 6: projection rebuild).
--
-- 0003 gave the timeline a primary key on the global position plus an index
-- on (case_id, occurred_at), and the obligations an index on (rule_id,
-- verdict) besides their primary key. Every read of the projector and of
-- the documented queries is by case: the timeline of a case, its
-- obligations, its row. So the timeline is now keyed by (case_id,
-- position), one index that serves "this case's entries" (a case has a few
-- dozen; ordering them by occurred_at sorts them in memory), and the two
-- secondary indexes are gone. Queries across cases (every missed
-- obligation of a rule, a verdict count per team) read the table, about
-- 200 bytes per obligation. A rebuild, and each batch of `projections
-- run`, keeps 3 indexes up to date instead of 5. See docs/projections.md
-- and docs/benchmarks.md.
--
-- The columns, and what the rows hold, are unchanged. New read models get
-- these keys from dtledger.create_read_models
-- (Migrations/functions/0001_create_read_models.sql).

-- The read models in place get the same keys (their rows stay; a rebuild
-- would give the same result). A schema left behind by an interrupted
-- rebuild (dtledger_read_next) is dropped by the next rebuild, as before.
DO $$
BEGIN
    IF to_regclass('dtledger_read.timeline') IS NOT NULL THEN
        ALTER TABLE dtledger_read.timeline DROP CONSTRAINT IF EXISTS timeline_pkey;
        ALTER TABLE dtledger_read.timeline ADD PRIMARY KEY (case_id, position);
        DROP INDEX IF EXISTS dtledger_read.timeline_case_id_occurred_at_idx;
    END IF;
    IF to_regclass('dtledger_read.obligations') IS NOT NULL THEN
        DROP INDEX IF EXISTS dtledger_read.obligations_rule_id_verdict_idx;
    END IF;
END;
$$;
