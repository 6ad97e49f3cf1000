-- Authority comes from the database (issue 15).
--
-- dtledger_publisher: the role that alone may append to the 'policy' and
-- 'directory' streams (and retract their events). dtledger.append and
-- dtledger.append_many check membership of the session's login for every
-- caller (Migrations/functions/0010_*.sql). A publisher also writes and
-- reads (it checks a policy against the directory in force before
-- publishing it). The login that runs this migration is granted it, so
-- `migrate` can publish the default policy. See SECURITY.md, "Roles".
--
-- Positions start at 1 and the head starts at 0: CHECK constraints, so
-- not even the schema owner inserts an event at position 0 or below
-- (verify catches an owner who drops them; SECURITY.md).
--
-- A policy version is published once: a unique index on (policy name,
-- version) over policy.published events, which also serves the append
-- functions' lookup of an earlier publication.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dtledger_publisher') THEN
        BEGIN
            CREATE ROLE dtledger_publisher NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
END;
$$;
GRANT dtledger_writer, dtledger_reader TO dtledger_publisher;
DO $$
BEGIN
    IF NOT pg_has_role(session_user, 'dtledger_publisher', 'MEMBER') THEN
        EXECUTE format('GRANT dtledger_publisher TO %I', session_user);
    END IF;
END;
$$;

ALTER TABLE dtledger.events ADD CONSTRAINT events_position_from_1 CHECK (position >= 1);
ALTER TABLE dtledger.head ADD CONSTRAINT head_position_from_0 CHECK (position >= 0);

CREATE UNIQUE INDEX events_policy_version ON dtledger.events
    ((data->'policy'->>'name'), (data->'policy'->>'version')) WHERE type = 'policy.published';
