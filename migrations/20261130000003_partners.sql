-- Partner credentials: consumers and their applications, plans, subscriptions to
-- APIs, API keys, OAuth2 clients and the token server's signing keys.

CREATE TABLE plans (
    id               uuid PRIMARY KEY,
    slug             text NOT NULL CONSTRAINT plans_slug_key UNIQUE,
    name             text NOT NULL,
    description      text NOT NULL DEFAULT '',
    rate_per_second  integer NOT NULL CHECK (rate_per_second > 0),
    burst            integer NOT NULL CHECK (burst > 0),
    daily_quota      bigint CHECK (daily_quota > 0),
    monthly_quota    bigint CHECK (monthly_quota > 0),
    environments     text[] NOT NULL CHECK (environments <@ ARRAY['sandbox', 'production']
                                            AND cardinality(environments) > 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

INSERT INTO plans (id, slug, name, description, rate_per_second, burst, daily_quota, monthly_quota, environments) VALUES
    ('00000000-0000-4000-8000-00000000b001', 'bronze', 'Bronze', 'Trials and sandbox integrations.',
     5, 10, 10000, 200000, ARRAY['sandbox']),
    ('00000000-0000-4000-8000-00000000b002', 'silver', 'Silver', 'Production partners with steady traffic.',
     25, 50, 250000, 5000000, ARRAY['sandbox', 'production']),
    ('00000000-0000-4000-8000-00000000b003', 'gold', 'Gold', 'Marketplaces and channels at peak volume.',
     100, 200, 2000000, 50000000, ARRAY['sandbox', 'production']);

CREATE TABLE consumers (
    id           uuid PRIMARY KEY,
    slug         text NOT NULL CONSTRAINT consumers_slug_key UNIQUE,
    name         text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('partner', 'internal')),
    description  text NOT NULL DEFAULT '',
    -- [{name, email, role}]; contacts are how owners reach a consumer before a sunset.
    contacts     jsonb NOT NULL DEFAULT '[]',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE applications (
    id           uuid PRIMARY KEY,
    consumer_id  uuid NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
    name         text NOT NULL,
    environment  text NOT NULL CHECK (environment IN ('sandbox', 'production')),
    description  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT applications_name_key UNIQUE (consumer_id, name)
);

CREATE TABLE subscriptions (
    id              uuid PRIMARY KEY,
    application_id  uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    api_id          uuid NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
    major           integer NOT NULL CHECK (major >= 0),
    plan_id         uuid NOT NULL REFERENCES plans (id),
    scopes          text[] NOT NULL DEFAULT '{}',
    state           text NOT NULL CHECK (state IN ('pending', 'active', 'suspended', 'cancelled')),
    requested_by    uuid REFERENCES users (id),
    approved_by     uuid REFERENCES users (id),
    approved_at     timestamptz,
    state_reason    text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- One live subscription per application, API and major line; cancelled ones stay as history.
CREATE UNIQUE INDEX subscriptions_line_key ON subscriptions (application_id, api_id, major)
    WHERE state <> 'cancelled';
CREATE INDEX subscriptions_api_idx ON subscriptions (api_id);

CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    name          text NOT NULL,
    environment   text NOT NULL CHECK (environment IN ('sandbox', 'production')),
    -- The public half of `stw_<env>_<lookup>_<secret>`: found in O(1) by the gateway.
    lookup_id     text NOT NULL CONSTRAINT api_keys_lookup_key UNIQUE,
    -- SHA-256 of the secret half; the key itself is never stored.
    digest        bytea NOT NULL,
    created_by    uuid REFERENCES users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz,
    last_used_at  timestamptz,
    rotated_from  uuid REFERENCES api_keys (id),
    rotated_at    timestamptz
);
CREATE INDEX api_keys_application_idx ON api_keys (application_id);

CREATE TABLE oauth_clients (
    id             uuid PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    name           text NOT NULL,
    client_id      text NOT NULL CONSTRAINT oauth_clients_client_id_key UNIQUE,
    created_by     uuid REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    last_used_at   timestamptz
);
CREATE INDEX oauth_clients_application_idx ON oauth_clients (application_id);

-- A client may hold two secrets during a rotation overlap; each is an Argon2id hash.
CREATE TABLE oauth_client_secrets (
    id          uuid PRIMARY KEY,
    client_id   uuid NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    hash        text NOT NULL,
    hint        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz
);
CREATE INDEX oauth_client_secrets_client_idx ON oauth_client_secrets (client_id);

-- Ed25519 keys that sign access tokens. The newest unretired key signs; retired
-- keys stay in the JWKS until every token they signed has expired.
CREATE TABLE signing_keys (
    kid            text PRIMARY KEY,
    algorithm      text NOT NULL CHECK (algorithm = 'EdDSA'),
    private_key    bytea NOT NULL,
    public_key     bytea NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    retired_at     timestamptz,
    publish_until  timestamptz
);
