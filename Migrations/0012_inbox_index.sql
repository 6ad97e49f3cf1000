-- The mapper of `dtledger serve` looks for inbox receipts to try again
-- after every pass that appended something (ReceiptStore.waiting): a
-- partial index on the inbox outcomes, so that look does not scan every
-- receipt's outcomes under a burst.

CREATE INDEX receipt_outcomes_inbox ON dtledger.receipt_outcomes (receipt_id, id) WHERE outcome = 'inbox';
