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
-- 200 bytes per obligation. Measured on the 2-core bench machine, 200k
-- events: a rebuild keeps 3 indexes up to date instead of 5, its server
-- CPU 2.6-2.7 s -> 2.0-2.1 s and its time 2.64-2.90 s -> 2.29-2.44 s;
-- `projections run` maintains 3 indexes per batch instead of 5. See
-- docs/projections.md and docs/benchmarks.md.
--
-- The columns, and what the rows hold, are unchanged.

CREATE OR REPLACE FUNCTION dtledger.create_read_models(target text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE SCHEMA %I', target);
    EXECUTE format($ddl$
        CREATE TABLE %1$I.checkpoint (
            name         text        PRIMARY KEY,
            position     bigint      NOT NULL,
            ledger_hash  text        NOT NULL,
            updated_at   timestamptz NOT NULL
        );
        INSERT INTO %1$I.checkpoint VALUES ('projector', 0, repeat('0', 64), clock_timestamp());
        CREATE TABLE %1$I.cases (
            case_id         text        PRIMARY KEY,
            kind            text,
            team            text,
            title           text,
            opened_at       timestamptz,
            status          text        NOT NULL,
            priority        text,
            policy_version  text,
            event_count     integer     NOT NULL,
            last_position   bigint      NOT NULL,
            met             integer     NOT NULL,
            late            integer     NOT NULL,
            partial         integer     NOT NULL,
            missed          integer     NOT NULL,
            pending         integer     NOT NULL,
            not_applicable  integer     NOT NULL,
            next_deadline   timestamptz,
            evaluated_as_of timestamptz NOT NULL
        );
        CREATE TABLE %1$I.timeline (
            position     bigint      NOT NULL,
            case_id      text        NOT NULL,
            event_id     uuid        NOT NULL,
            occurred_at  timestamptz NOT NULL,
            recorded_at  timestamptz NOT NULL,
            type         text        NOT NULL,
            actor        text        NOT NULL,
            actor_roles  text[]      NOT NULL,
            summary      text        NOT NULL,
            channel      text,
            destination  text,
            audience     text[]      NOT NULL,
            priority     text,
            retracted    boolean     NOT NULL,
            PRIMARY KEY (case_id, position)
        );
        CREATE TABLE %1$I.obligations (
            case_id         text        NOT NULL,
            ordinal         integer     NOT NULL,
            rule_id         text        NOT NULL,
            occurrence      text,
            verdict         text        NOT NULL,
            deadline        timestamptz,
            late_by_seconds bigint,
            evidence        text[]      NOT NULL,
            missing         text[]      NOT NULL,
            reason          text,
            attested_late   boolean     NOT NULL,
            policy_version  text        NOT NULL,
            evaluated_as_of timestamptz NOT NULL,
            PRIMARY KEY (case_id, ordinal)
        );
        $ddl$, target);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO dtledger_reader', target);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO dtledger_reader', target);
END;
$$;

REVOKE ALL ON FUNCTION dtledger.create_read_models(text) FROM PUBLIC;

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
