-- AuraLink schema, Phase 2 design carried forward.
-- Runs as the owner. Requests run as auralink_app (owns nothing, no BYPASSRLS)
-- through SET LOCAL ROLE, so every policy below is enforced for user traffic.
-- PostgreSQL 15 features only (CI and production run 15).

-- Roles are cluster-wide: create idempotently, tolerating a concurrent creator.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auralink_app') THEN
    CREATE ROLE auralink_app NOLOGIN NOINHERIT NOBYPASSRLS;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END $$;

-- The login role must be able to SET ROLE auralink_app (a no-op for superusers).
DO $$
BEGIN
  IF NOT pg_has_role(current_user, 'auralink_app', 'MEMBER') THEN
    EXECUTE format('GRANT auralink_app TO %I', current_user);
  END IF;
END $$;

CREATE SCHEMA IF NOT EXISTS app;

-- The signed-in user of the current transaction, NULL when unset or empty.
CREATE FUNCTION app.current_user_id() RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('app.user_id', true), '')::uuid
$$;

CREATE FUNCTION app.touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$;

-- ---------------------------------------------------------------- users
CREATE TABLE users (
  user_id       uuid PRIMARY KEY,
  email         text CHECK (email IS NULL OR length(email) <= 320),
  aura_id       text UNIQUE CHECK (aura_id ~ '^@[a-zA-Z0-9_-]+\.aura$' AND length(aura_id) <= 64),
  username      text UNIQUE CHECK (length(username) BETWEEN 1 AND 64),
  display_name  text CHECK (length(display_name) <= 255),
  avatar_url    text CHECK (length(avatar_url) <= 2048),
  bio           text CHECK (length(bio) <= 2000),
  role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin', 'moderator', 'agent')),
  is_active     boolean NOT NULL DEFAULT true,
  metadata      jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz
);
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE TRIGGER users_updated_at BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- ---------------------------------------------------------------- calls
CREATE TABLE calls (
  call_id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  room_id                   text,
  room_name                 text NOT NULL UNIQUE CHECK (room_name ~ '^[A-Za-z0-9_-]{1,128}$'),
  name                      text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  created_by                uuid NOT NULL REFERENCES users (user_id),
  organization_id           uuid,
  call_type                 text NOT NULL DEFAULT 'group'
                              CHECK (call_type IN ('one_to_one', 'group', 'conference', 'broadcast')),
  status                    text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'active', 'ended', 'failed')),
  privacy                   text NOT NULL DEFAULT 'private' CHECK (privacy IN ('private', 'public')),
  started_at                timestamptz,
  ended_at                  timestamptz,
  duration_seconds          integer CHECK (duration_seconds >= 0),
  max_participants          integer NOT NULL DEFAULT 50 CHECK (max_participants BETWEEN 1 AND 1000),
  participant_count         integer NOT NULL DEFAULT 0 CHECK (participant_count >= 0),
  recording_enabled         boolean NOT NULL DEFAULT false,
  recording_url             text,
  screen_sharing_enabled    boolean NOT NULL DEFAULT true,
  file_sharing_enabled      boolean NOT NULL DEFAULT true,
  avg_quality_score         numeric(3, 2) CHECK (avg_quality_score BETWEEN 0 AND 5),
  total_data_transferred_mb numeric(14, 2) NOT NULL DEFAULT 0,
  metadata                  jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now(),
  CHECK (call_type <> 'one_to_one' OR max_participants <= 2)
);
CREATE UNIQUE INDEX calls_room_id_key ON calls (room_id) WHERE room_id IS NOT NULL;
CREATE INDEX calls_created_by_created_idx ON calls (created_by, created_at DESC, call_id DESC);
CREATE INDEX calls_status_idx ON calls (status) WHERE status IN ('waiting', 'active');
CREATE INDEX calls_created_idx ON calls (created_at DESC, call_id DESC);
CREATE TRIGGER calls_updated_at BEFORE UPDATE ON calls FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- Ending a call stamps ended_at and the duration once.
CREATE FUNCTION app.call_set_duration() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IN ('ended', 'failed') AND OLD.status NOT IN ('ended', 'failed') THEN
    NEW.ended_at := coalesce(NEW.ended_at, now());
    NEW.duration_seconds := greatest(0, floor(extract(epoch FROM NEW.ended_at - coalesce(NEW.started_at, NEW.created_at))))::integer;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER calls_duration BEFORE UPDATE OF status ON calls FOR EACH ROW EXECUTE FUNCTION app.call_set_duration();

