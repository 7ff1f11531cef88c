-- Signing keys are sealed at rest: `private_key` holds the seed encrypted with a
-- key of its own (nonce first), `wrapped_key` that key encrypted with the
-- operator's key-encryption key named by `kek_id` (its digest's prefix). Rows
-- written before sealing have no `kek_id` until the server seals them at start.
ALTER TABLE signing_keys ADD COLUMN wrapped_key bytea;
ALTER TABLE signing_keys ADD COLUMN kek_id text;
-- An emergency revocation: the key leaves the JWKS at once, and every token it
-- signed stops working.
ALTER TABLE signing_keys ADD COLUMN revoked_at timestamptz;
