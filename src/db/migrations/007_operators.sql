-- Operators: the people who run a deployment read every call, through a role of their
-- own. auralink_operator owns nothing, cannot bypass RLS and is granted SELECT only,
-- so an operator request can read (by the policies below, each TO auralink_operator)
-- but never write, and it never runs on the privileged path of jobs and webhooks.
-- Operator requests keep app.user_id = the operator's own id: they do not act as
-- other users. PostgreSQL 15 features only; runs on PGlite as well.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auralink_operator') THEN
    CREATE ROLE auralink_operator NOLOGIN NOINHERIT NOBYPASSRLS;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END $$;

-- The login role must be able to SET ROLE auralink_operator (a no-op for superusers).
DO $$
BEGIN
  IF NOT pg_has_role(current_user, 'auralink_operator', 'MEMBER') THEN
    EXECUTE format('GRANT auralink_operator TO %I', current_user);
  END IF;
END $$;

-- ---------------------------------------------------------------- link health records
-- One row per reconciliation pass that ran (the instance held the lock), with what it
-- repaired; kept 30 days by the rollup-repair job.
CREATE TABLE reconcile_runs (
  run_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  started_at     timestamptz NOT NULL,
  finished_at    timestamptz NOT NULL DEFAULT now(),
  calls          integer NOT NULL DEFAULT 0 CHECK (calls >= 0),
  calls_ended    integer NOT NULL DEFAULT 0 CHECK (calls_ended >= 0),
  sessions_joined integer NOT NULL DEFAULT 0 CHECK (sessions_joined >= 0),
  sessions_left  integer NOT NULL DEFAULT 0 CHECK (sessions_left >= 0),
  tracks         integer NOT NULL DEFAULT 0 CHECK (tracks >= 0),
  error          text CHECK (length(error) <= 1000)
);
CREATE INDEX reconcile_runs_finished_idx ON reconcile_runs (finished_at DESC);

-- Webhook deliveries that were refused or failed to apply. Refusals (bad signature,
-- bad body) come from anyone on the internet, so the service throttles them: one row
-- may stand for `count` failures of the same kind.
CREATE TABLE webhook_failures (
  failure_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  kind        text NOT NULL CHECK (kind IN ('signature', 'body', 'apply')),
  count       integer NOT NULL DEFAULT 1 CHECK (count >= 1),
  event       text CHECK (length(event) <= 64),
  event_id    text CHECK (length(event_id) <= 256),
  room_name   text CHECK (length(room_name) <= 256),
  error       text CHECK (length(error) <= 1000)
);
CREATE INDEX webhook_failures_occurred_idx ON webhook_failures (occurred_at DESC);

ALTER TABLE reconcile_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_failures ENABLE ROW LEVEL SECURITY;
-- Written on the privileged path only: no policies or grants for auralink_app.

-- ---------------------------------------------------------------- operator reads
GRANT USAGE ON SCHEMA public, app TO auralink_operator;

GRANT SELECT ON calls, call_invitees, call_participants, participant_media_events, files, quality_metrics,
  quality_rollups, call_members, webhook_events, reconcile_runs, webhook_failures TO auralink_operator;
-- Never the link password hash, never users' e-mail addresses or metadata.
GRANT SELECT (link_id, short_code, room_id, call_id, created_by, link_type, title, description, access_type,
  max_uses, current_uses, enable_recording, enable_screen_share, enable_chat, auto_join, require_approval,
  default_role, expires_at, total_clicks, unique_visitors, is_active, last_used_at, created_at, updated_at)
  ON shareable_links TO auralink_operator;
GRANT SELECT (user_id, aura_id, username, display_name, avatar_url, role, is_active, created_at, last_login_at)
  ON users TO auralink_operator;
GRANT SELECT ON user_profiles, active_calls_view, call_history_view TO auralink_operator;

CREATE POLICY calls_operator ON calls FOR SELECT TO auralink_operator USING (true);
CREATE POLICY call_invitees_operator ON call_invitees FOR SELECT TO auralink_operator USING (true);
CREATE POLICY call_participants_operator ON call_participants FOR SELECT TO auralink_operator USING (true);
CREATE POLICY participant_media_events_operator ON participant_media_events FOR SELECT TO auralink_operator USING (true);
CREATE POLICY files_operator ON files FOR SELECT TO auralink_operator USING (true);
CREATE POLICY quality_metrics_operator ON quality_metrics FOR SELECT TO auralink_operator USING (true);
CREATE POLICY quality_rollups_operator ON quality_rollups FOR SELECT TO auralink_operator USING (true);
CREATE POLICY call_members_operator ON call_members FOR SELECT TO auralink_operator USING (true);
CREATE POLICY webhook_events_operator ON webhook_events FOR SELECT TO auralink_operator USING (true);
CREATE POLICY reconcile_runs_operator ON reconcile_runs FOR SELECT TO auralink_operator USING (true);
CREATE POLICY webhook_failures_operator ON webhook_failures FOR SELECT TO auralink_operator USING (true);
CREATE POLICY shareable_links_operator ON shareable_links FOR SELECT TO auralink_operator USING (true);
CREATE POLICY users_operator ON users FOR SELECT TO auralink_operator USING (true);
-- Contacts, live events, waiting-room requests and link visitor data stay private:
-- no grant, so an operator query on them fails.
