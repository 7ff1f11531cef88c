-- Foundation: console users, teams, personal access tokens, sign-in throttling and
-- the tamper-evident audit trail. Sessions live in the tower_sessions schema,
-- created by the session store's own migration at start-up.

CREATE TABLE users (
    id             uuid PRIMARY KEY,
    email          text NOT NULL,
    display_name   text NOT NULL,
    role           text NOT NULL CHECK (role IN ('admin', 'reviewer', 'owner', 'viewer')),
    password_hash  text NOT NULL,
    disabled_at    timestamptz,
    -- Bumped when the user is disabled or their password is reset; sessions that
    -- carry an older epoch stop working at once.
    session_epoch  integer NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE teams (
    id           uuid PRIMARY KEY,
    slug         text NOT NULL CONSTRAINT teams_slug_key UNIQUE,
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE team_members (
    team_id   uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user_idx ON team_members (user_id);

CREATE TABLE access_tokens (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text NOT NULL,
    prefix        text NOT NULL,
    -- SHA-256 of the whole token; the token itself is never stored.
    digest        bytea NOT NULL CONSTRAINT access_tokens_digest_key UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX access_tokens_user_idx ON access_tokens (user_id);

CREATE TABLE sign_in_failures (
    id       bigserial PRIMARY KEY,
    account  text NOT NULL,
    client   text NOT NULL,
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failures_account_idx ON sign_in_failures (account, at);
CREATE INDEX sign_in_failures_client_idx ON sign_in_failures (client, at);

CREATE TABLE audit_log (
    seq          bigint PRIMARY KEY,
    at           timestamptz NOT NULL,
    actor_id     uuid,
    actor        text NOT NULL,
    action       text NOT NULL,
    target_type  text NOT NULL,
    target_id    text NOT NULL,
    before       jsonb,
    after        jsonb,
    prev_hash    bytea NOT NULL,
    hash         bytea NOT NULL
);
CREATE INDEX audit_log_actor_idx ON audit_log (actor);
CREATE INDEX audit_log_action_idx ON audit_log (action);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id);

-- Append-only: the trail can grow, never change.
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
