-- Contract drift: sampled upstream responses (APIs in report mode) that do not
-- match the published contract, with the first violations and a truncated example.
CREATE TABLE contract_drift (
    id          bigserial PRIMARY KEY,
    version_id  uuid NOT NULL REFERENCES api_versions (id) ON DELETE CASCADE,
    operation   text NOT NULL,
    status      integer NOT NULL,
    violations  jsonb NOT NULL,
    example     text NOT NULL,
    seen_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contract_drift_version_idx ON contract_drift (version_id, seen_at DESC);
