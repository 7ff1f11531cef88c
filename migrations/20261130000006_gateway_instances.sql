-- Gateways report in on every telemetry flush, so the console can list them with
-- their snapshot's generation and age and their unflushed backlog.
CREATE TABLE gateway_instances (
    id                   uuid PRIMARY KEY,
    hostname             text NOT NULL,
    address              text NOT NULL,
    started_at           timestamptz NOT NULL,
    last_seen            timestamptz NOT NULL DEFAULT now(),
    snapshot_generation  bigint NOT NULL DEFAULT 0,
    snapshot_age_ms      bigint NOT NULL DEFAULT 0,
    versions             integer NOT NULL DEFAULT 0,
    keys                 integer NOT NULL DEFAULT 0,
    telemetry_backlog    bigint NOT NULL DEFAULT 0,
    telemetry_dropped    bigint NOT NULL DEFAULT 0,
    usage_backlog        bigint NOT NULL DEFAULT 0
);
