-- Telemetry batches already written, by the id the gateway gave each batch. A
-- flush inserts its id in the same transaction as its counts; a gateway that
-- lost the commit's answer retries under the same id and finds it here, so a
-- batch is counted once however often it is sent. Ids are kept a day, far
-- longer than a gateway holds an unacknowledged batch (15 minutes).
CREATE TABLE telemetry_batches (
    id          uuid PRIMARY KEY,
    written_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX telemetry_batches_written_idx ON telemetry_batches (written_at);
