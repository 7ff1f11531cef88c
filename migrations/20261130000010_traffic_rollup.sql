-- Hourly rollups of traffic_minutes. Minute rows are pruned after a configurable
-- number of days; hours are kept much longer and carry SLO windows and long
-- dashboards cheaply (720 rows per slice for 30 days instead of 43,200).
CREATE TABLE traffic_hours (
    hour            timestamptz NOT NULL,
    version_id      uuid NOT NULL,
    api_id          uuid NOT NULL,
    operation       text NOT NULL,
    application_id  uuid NOT NULL,
    status_class    smallint NOT NULL CHECK (status_class BETWEEN 1 AND 5),
    requests        bigint NOT NULL,
    latency_sum_us  bigint NOT NULL,
    latency_buckets bigint[] NOT NULL,
    PRIMARY KEY (hour, version_id, operation, application_id, status_class)
);
CREATE INDEX traffic_hours_api_idx ON traffic_hours (api_id, hour);
CREATE INDEX traffic_hours_version_idx ON traffic_hours (version_id, hour);
CREATE INDEX traffic_minutes_version_idx ON traffic_minutes (version_id, minute);

-- How far minutes have been rolled up: every hour before rolled_until is in
-- traffic_hours. NULL until the first rollup.
CREATE TABLE traffic_rollup (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    rolled_until  timestamptz
);
INSERT INTO traffic_rollup (singleton, rolled_until) VALUES (true, NULL);

-- The one relation readers use: hours before the cut, minutes from it on. The
-- cut is the rollup watermark, but never inside the last six hours, so the short
-- burn-rate windows (5 m to 6 h) are always counted minute by minute.
CREATE VIEW traffic AS
    SELECT h.hour AS minute, h.version_id, h.api_id, h.operation, h.application_id,
           h.status_class, h.requests, h.latency_sum_us, h.latency_buckets
    FROM traffic_hours h
    WHERE h.hour < (SELECT least(coalesce(r.rolled_until, '-infinity'),
                                 date_trunc('hour', now() - interval '6 hours', 'UTC'))
                    FROM traffic_rollup r)
    UNION ALL
    SELECT m.minute, m.version_id, m.api_id, m.operation, m.application_id,
           m.status_class, m.requests, m.latency_sum_us, m.latency_buckets
    FROM traffic_minutes m
    WHERE m.minute >= (SELECT least(coalesce(r.rolled_until, '-infinity'),
                                    date_trunc('hour', now() - interval '6 hours', 'UTC'))
                       FROM traffic_rollup r);
