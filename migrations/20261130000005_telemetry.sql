-- Gateway telemetry: one row per (minute, version, operation, application,
-- status class), with a latency histogram over fixed bounds (see
-- gateway::telemetry::BOUNDS_MS). Gateways upsert these in batches; SLOs and
-- dashboards read them.
CREATE TABLE traffic_minutes (
    minute          timestamptz NOT NULL,
    version_id      uuid NOT NULL,
    api_id          uuid NOT NULL,
    operation       text NOT NULL,
    -- The nil UUID stands for anonymous calls to public operations.
    application_id  uuid NOT NULL,
    status_class    smallint NOT NULL CHECK (status_class BETWEEN 1 AND 5),
    requests        bigint NOT NULL,
    latency_sum_us  bigint NOT NULL,
    latency_buckets bigint[] NOT NULL,
    PRIMARY KEY (minute, version_id, operation, application_id, status_class)
);
CREATE INDEX traffic_minutes_api_idx ON traffic_minutes (api_id, minute);
