-- The composite types dtledger.append_many gathers each stage of a batch
-- into (one array sorted once, instead of one sorted array per field:
-- issue 6, file imports). The function lives in
-- Migrations/functions/0009_append_many.sql; migration 0009 dropped
-- append_row's canonical attribute (dtledger.event_hash builds the bytes).

-- One input event, in input order.
CREATE TYPE dtledger.append_item AS (
    c text, type text, occurred timestamptz, actor text, source text, key text, data jsonb, metadata jsonb);

-- One event to append, in append order, with its canonical bytes.
CREATE TYPE dtledger.append_row AS (
    ord bigint, c text, type text, occurred timestamptz, actor text, source text, key text, data jsonb,
    version bigint, id uuid, metadata jsonb, canonical bytea);
