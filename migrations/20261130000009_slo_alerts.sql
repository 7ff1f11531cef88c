-- Multi-window, multi-burn-rate alerts on SLOs. One row per firing; resolved
-- alerts keep their times. Outbound notification (a later issue) reads these.
CREATE TABLE slo_alerts (
    id              uuid PRIMARY KEY,
    slo_id          uuid NOT NULL REFERENCES slos (id) ON DELETE CASCADE,
    severity        text NOT NULL CHECK (severity IN ('page', 'ticket')),
    long_window     text NOT NULL,
    short_window    text NOT NULL,
    threshold       double precision NOT NULL,
    long_burn       double precision NOT NULL,
    short_burn      double precision NOT NULL,
    fired_at        timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz,
    notified_at     timestamptz
);
-- At most one open alert per SLO and window pair.
CREATE UNIQUE INDEX slo_alerts_open_key ON slo_alerts (slo_id, long_window) WHERE resolved_at IS NULL;
