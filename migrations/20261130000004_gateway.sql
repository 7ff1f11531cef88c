-- Gateway: how strictly each API's requests are validated against its contract.
ALTER TABLE apis ADD COLUMN validation_mode text NOT NULL DEFAULT 'enforce'
    CHECK (validation_mode IN ('enforce', 'report', 'off'));