CREATE TABLE call_invitees (
  call_id    uuid NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  invited_by uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (call_id, user_id)
);
CREATE INDEX call_invitees_user_idx ON call_invitees (user_id, call_id);
CREATE INDEX call_invitees_invited_by_idx ON call_invitees (invited_by);

-- ---------------------------------------------------------------- participants
-- One row per LiveKit connection (participant sid); a person who rejoins gets a new row.
CREATE TABLE call_participants (
  participant_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  call_id             uuid NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
  user_id             uuid REFERENCES users (user_id) ON DELETE SET NULL,
  identity            text NOT NULL CHECK (length(identity) BETWEEN 1 AND 255),
  participant_sid     text,
  display_name        text CHECK (length(display_name) <= 255),
  role                text NOT NULL DEFAULT 'participant' CHECK (role IN ('host', 'moderator', 'participant', 'viewer')),
  status              text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'connected', 'disconnected', 'left')),
  joined_at           timestamptz,
  left_at             timestamptz,
  duration_seconds    integer CHECK (duration_seconds >= 0),
  audio_enabled       boolean NOT NULL DEFAULT false,
  video_enabled       boolean NOT NULL DEFAULT false,
  screen_sharing      boolean NOT NULL DEFAULT false,
  avg_quality_score   numeric(3, 2) CHECK (avg_quality_score BETWEEN 0 AND 5),
  packet_loss_percent numeric(5, 2) CHECK (packet_loss_percent BETWEEN 0 AND 100),
  avg_latency_ms      integer CHECK (avg_latency_ms >= 0),
  ip_address          inet,
  user_agent          text CHECK (length(user_agent) <= 1024),
  connection_type     text CHECK (connection_type IN ('udp', 'tcp', 'relay')),
  metadata            jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX call_participants_sid_key ON call_participants (call_id, participant_sid) WHERE participant_sid IS NOT NULL;
CREATE INDEX call_participants_call_idx ON call_participants (call_id, status);
CREATE INDEX call_participants_user_idx ON call_participants (user_id, call_id);
CREATE INDEX call_participants_identity_idx ON call_participants (call_id, identity);
CREATE TRIGGER call_participants_updated_at BEFORE UPDATE ON call_participants
  FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- Leaving stamps left_at and the duration once.
CREATE FUNCTION app.participant_set_duration() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IN ('disconnected', 'left') AND OLD.status NOT IN ('disconnected', 'left') THEN
    NEW.left_at := coalesce(NEW.left_at, now());
    IF NEW.joined_at IS NOT NULL THEN
      NEW.duration_seconds := greatest(0, floor(extract(epoch FROM NEW.left_at - NEW.joined_at)))::integer;
    END IF;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER call_participants_duration BEFORE UPDATE OF status ON call_participants
  FOR EACH ROW EXECUTE FUNCTION app.participant_set_duration();

-- participant_count counts connected participants. Deltas (not recounts) keep it
-- right under concurrent joins: each change takes the call row lock in order.
CREATE FUNCTION app.participant_count_delta() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  was integer := 0;
  now_ integer := 0;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'connected' THEN was := 1; END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status = 'connected' THEN now_ := 1; END IF;
  IF TG_OP = 'UPDATE' AND OLD.call_id <> NEW.call_id THEN
    RAISE EXCEPTION 'call_id of a participant cannot change';
  END IF;
  IF now_ - was <> 0 THEN
    UPDATE calls SET participant_count = greatest(0, participant_count + (now_ - was))
     WHERE call_id = coalesce(NEW.call_id, OLD.call_id);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER call_participants_count AFTER INSERT OR UPDATE OF status OR DELETE ON call_participants
  FOR EACH ROW EXECUTE FUNCTION app.participant_count_delta();

