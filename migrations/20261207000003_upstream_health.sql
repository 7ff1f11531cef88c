-- Each gateway reports the upstreams it has seen fail recently, with their
-- circuit state, so the console can say that an upstream is unreachable.
ALTER TABLE gateway_instances ADD COLUMN upstreams jsonb NOT NULL DEFAULT '[]';
