-- What an admin allows upstream traffic to reach beyond the default (which
-- refuses loopback, link-local, metadata and similar addresses): CIDR blocks,
-- addresses, exact socket addresses and host names, one per row.
CREATE TABLE upstream_allow (
    entry       text PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now()
);
