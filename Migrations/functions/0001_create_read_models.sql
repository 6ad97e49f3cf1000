-- dtledger.create_read_models(target): creates schema `target` with the
-- projector's read models, empty: the checkpoint (at position 0), cases,
-- timeline entries and obligation verdicts, readable by dtledger_reader.
-- Migration 0003 creates the live ones (dtledger_read) with it; `projections
-- rebuild` builds into a new schema with it and swaps that in, so readers
-- keep the old read models until the new ones are complete. The read models
-- are derived data. Each table is keyed for the reads it serves, all by
-- case: the timeline by (case_id, position), the obligations by (case_id,
-- ordinal); a case's timeline is ordered by occurred_at in memory (a case
-- has a few dozen entries). The columns after evaluated_as_of came with
-- migration 0013 (levels, violated, several policies), which adds them to
-- read models built before it. See docs/projections.md.
--
-- Called by:  the owner (migrate; the projector's rebuild); no EXECUTE for
--             anyone else.
-- Raises:     42P06  the schema exists already (CREATE SCHEMA)

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
            evaluated_as_of timestamptz NOT NULL,
            violated        integer     NOT NULL DEFAULT 0,
            should_met      integer     NOT NULL DEFAULT 0,
            should_judged   integer     NOT NULL DEFAULT 0,
            policy_name     text,
            policies        text[]      NOT NULL DEFAULT '{}'
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
            level           text        NOT NULL DEFAULT 'must',
            expected        text,
            given           text,
            policy_name     text,
            PRIMARY KEY (case_id, ordinal)
        );
        $ddl$, target);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO dtledger_reader', target);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO dtledger_reader', target);
END;
$$;

REVOKE ALL ON FUNCTION dtledger.create_read_models(text) FROM PUBLIC;
