-- The envelope rules (DOMAIN.md §1), enforced by the database too, so a
-- writer calling dtledger.append directly (psql, another client) cannot
-- store what the CLI would refuse. The CLI checks first, with clearer
-- messages; these are the backstop (SQLSTATE 23514, exit 65).
ALTER TABLE dtledger.events
    ADD CONSTRAINT events_case_id_pattern CHECK (case_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    ADD CONSTRAINT events_type_length CHECK (octet_length(type) BETWEEN 1 AND 128),
    ADD CONSTRAINT events_actor_form CHECK (octet_length(actor) BETWEEN 1 AND 128 AND actor !~ '\s'),
    ADD CONSTRAINT events_source_known CHECK (source IN ('cli', 'pagerduty', 'slack', 'servicenow', 'email', 'import')),
    ADD CONSTRAINT events_key_length CHECK (idempotency_key IS NULL OR octet_length(idempotency_key) BETWEEN 1 AND 256);
