-- Contract registry: APIs owned by teams, immutable contract versions with their
-- lint results and breaking-change reports, and the organisation's lint settings.

CREATE TABLE apis (
    id           uuid PRIMARY KEY,
    slug         text NOT NULL CONSTRAINT apis_slug_key UNIQUE,
    name         text NOT NULL,
    team_id      uuid NOT NULL REFERENCES teams (id) ON DELETE RESTRICT,
    description  text NOT NULL DEFAULT '',
    capability   text NOT NULL DEFAULT '',
    tier         text NOT NULL CHECK (tier IN ('critical', 'standard', 'low')),
    tags         text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX apis_team_idx ON apis (team_id);

CREATE TABLE api_versions (
    id              uuid PRIMARY KEY,
    api_id          uuid NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
    version         text NOT NULL,
    major           integer NOT NULL,
    minor           integer NOT NULL,
    patch           integer NOT NULL,
    base_path       text NOT NULL,
    upstream_url    text NOT NULL,
    -- The contract exactly as uploaded; a version never changes once stored.
    spec_text       text NOT NULL,
    spec_format     text NOT NULL CHECK (spec_format IN ('yaml', 'json')),
    spec_sha256     text NOT NULL,
    operations      integer NOT NULL DEFAULT 0,
    state           text NOT NULL CHECK (state IN
                      ('draft', 'in_review', 'approved', 'published', 'deprecated', 'retired', 'rejected')),
    lint            jsonb NOT NULL DEFAULT '[]',
    lint_errors     integer NOT NULL DEFAULT 0,
    lint_warnings   integer NOT NULL DEFAULT 0,
    -- Breaking-change report against the latest published version at submission.
    compared_to     uuid REFERENCES api_versions (id),
    report          jsonb,
    breaking        integer,
    waiver_reason   text,
    uploaded_by     uuid REFERENCES users (id),
    reviewed_by     uuid REFERENCES users (id),
    review_comment  text,
    sunset_date     date,
    successor_id    uuid REFERENCES api_versions (id),
    retire_reason   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    submitted_at    timestamptz,
    reviewed_at     timestamptz,
    published_at    timestamptz,
    deprecated_at   timestamptz,
    retired_at      timestamptz,
    CONSTRAINT api_versions_version_key UNIQUE (api_id, version)
);
CREATE INDEX api_versions_api_idx ON api_versions (api_id, major, minor, patch);

-- Organisation-level lint settings. A row switches a rule off (severity NULL) or
-- changes its severity; rules without a row use their defaults.
CREATE TABLE lint_rule_settings (
    rule        text PRIMARY KEY,
    severity    text CHECK (severity IN ('error', 'warning', 'info')),
    updated_by  uuid REFERENCES users (id),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
