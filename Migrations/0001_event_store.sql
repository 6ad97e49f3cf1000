-- The event store: one append-only table of events, a head row that
-- serialises sequencing and carries the chain's tip, and one stream-head row
-- per case for optimistic concurrency; the writer and reader roles. See
-- docs/ledger.md.
-- The functions and triggers of these tables live in Migrations/functions/
-- (0001_*.sql), applied with this migration.

CREATE SCHEMA IF NOT EXISTS dtledger;

CREATE TABLE dtledger.events (
    position        bigint      PRIMARY KEY,
    id              uuid        NOT NULL UNIQUE,
    case_id         text        NOT NULL,
    version         bigint      NOT NULL CHECK (version >= 1),
    type            text        NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    actor           text        NOT NULL,
    source          text        NOT NULL,
    idempotency_key text        UNIQUE,
    data            jsonb       NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    metadata        jsonb       NOT NULL CHECK (jsonb_typeof(metadata) = 'object'),
    previous_hash   bytea       NOT NULL CHECK (octet_length(previous_hash) = 32),
    hash            bytea       NOT NULL CHECK (octet_length(hash) = 32),
    UNIQUE (case_id, version)
);
CREATE INDEX events_type_idx ON dtledger.events (type);

-- The tip of the chain. Appends lock this row, so positions are assigned and
-- committed strictly in order: a reader following `position` never sees
-- position n+1 before n has committed.
CREATE TABLE dtledger.head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    position  bigint  NOT NULL,
    hash      bytea   NOT NULL
);
INSERT INTO dtledger.head VALUES (true, 0, decode(repeat('00', 32), 'hex'));

-- One row per case: its current version (the stream head).
CREATE TABLE dtledger.streams (
    case_id       text        PRIMARY KEY,
    version       bigint      NOT NULL,
    opened_type   text        NOT NULL,
    opened_at     timestamptz NOT NULL,
    last_position bigint      NOT NULL
);

-- Least privilege. Roles are cluster-wide; create them once.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dtledger_writer') THEN
        BEGIN
            CREATE ROLE dtledger_writer NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dtledger_reader') THEN
        BEGIN
            CREATE ROLE dtledger_reader NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
END;
$$;

REVOKE ALL ON SCHEMA dtledger FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA dtledger FROM PUBLIC;
GRANT USAGE ON SCHEMA dtledger TO dtledger_writer, dtledger_reader;
-- The writer can append through the append functions (each function's file
-- grants EXECUTE), and nothing else.
-- The reader can read events and stream heads, and nothing else.
GRANT SELECT ON dtledger.events, dtledger.streams, dtledger.head TO dtledger_reader;
