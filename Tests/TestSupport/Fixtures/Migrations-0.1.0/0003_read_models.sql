-- Read models kept by the projector (`dtledger projections run|rebuild`):
-- cases, timeline entries and obligation verdicts, in schema dtledger_read,
-- each batch written in the same transaction as the projector's checkpoint.
-- They are derived data: `projections rebuild` recreates them from the
-- ledger in a new schema and swaps it in, so readers keep the old ones until
-- the new ones are complete. See docs/projections.md.

CREATE FUNCTION dtledger.create_read_models(target text) RETURNS void
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
            position     bigint      PRIMARY KEY,
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
            retracted    boolean     NOT NULL
        );
        CREATE INDEX ON %1$I.timeline (case_id, occurred_at);
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
        CREATE INDEX ON %1$I.obligations (rule_id, verdict);
        $ddl$, target);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO dtledger_reader', target);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO dtledger_reader', target);
END;
$$;

REVOKE ALL ON FUNCTION dtledger.create_read_models(text) FROM PUBLIC;

SELECT dtledger.create_read_models('dtledger_read');