-- ---------------------------------------------------------------- files
CREATE TABLE files (
  file_id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  call_id           uuid NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
  room_name         text NOT NULL,
  uploader_id       uuid REFERENCES users (user_id) ON DELETE SET NULL,
  uploader_identity text,
  file_name         text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
  file_type         text NOT NULL DEFAULT 'application/octet-stream' CHECK (length(file_type) <= 255),
  detected_type     text CHECK (length(detected_type) <= 255),
  file_size         bigint NOT NULL DEFAULT 0 CHECK (file_size >= 0),
  sha256            text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  storage_path      text NOT NULL,
  storage_bucket    text NOT NULL,
  access_level      text NOT NULL DEFAULT 'call_participants'
                      CHECK (access_level IN ('public', 'call_participants', 'private')),
  virus_scanned     boolean NOT NULL DEFAULT false,
  scan_status       text NOT NULL DEFAULT 'pending'
                      CHECK (scan_status IN ('pending', 'clean', 'infected', 'failed', 'skipped')),
  expires_at        timestamptz,
  thumbnail_url     text,
  metadata          jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX files_call_idx ON files (call_id, created_at DESC, file_id DESC);
CREATE INDEX files_uploader_idx ON files (uploader_id);
CREATE INDEX files_expires_idx ON files (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX files_scan_idx ON files (scan_status) WHERE scan_status = 'pending';
CREATE TRIGGER files_updated_at BEFORE UPDATE ON files FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- ---------------------------------------------------------------- shareable links
CREATE TABLE shareable_links (
  link_id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  short_code          text NOT NULL UNIQUE CHECK (short_code ~ '^[A-Za-z0-9_-]{10,64}$'),
  room_id             text,
  call_id             uuid NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
  created_by          uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  link_type           text NOT NULL DEFAULT 'room' CHECK (link_type IN ('room', 'call')),
  title               text CHECK (length(title) <= 255),
  description         text CHECK (length(description) <= 2000),
  access_type         text NOT NULL DEFAULT 'public' CHECK (access_type IN ('public', 'password', 'restricted')),
  password_hash       text,
  max_uses            integer CHECK (max_uses > 0),
  current_uses        integer NOT NULL DEFAULT 0 CHECK (current_uses >= 0),
  enable_recording    boolean NOT NULL DEFAULT false,
  enable_screen_share boolean NOT NULL DEFAULT true,
  enable_chat         boolean NOT NULL DEFAULT true,
  auto_join           boolean NOT NULL DEFAULT false,
  require_approval    boolean NOT NULL DEFAULT false,
  default_role        text NOT NULL DEFAULT 'participant' CHECK (default_role IN ('moderator', 'participant', 'viewer')),
  expires_at          timestamptz,
  total_clicks        bigint NOT NULL DEFAULT 0,
  unique_visitors     bigint NOT NULL DEFAULT 0,
  is_active           boolean NOT NULL DEFAULT true,
  metadata            jsonb NOT NULL DEFAULT '{}'::jsonb,
  last_used_at        timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CHECK (max_uses IS NULL OR current_uses <= max_uses),
  CHECK (access_type <> 'password' OR password_hash IS NOT NULL)
);
CREATE INDEX shareable_links_call_idx ON shareable_links (call_id, created_at DESC, link_id DESC);
CREATE INDEX shareable_links_created_by_idx ON shareable_links (created_by);
CREATE INDEX shareable_links_expires_idx ON shareable_links (expires_at) WHERE is_active AND expires_at IS NOT NULL;
CREATE TRIGGER shareable_links_updated_at BEFORE UPDATE ON shareable_links
  FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- ---------------------------------------------------------------- quality
CREATE TABLE quality_metrics (
  metric_id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  call_id             uuid NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
  participant_id      uuid NOT NULL REFERENCES call_participants (participant_id) ON DELETE CASCADE,
  recorded_at         timestamptz NOT NULL DEFAULT now(),
  packet_loss_percent numeric(5, 2) CHECK (packet_loss_percent BETWEEN 0 AND 100),
  jitter_ms           numeric(10, 2) CHECK (jitter_ms >= 0),
  latency_ms          numeric(10, 2) CHECK (latency_ms >= 0),
  bandwidth_kbps      numeric(12, 2) CHECK (bandwidth_kbps >= 0),
  video_resolution    text CHECK (length(video_resolution) <= 32),
  video_fps           numeric(6, 2) CHECK (video_fps >= 0),
  audio_bitrate_kbps  numeric(10, 2) CHECK (audio_bitrate_kbps >= 0),
  video_bitrate_kbps  numeric(10, 2) CHECK (video_bitrate_kbps >= 0),
  connection_type     text CHECK (connection_type IN ('udp', 'tcp', 'relay')),
  ice_state           text CHECK (length(ice_state) <= 32),
  quality_score       numeric(3, 2) CHECK (quality_score BETWEEN 0 AND 5),
  metadata            jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX quality_metrics_call_time_idx ON quality_metrics (call_id, recorded_at);
CREATE INDEX quality_metrics_participant_time_idx ON quality_metrics (participant_id, recorded_at);
CREATE INDEX quality_metrics_recorded_brin ON quality_metrics USING brin (recorded_at);

-- ---------------------------------------------------------------- contacts
CREATE TABLE contacts (
  contact_id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id           uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  contact_user_id   uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  relationship_type text NOT NULL DEFAULT 'friend' CHECK (relationship_type IN ('friend', 'colleague')),
  nickname          text CHECK (length(nickname) <= 255),
  is_favorite       boolean NOT NULL DEFAULT false,
  is_blocked        boolean NOT NULL DEFAULT false,
  notes             text CHECK (length(notes) <= 4000),
  tags              text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 50),
  metadata          jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT contacts_no_self CHECK (user_id <> contact_user_id),
  CONSTRAINT contacts_pair_key UNIQUE (user_id, contact_user_id)
);
CREATE INDEX contacts_contact_user_idx ON contacts (contact_user_id, user_id) WHERE is_blocked;
CREATE INDEX contacts_user_created_idx ON contacts (user_id, created_at DESC, contact_id DESC);
CREATE INDEX contacts_tags_idx ON contacts USING gin (tags);
CREATE TRIGGER contacts_updated_at BEFORE UPDATE ON contacts FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- ---------------------------------------------------------------- live events
-- Every change worth telling a client about is a row here, written in the same
-- transaction as the change; a trigger NOTIFYs its id on commit. SSE readers load
-- the row under the subscriber's own RLS scope, so visibility is the policy's.
CREATE TABLE call_events (
  event_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  call_id          uuid REFERENCES calls (call_id) ON DELETE CASCADE,
  audience_user_id uuid REFERENCES users (user_id) ON DELETE CASCADE,
  type             text NOT NULL CHECK (length(type) <= 64),
  payload          jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (call_id IS NOT NULL OR audience_user_id IS NOT NULL)
);
CREATE INDEX call_events_call_idx ON call_events (call_id, event_id);
CREATE INDEX call_events_audience_idx ON call_events (audience_user_id, event_id) WHERE audience_user_id IS NOT NULL;
CREATE INDEX call_events_created_idx ON call_events (created_at);

CREATE FUNCTION app.call_events_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('auralink_events', NEW.event_id::text);
  RETURN NULL;
END $$;
CREATE TRIGGER call_events_notify AFTER INSERT ON call_events FOR EACH ROW EXECUTE FUNCTION app.call_events_notify();

-- ---------------------------------------------------------------- access helpers
-- SECURITY DEFINER so that policies on one table can look at another without
-- recursing through that table's own policies. Each answers for the current user only.
CREATE FUNCTION app.is_call_creator(p_call uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM calls WHERE call_id = p_call AND created_by = app.current_user_id())
$$;

-- Creator, invitee or someone who took part: who sees the call in history.
CREATE FUNCTION app.is_call_member(p_call uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT app.current_user_id() IS NOT NULL AND (
       EXISTS (SELECT 1 FROM calls WHERE call_id = p_call AND created_by = app.current_user_id())
    OR EXISTS (SELECT 1 FROM call_invitees WHERE call_id = p_call AND user_id = app.current_user_id())
    OR EXISTS (SELECT 1 FROM call_participants WHERE call_id = p_call AND user_id = app.current_user_id()))
$$;

-- Members, plus any signed-in user for a public room.
CREATE FUNCTION app.can_see_call(p_call uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT app.current_user_id() IS NOT NULL AND (
       app.is_call_member(p_call)
    OR EXISTS (SELECT 1 FROM calls WHERE call_id = p_call AND privacy = 'public'))
$$;

-- Has p_other blocked the current user?
CREATE FUNCTION app.is_blocked_by(p_other uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM contacts
                  WHERE user_id = p_other AND contact_user_id = app.current_user_id() AND is_blocked)
$$;

-- ---------------------------------------------------------------- row-level security
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_select ON users FOR SELECT USING (user_id = app.current_user_id());
CREATE POLICY users_insert ON users FOR INSERT WITH CHECK (user_id = app.current_user_id());
CREATE POLICY users_update ON users FOR UPDATE USING (user_id = app.current_user_id())
  WITH CHECK (user_id = app.current_user_id());
-- no delete policy: accounts are not deleted through the API

ALTER TABLE calls ENABLE ROW LEVEL SECURITY;
CREATE POLICY calls_select ON calls FOR SELECT USING (
  created_by = app.current_user_id() OR app.can_see_call(call_id));
CREATE POLICY calls_insert ON calls FOR INSERT WITH CHECK (created_by = app.current_user_id());
CREATE POLICY calls_update ON calls FOR UPDATE USING (created_by = app.current_user_id())
  WITH CHECK (created_by = app.current_user_id());
CREATE POLICY calls_delete ON calls FOR DELETE USING (created_by = app.current_user_id());

ALTER TABLE call_invitees ENABLE ROW LEVEL SECURITY;
CREATE POLICY call_invitees_select ON call_invitees FOR SELECT USING (
  user_id = app.current_user_id() OR app.is_call_creator(call_id));
CREATE POLICY call_invitees_insert ON call_invitees FOR INSERT WITH CHECK (
  invited_by = app.current_user_id() AND app.is_call_creator(call_id));
CREATE POLICY call_invitees_delete ON call_invitees FOR DELETE USING (app.is_call_creator(call_id));

ALTER TABLE call_participants ENABLE ROW LEVEL SECURITY;
CREATE POLICY call_participants_select ON call_participants FOR SELECT USING (app.can_see_call(call_id));
CREATE POLICY call_participants_insert ON call_participants FOR INSERT WITH CHECK (
  user_id = app.current_user_id() AND app.can_see_call(call_id));
CREATE POLICY call_participants_update ON call_participants FOR UPDATE USING (
  user_id = app.current_user_id() OR app.is_call_creator(call_id))
  WITH CHECK (user_id = app.current_user_id() OR app.is_call_creator(call_id));
CREATE POLICY call_participants_delete ON call_participants FOR DELETE USING (app.is_call_creator(call_id));

ALTER TABLE files ENABLE ROW LEVEL SECURITY;
-- Expired files vanish from every read at once, before the cleanup job runs.
CREATE POLICY files_select ON files FOR SELECT USING (
  (expires_at IS NULL OR expires_at > now())
  AND (uploader_id = app.current_user_id()
       OR (access_level = 'public' AND app.can_see_call(call_id))
       OR (access_level = 'call_participants' AND app.is_call_member(call_id))));
CREATE POLICY files_insert ON files FOR INSERT WITH CHECK (
  uploader_id = app.current_user_id() AND app.is_call_member(call_id));
CREATE POLICY files_update ON files FOR UPDATE USING (uploader_id = app.current_user_id())
  WITH CHECK (uploader_id = app.current_user_id());
CREATE POLICY files_delete ON files FOR DELETE USING (
  uploader_id = app.current_user_id() OR app.is_call_creator(call_id));

ALTER TABLE shareable_links ENABLE ROW LEVEL SECURITY;
CREATE POLICY shareable_links_select ON shareable_links FOR SELECT USING (created_by = app.current_user_id());
CREATE POLICY shareable_links_insert ON shareable_links FOR INSERT WITH CHECK (
  created_by = app.current_user_id() AND app.is_call_creator(call_id));
CREATE POLICY shareable_links_update ON shareable_links FOR UPDATE USING (created_by = app.current_user_id())
  WITH CHECK (created_by = app.current_user_id());
CREATE POLICY shareable_links_delete ON shareable_links FOR DELETE USING (created_by = app.current_user_id());

ALTER TABLE quality_metrics ENABLE ROW LEVEL SECURITY;
CREATE POLICY quality_metrics_select ON quality_metrics FOR SELECT USING (app.is_call_member(call_id));
-- A participant reports samples about its own connection only.
CREATE POLICY quality_metrics_insert ON quality_metrics FOR INSERT WITH CHECK (
  EXISTS (SELECT 1 FROM call_participants p
           WHERE p.participant_id = quality_metrics.participant_id
             AND p.call_id = quality_metrics.call_id
             AND p.user_id = app.current_user_id()));
-- samples are immutable for users: no update or delete policy

ALTER TABLE contacts ENABLE ROW LEVEL SECURITY;
CREATE POLICY contacts_select ON contacts FOR SELECT USING (user_id = app.current_user_id());
CREATE POLICY contacts_insert ON contacts FOR INSERT WITH CHECK (user_id = app.current_user_id());
CREATE POLICY contacts_update ON contacts FOR UPDATE USING (user_id = app.current_user_id())
  WITH CHECK (user_id = app.current_user_id());
CREATE POLICY contacts_delete ON contacts FOR DELETE USING (user_id = app.current_user_id());

ALTER TABLE call_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY call_events_select ON call_events FOR SELECT USING (
  CASE WHEN audience_user_id IS NOT NULL THEN audience_user_id = app.current_user_id()
       ELSE app.can_see_call(call_id) END);
CREATE POLICY call_events_insert ON call_events FOR INSERT WITH CHECK (
  (call_id IS NULL OR app.can_see_call(call_id)));

-- ---------------------------------------------------------------- public profiles
-- Other users' profiles are readable only through this view, which exposes the
-- public columns (never email) and only to a signed-in caller. It runs with the
-- owner's rights on purpose: users' own RLS lets a user see only their own row.
CREATE VIEW user_profiles AS
  SELECT user_id, aura_id, username, display_name, avatar_url
    FROM users
   WHERE is_active AND app.current_user_id() IS NOT NULL;

-- ---------------------------------------------------------------- views
CREATE VIEW active_calls_view WITH (security_invoker = true) AS
  SELECT c.call_id, c.room_id, c.room_name, c.name, c.call_type, c.status, c.privacy,
         c.created_by, c.started_at, c.participant_count, c.max_participants, c.created_at
    FROM calls c
   WHERE c.status IN ('waiting', 'active');

CREATE VIEW call_history_view WITH (security_invoker = true) AS
  SELECT c.call_id, c.room_id, c.room_name, c.name, c.call_type, c.status, c.started_at, c.ended_at,
         c.duration_seconds, c.participant_count, c.max_participants, c.avg_quality_score, c.created_at,
         c.created_by, p.display_name AS creator_display_name, p.aura_id AS creator_aura_id,
         (SELECT count(*) FROM files f WHERE f.call_id = c.call_id) AS files_shared
    FROM calls c
    LEFT JOIN user_profiles p ON p.user_id = c.created_by;

-- ---------------------------------------------------------------- functions
CREATE FUNCTION get_active_calls(p_user uuid) RETURNS SETOF calls
LANGUAGE sql STABLE AS $$
  SELECT c.* FROM calls c
   WHERE c.status IN ('waiting', 'active')
     AND (c.created_by = p_user
          OR EXISTS (SELECT 1 FROM call_participants cp WHERE cp.call_id = c.call_id AND cp.user_id = p_user)
          OR EXISTS (SELECT 1 FROM call_invitees ci WHERE ci.call_id = c.call_id AND ci.user_id = p_user))
   ORDER BY c.created_at DESC
$$;

-- Deactivates links past their expiry; returns how many changed.
CREATE FUNCTION clean_expired_links() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
  UPDATE shareable_links SET is_active = false
   WHERE is_active AND expires_at IS NOT NULL AND expires_at <= now();
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

-- Claims a batch of expired files for the cleanup job, which deletes each object
-- and then its row; rows are returned, not deleted, so no row outlives its object
-- silently and no object loses its row before it is gone.
CREATE FUNCTION clean_expired_files(p_limit integer DEFAULT 100)
RETURNS TABLE (file_id uuid, storage_bucket text, storage_path text)
LANGUAGE sql AS $$
  SELECT f.file_id, f.storage_bucket, f.storage_path
    FROM files f
   WHERE f.expires_at IS NOT NULL AND f.expires_at <= now()
   ORDER BY f.expires_at
   LIMIT p_limit
   FOR UPDATE SKIP LOCKED
$$;

-- ---------------------------------------------------------------- grants
GRANT USAGE ON SCHEMA public, app TO auralink_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, calls, call_invitees, call_participants, files,
  shareable_links, quality_metrics, contacts, call_events TO auralink_app;
GRANT SELECT ON user_profiles, active_calls_view, call_history_view TO auralink_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO auralink_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA app TO auralink_app;
GRANT EXECUTE ON FUNCTION get_active_calls(uuid) TO auralink_app;
REVOKE EXECUTE ON FUNCTION clean_expired_links(), clean_expired_files(integer) FROM PUBLIC;
