-- What `dtledger serve` receives (issue 16, docs/serve.md).
--
-- dtledger.receipts: every request a receiver accepted (signature or token
-- checked) and every record a poller fetched, exactly as it arrived: its raw
-- body, headers and receipt time, made durable BEFORE the service answers
-- 2xx. One row per delivery: (source, delivery_key) is unique, so a vendor's
-- retry of the same delivery (Slack's event_id, PagerDuty's event.id) adds
-- nothing. `refs` are the source's ids the body carries ("slack:C123/1775.0002",
-- "pagerduty:incident:P1ABC", ...), for case inference.
--
-- dtledger.receipt_outcomes: what the service did with each receipt, in
-- order: appended (the events, by id), duplicate (its events were already in
-- the ledger), inbox (could not be placed yet: the reason), ignored (not
-- evidence: the reason), discarded (a person's discard was applied).
--
-- dtledger.receipt_resolutions: what a person asked for an inbox item
-- (`dtledger inbox assign|map|discard`): recorded with their login, and
-- applied by the service, whose login appends the events (a person's login
-- is not a registered importer login, so it could not carry the signature).
--
-- All three are append-only for every role (triggers in
-- functions/0011_receipts_append_only.sql); rows are added only through
-- dtledger.receive, dtledger.record_outcomes and dtledger.resolve_receipt,
-- which stamp session_user.
--
-- dtledger.poller_state: each poller's cursor, back-off and last run (not
-- evidence: what was seen is in receipts). The receiver reads and writes it.
--
-- dtledger_receiver: the role of the service's own login (SECURITY.md,
-- "Roles"): a writer (appends the mapped events) and a reader (reads case
-- state to infer the case and purpose of a message).

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dtledger_receiver') THEN
        BEGIN
            CREATE ROLE dtledger_receiver NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
END;
$$;
GRANT dtledger_writer, dtledger_reader TO dtledger_receiver;

CREATE TABLE dtledger.receipts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source       text NOT NULL CHECK (source ~ '^[a-z][a-z0-9_-]{0,31}$'),
    delivery_key text NOT NULL CHECK (length(delivery_key) BETWEEN 1 AND 512),
    received_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    headers      jsonb NOT NULL,
    body         bytea NOT NULL,
    body_sha256  bytea NOT NULL CHECK (length(body_sha256) = 32),
    refs         text[] NOT NULL DEFAULT '{}',
    login        text NOT NULL,
    UNIQUE (source, delivery_key)
);
CREATE INDEX receipts_refs ON dtledger.receipts USING gin (refs);

CREATE TABLE dtledger.receipt_resolutions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    receipt_id  bigint NOT NULL REFERENCES dtledger.receipts (id),
    action      text NOT NULL CHECK (action IN ('assign', 'map', 'discard')),
    case_id     text,
    reason      text NOT NULL CHECK (length(btrim(reason)) > 0),
    actor       text NOT NULL,
    login       text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((action = 'assign') = (case_id IS NOT NULL))
);
CREATE INDEX receipt_resolutions_receipt ON dtledger.receipt_resolutions (receipt_id);

CREATE TABLE dtledger.receipt_outcomes (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    receipt_id    bigint NOT NULL REFERENCES dtledger.receipts (id),
    outcome       text NOT NULL CHECK (outcome IN ('appended', 'duplicate', 'inbox', 'ignored', 'discarded')),
    code          text,
    reason        text,
    case_id       text,
    event_ids     uuid[] NOT NULL DEFAULT '{}',
    resolution_id bigint REFERENCES dtledger.receipt_resolutions (id),
    login         text NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX receipt_outcomes_receipt ON dtledger.receipt_outcomes (receipt_id, id);

CREATE TABLE dtledger.poller_state (
    name       text PRIMARY KEY,
    state      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

REVOKE ALL ON dtledger.receipts, dtledger.receipt_outcomes, dtledger.receipt_resolutions, dtledger.poller_state FROM PUBLIC;
GRANT SELECT ON dtledger.receipts, dtledger.receipt_outcomes, dtledger.receipt_resolutions, dtledger.poller_state TO dtledger_reader;
GRANT INSERT, UPDATE ON dtledger.poller_state TO dtledger_receiver;

-- /readyz (any reader) checks that the migrations are this binary's.
GRANT SELECT ON dtledger.schema_migrations, dtledger.schema_functions TO dtledger_reader;
