-- Each SLO's standing over its window as of the last evaluation cycle (every
-- minute, and at creation). Lists and the Overview read these instead of
-- scanning a month of traffic per request; an SLO's own page computes live.
CREATE TABLE slo_status (
    slo_id       uuid PRIMARY KEY REFERENCES slos (id) ON DELETE CASCADE,
    total        bigint NOT NULL,
    good         bigint NOT NULL,
    computed_at  timestamptz NOT NULL
);
