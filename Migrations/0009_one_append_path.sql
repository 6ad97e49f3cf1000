-- One append path (issue 14): dtledger.append and dtledger.append_many
-- both hash each event with dtledger.event_hash
-- (Migrations/functions/0001_event_hash.sql), the one place in SQL that
-- builds the canonical bytes. What that leaves unused goes: the
-- per-field helper dtledger.canonical_field (0001), and the canonical
-- bytes that dtledger.append_row (0006) carried from one stage of
-- append_many to the next. Stored events and hashes are untouched: the
-- bytes, and so every hash, are the same as before.
-- dtledger.append_many (functions/0009_append_many.sql) is replaced in
-- this migration's transaction, so no append_many call sees the type
-- without the function that fits it.

DROP FUNCTION IF EXISTS dtledger.canonical_field(text);
ALTER TYPE dtledger.append_row DROP ATTRIBUTE IF EXISTS canonical;
