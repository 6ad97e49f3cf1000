-- Read models for issue 17 (policy levels, prohibitions, several policies):
--
-- cases:       violated (obligations judged `violated`: a prohibition broken),
--              should_met / should_judged (`should` obligations, counted apart:
--              met..violated count `must` obligations only), policy_name (the
--              case's primary policy) and policies (every policy that judged
--              the case, "name vVERSION", the primary first).
-- obligations: level (`must` or `should`), expected / given (a value
--              requirement's expected and given values), policy_name (the
--              policy the obligation is of: a case judged by several policies
--              has the obligations of each, ordinals continuing).
--
-- New read models get these columns from dtledger.create_read_models
-- (Migrations/functions/0001_create_read_models.sql), which a fresh database
-- has already applied when 0003 creates dtledger_read; hence IF NOT EXISTS.
-- The rows of read models built before this migration get the defaults until
-- the next `projections run` re-judges their cases or `projections rebuild`.
-- See docs/projections.md.
DO $$
BEGIN
    IF to_regclass('dtledger_read.cases') IS NOT NULL THEN
        ALTER TABLE dtledger_read.cases
            ADD COLUMN IF NOT EXISTS violated      integer NOT NULL DEFAULT 0,
            ADD COLUMN IF NOT EXISTS should_met    integer NOT NULL DEFAULT 0,
            ADD COLUMN IF NOT EXISTS should_judged integer NOT NULL DEFAULT 0,
            ADD COLUMN IF NOT EXISTS policy_name   text,
            ADD COLUMN IF NOT EXISTS policies      text[]  NOT NULL DEFAULT '{}';
    END IF;
    IF to_regclass('dtledger_read.obligations') IS NOT NULL THEN
        ALTER TABLE dtledger_read.obligations
            ADD COLUMN IF NOT EXISTS level       text NOT NULL DEFAULT 'must',
            ADD COLUMN IF NOT EXISTS expected    text,
            ADD COLUMN IF NOT EXISTS given       text,
            ADD COLUMN IF NOT EXISTS policy_name text;
    END IF;
END;
$$;
