-- Service level objectives per API, optionally narrowed to a version, an
-- operation or a consumer's application, computed from traffic_minutes.
CREATE TABLE slos (
    id              uuid PRIMARY KEY,
    api_id          uuid NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
    name            text NOT NULL,
    description     text NOT NULL DEFAULT '',
    kind            text NOT NULL CHECK (kind IN ('availability', 'latency')),
    -- Percent of good requests, e.g. 99.9.
    target          double precision NOT NULL CHECK (target > 0 AND target < 100),
    window_days     integer NOT NULL CHECK (window_days IN (7, 28, 30)),
    -- Latency SLOs only: one of the histogram bounds, so compliance is exact.
    threshold_ms    integer CHECK (threshold_ms > 0),
    version_id      uuid REFERENCES api_versions (id) ON DELETE CASCADE,
    operation       text,
    application_id  uuid REFERENCES applications (id) ON DELETE CASCADE,
    created_by      uuid REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT slos_name_key UNIQUE (api_id, name),
    CHECK ((kind = 'latency') = (threshold_ms IS NOT NULL))
);
