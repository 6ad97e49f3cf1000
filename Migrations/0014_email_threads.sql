-- Email threads (issue 18): the index that lets dtledger.email_thread_cases
-- (Migrations/functions/0014_email_thread_cases.sql) find the case of an
-- email notification by its Message-ID without scanning the ledger: an
-- `import email` run as a writer looks up the parents of every reply in the
-- mailbox (In-Reply-To, References) with it. A partial expression index on
-- the message ref of email notifications only. See docs/importers.md,
-- "Threads".
CREATE INDEX IF NOT EXISTS events_email_message_ref_idx
    ON dtledger.events ((btrim(data->>'message_ref', '<> ')))
    WHERE type = 'notification.sent' AND data->>'channel' = 'email';
