-- Read models kept by the projector (`dtledger projections run|rebuild`):
-- cases, timeline entries and obligation verdicts, in schema dtledger_read,
-- each batch written in the same transaction as the projector's checkpoint.
-- They are derived data: `projections rebuild` recreates them from the
-- ledger in a new schema and swaps it in, so readers keep the old ones until
-- the new ones are complete. See docs/projections.md.
-- dtledger.create_read_models lives in
-- Migrations/functions/0001_create_read_models.sql.

SELECT dtledger.create_read_models('dtledger_read');
