-- Contacts search and presence, call-quality rollups, invite-link analytics,
-- password throttling and the waiting room. Runs as the owner, like 001.
-- PostgreSQL 15 features only; everything here also runs on PGlite (no extensions:
-- PGlite as embedded here does not load pg_trgm or btree_gin).

-- ================================================================ contacts
-- q searches nickname, display name and AuraID. Those live in two tables, so each
-- contact row carries a tsvector of all three (kept current by triggers on both
-- sides) and one GIN index answers word-prefix queries ("bo" finds "Bob Stone",
-- "@bobby.aura"). Full-text prefix matching is core Postgres: the same index works
-- on a real server and on PGlite, where trigram indexes are unavailable.

-- Lower-cased words; punctuation (ASCII only, so accented letters survive) splits.
CREATE FUNCTION app.search_words(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT btrim(regexp_replace(lower(coalesce(p, '')), '[[:punct:][:space:]]+', ' ', 'g'))
$$;

-- "@bob_smith.aura" is searched as "bob smith": the decoration matches everyone.
CREATE FUNCTION app.contact_search_vector(p_nickname text, p_display_name text, p_aura_id text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT to_tsvector('simple'::regconfig, app.search_words(
    coalesce(p_nickname, '') || ' ' || coalesce(p_display_name, '') || ' ' ||
    regexp_replace(coalesce(p_aura_id, ''), '^@|\.aura$', '', 'g')))
$$;

-- The query side of the same tokenisation: every word a prefix, all required.
-- Words hold no quotes or backslashes (punctuation was removed), so quoting is safe.
CREATE FUNCTION app.contact_search_query(p_q text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(
    (SELECT string_agg('''' || w || ''':*', ' & ')
       FROM regexp_split_to_table(app.search_words(regexp_replace(p_q, '^@|\.aura$', '', 'g')), ' ') AS w
      WHERE w <> '')::tsquery,
    ''::tsquery)
$$;

ALTER TABLE contacts ADD COLUMN search_vector tsvector NOT NULL DEFAULT ''::tsvector;
CREATE INDEX contacts_search_idx ON contacts USING gin (search_vector);
-- Prefix selectivity is estimated from the most common words: a longer list keeps
-- a selective search from being mistaken for a broad one (measured in bench/).
ALTER TABLE contacts ALTER COLUMN search_vector SET STATISTICS 1000;
-- Profile changes fan out to every contact row that names the user.
CREATE INDEX contacts_contact_user_all_idx ON contacts (contact_user_id);

-- Reads the other user's profile, which the inserting user's RLS scope cannot see.
CREATE FUNCTION app.contacts_set_search() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE v tsvector;
BEGIN
  SELECT app.contact_search_vector(NEW.nickname, u.display_name, u.aura_id) INTO v
    FROM users u WHERE u.user_id = NEW.contact_user_id;
  -- An unknown user leaves the foreign key to refuse the row.
  NEW.search_vector := coalesce(v, app.contact_search_vector(NEW.nickname, NULL, NULL));
  RETURN NEW;
END $$;
CREATE TRIGGER contacts_search BEFORE INSERT OR UPDATE OF nickname, contact_user_id ON contacts
  FOR EACH ROW EXECUTE FUNCTION app.contacts_set_search();

-- Runs as the owner: the renaming user may not write other users' contact rows.
CREATE FUNCTION app.users_sync_contact_search() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE contacts c
     SET search_vector = app.contact_search_vector(c.nickname, NEW.display_name, NEW.aura_id)
   WHERE c.contact_user_id = NEW.user_id;
  RETURN NULL;
END $$;
CREATE TRIGGER users_contact_search AFTER UPDATE OF display_name, aura_id ON users
  FOR EACH ROW WHEN (OLD.display_name IS DISTINCT FROM NEW.display_name OR OLD.aura_id IS DISTINCT FROM NEW.aura_id)
  EXECUTE FUNCTION app.users_sync_contact_search();

-- updated_at means "the owner edited this contact", not "the other user renamed".
DROP TRIGGER contacts_updated_at ON contacts;
CREATE TRIGGER contacts_updated_at
  BEFORE UPDATE OF relationship_type, nickname, is_favorite, is_blocked, notes, tags, metadata ON contacts
  FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- The filtered page of the caller's contact ids, newest first. Why a function:
-- under RLS the planner may not evaluate non-leakproof operators (tsvector @@,
-- array @>) ahead of the policy, so neither GIN index could be used and a
-- selective search over 100k contacts filtered them all. This runs as the owner,
-- is pinned to app.current_user_id() and returns ids only; the caller then reads
-- the rows under its own RLS scope. EXECUTE plans with the actual values, so the
-- planner can choose between the GIN bitmap and the ordered (user, created) index.
CREATE FUNCTION app.search_contacts(p_q text, p_tag text, p_relationship text, p_favorite boolean,
    p_blocked boolean, p_after_at timestamptz, p_after_id uuid, p_limit integer)
RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF app.current_user_id() IS NULL THEN RETURN; END IF;
  RETURN QUERY EXECUTE
    'SELECT contact_id FROM contacts
      WHERE user_id = $1
        AND ($2::text IS NULL OR search_vector @@ app.contact_search_query($2))
        AND ($3::text IS NULL OR tags @> ARRAY[$3::text])
        AND ($4::text IS NULL OR relationship_type = $4)
        AND ($5::boolean IS NULL OR is_favorite = $5)
        AND ($6::boolean IS NULL OR is_blocked = $6)
        AND ($7::timestamptz IS NULL OR (created_at, contact_id) < ($7, $8))
      ORDER BY created_at DESC, contact_id DESC
      LIMIT $9'
    USING app.current_user_id(), p_q, p_tag, p_relationship, p_favorite, p_blocked, p_after_at, p_after_id,
          least(greatest(p_limit, 1), 1000);
END $$;

CREATE INDEX call_participants_connected_user_idx ON call_participants (user_id) WHERE status = 'connected';

-- Presence, answered only about the caller's own contacts and never about someone
-- who blocked the caller. Participants of calls the caller cannot see are not
-- readable under RLS, hence SECURITY DEFINER with a single boolean out.
CREATE FUNCTION app.contact_in_call(p_user uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM contacts k WHERE k.user_id = app.current_user_id() AND k.contact_user_id = p_user)
     AND NOT app.is_blocked_by(p_user)
     AND EXISTS (SELECT 1 FROM call_participants p JOIN calls c ON c.call_id = p.call_id
                  WHERE p.user_id = p_user AND p.status = 'connected' AND c.status IN ('waiting', 'active'))
$$;

-- ================================================================ quality
-- Running sums per participant, so that averages stay current with O(1) work per
-- report instead of re-reading every sample; they also survive sample retention.
CREATE TABLE quality_rollups (
  participant_id uuid PRIMARY KEY REFERENCES call_participants (participant_id) ON DELETE CASCADE,
  call_id        uuid NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
  samples        bigint NOT NULL DEFAULT 0,
  score_n        bigint NOT NULL DEFAULT 0,
  score_sum      numeric NOT NULL DEFAULT 0,
  score_min      numeric(3, 2),
  loss_n         bigint NOT NULL DEFAULT 0,
  loss_sum       numeric NOT NULL DEFAULT 0,
  loss_max       numeric(5, 2),
  latency_n      bigint NOT NULL DEFAULT 0,
  latency_sum    numeric NOT NULL DEFAULT 0,
  latency_max    numeric(10, 2),
  jitter_n       bigint NOT NULL DEFAULT 0,
  jitter_sum     numeric NOT NULL DEFAULT 0,
  jitter_max     numeric(10, 2),
  first_at       timestamptz,
  last_at        timestamptz
);
CREATE INDEX quality_rollups_call_idx ON quality_rollups (call_id);

-- One statement-level pass per report batch: fold the new rows into the rollups,
-- then copy the averages to the participant and the call. SECURITY DEFINER because
-- a reporting participant may not update the call row (only its creator may); the
-- insert policy on quality_metrics has already checked who wrote the samples.
-- Lock order participant -> call matches the participant_count trigger.
CREATE FUNCTION app.quality_apply_rollups() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO quality_rollups AS r (participant_id, call_id, samples, score_n, score_sum, score_min,
      loss_n, loss_sum, loss_max, latency_n, latency_sum, latency_max, jitter_n, jitter_sum, jitter_max,
      first_at, last_at)
  SELECT participant_id, call_id, count(*),
         count(quality_score), coalesce(sum(quality_score), 0), min(quality_score),
         count(packet_loss_percent), coalesce(sum(packet_loss_percent), 0), max(packet_loss_percent),
         count(latency_ms), coalesce(sum(latency_ms), 0), max(latency_ms),
         count(jitter_ms), coalesce(sum(jitter_ms), 0), max(jitter_ms),
         min(recorded_at), max(recorded_at)
    FROM new_rows GROUP BY participant_id, call_id
  ON CONFLICT (participant_id) DO UPDATE SET
    samples = r.samples + EXCLUDED.samples,
    score_n = r.score_n + EXCLUDED.score_n, score_sum = r.score_sum + EXCLUDED.score_sum,
    score_min = least(r.score_min, EXCLUDED.score_min),
    loss_n = r.loss_n + EXCLUDED.loss_n, loss_sum = r.loss_sum + EXCLUDED.loss_sum,
    loss_max = greatest(r.loss_max, EXCLUDED.loss_max),
    latency_n = r.latency_n + EXCLUDED.latency_n, latency_sum = r.latency_sum + EXCLUDED.latency_sum,
    latency_max = greatest(r.latency_max, EXCLUDED.latency_max),
    jitter_n = r.jitter_n + EXCLUDED.jitter_n, jitter_sum = r.jitter_sum + EXCLUDED.jitter_sum,
    jitter_max = greatest(r.jitter_max, EXCLUDED.jitter_max),
    first_at = least(r.first_at, EXCLUDED.first_at), last_at = greatest(r.last_at, EXCLUDED.last_at);

  UPDATE call_participants p
     SET avg_quality_score = round(r.score_sum / nullif(r.score_n, 0), 2),
         packet_loss_percent = round(r.loss_sum / nullif(r.loss_n, 0), 2),
         avg_latency_ms = round(r.latency_sum / nullif(r.latency_n, 0))::integer
    FROM quality_rollups r
   WHERE r.participant_id = p.participant_id
     AND p.participant_id IN (SELECT DISTINCT participant_id FROM new_rows);

  -- Sample-weighted over the whole call.
  UPDATE calls c
     SET avg_quality_score = (SELECT round(sum(r.score_sum) / nullif(sum(r.score_n), 0), 2)
                                FROM quality_rollups r WHERE r.call_id = c.call_id)
   WHERE c.call_id IN (SELECT DISTINCT call_id FROM new_rows);
  RETURN NULL;
END $$;
CREATE TRIGGER quality_metrics_rollup AFTER INSERT ON quality_metrics
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app.quality_apply_rollups();

-- The time series of a call in fixed, epoch-aligned buckets, gaps included, ready
-- to plot. Why a function: the RLS policy on quality_metrics calls is_call_member()
-- once per row, which over a long call's tens of thousands of samples costs more
-- than the aggregation; here membership is checked once, then the index on
-- (call_id, recorded_at) does the rest.
CREATE FUNCTION app.quality_series(p_call uuid, p_bucket_seconds integer, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (bucket_start timestamptz, samples bigint, avg_quality_score numeric, min_quality_score numeric,
               avg_packet_loss_percent numeric, avg_latency_ms numeric, avg_jitter_ms numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH b AS (
    SELECT make_interval(secs => p_bucket_seconds) AS width
  ), agg AS (
    SELECT date_bin(b.width, m.recorded_at, 'epoch'::timestamptz) AS bucket_start, count(*) AS samples,
           round(avg(m.quality_score), 2) AS avg_quality_score, min(m.quality_score) AS min_quality_score,
           round(avg(m.packet_loss_percent), 2) AS avg_packet_loss_percent,
           round(avg(m.latency_ms), 1) AS avg_latency_ms, round(avg(m.jitter_ms), 1) AS avg_jitter_ms
      FROM quality_metrics m, b
     WHERE m.call_id = p_call AND m.recorded_at >= p_from AND m.recorded_at < p_to
     GROUP BY 1
  )
  SELECT g.bucket_start, coalesce(a.samples, 0), a.avg_quality_score, a.min_quality_score,
         a.avg_packet_loss_percent, a.avg_latency_ms, a.avg_jitter_ms
    FROM b, generate_series(date_bin(b.width, p_from, 'epoch'::timestamptz), p_to - interval '1 microsecond', b.width)
         AS g(bucket_start)
    LEFT JOIN agg a ON a.bucket_start = g.bucket_start
   WHERE app.is_call_member(p_call)
   ORDER BY g.bucket_start
$$;

-- Batched deletion for the retention job; returns how many rows went.
CREATE FUNCTION app.quality_delete_before(p_before timestamptz, p_limit integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
  DELETE FROM quality_metrics
   WHERE metric_id IN (SELECT metric_id FROM quality_metrics WHERE recorded_at < p_before LIMIT p_limit);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

ALTER TABLE quality_rollups ENABLE ROW LEVEL SECURITY;
CREATE POLICY quality_rollups_select ON quality_rollups FOR SELECT USING (app.is_call_member(call_id));
-- written only by the trigger above: no write policies, no write grants

GRANT SELECT ON quality_rollups TO auralink_app;
GRANT EXECUTE ON FUNCTION app.search_words(text), app.contact_search_vector(text, text, text),
  app.contact_search_query(text), app.contact_in_call(uuid),
  app.search_contacts(text, text, text, boolean, boolean, timestamptz, uuid, integer) TO auralink_app;
GRANT EXECUTE ON FUNCTION app.quality_series(uuid, integer, timestamptz, timestamptz) TO auralink_app;
REVOKE EXECUTE ON FUNCTION app.contacts_set_search(), app.users_sync_contact_search(),
  app.quality_apply_rollups(), app.quality_delete_before(timestamptz, integer) FROM PUBLIC;

-- ================================================================ invite links
-- Public endpoints (/join/...) have no user, so what they may do with a link is
-- spelled out as SECURITY DEFINER functions that each do one thing.

-- Unique visitors: sha256(daily random salt || client address || user agent). The
-- salt is random, kept one day, then deleted by the cleanup job, after which a hash
-- can no longer be tied to an address. Raw addresses are never stored.
CREATE TABLE link_visit_salts (
  day  date PRIMARY KEY,
  salt bytea NOT NULL
);
CREATE TABLE link_visitors (
  link_id uuid NOT NULL REFERENCES shareable_links (link_id) ON DELETE CASCADE,
  day     date NOT NULL,
  visitor bytea NOT NULL,
  PRIMARY KEY (link_id, day, visitor)
);
CREATE INDEX link_visitors_day_idx ON link_visitors (day);

-- Password attempts per link and client (hashed like visitors), counted before the
-- check so that concurrent guesses cannot slip past the limit.
CREATE TABLE link_password_attempts (
  link_id      uuid NOT NULL REFERENCES shareable_links (link_id) ON DELETE CASCADE,
  client       bytea NOT NULL,
  window_start timestamptz NOT NULL,
  attempts     integer NOT NULL,
  PRIMARY KEY (link_id, client)
);
CREATE INDEX link_password_attempts_window_idx ON link_password_attempts (window_start);

-- Waiting room. The guest's credential is a random secret, stored hashed.
CREATE TABLE join_requests (
  request_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  link_id         uuid NOT NULL REFERENCES shareable_links (link_id) ON DELETE CASCADE,
  call_id         uuid NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
  user_id         uuid REFERENCES users (user_id) ON DELETE CASCADE,
  display_name    text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 255),
  role            text NOT NULL CHECK (role IN ('host', 'moderator', 'participant', 'viewer')),
  secret_hash     bytea NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  decided_at      timestamptz,
  decided_by      uuid REFERENCES users (user_id) ON DELETE SET NULL,
  token_issued_at timestamptz,
  participant_id  uuid REFERENCES call_participants (participant_id) ON DELETE SET NULL
);
CREATE INDEX join_requests_call_idx ON join_requests (call_id, created_at DESC, request_id DESC);
CREATE INDEX join_requests_expires_idx ON join_requests (expires_at);

CREATE FUNCTION app.link_is_live(l shareable_links) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT l.is_active AND (l.expires_at IS NULL OR l.expires_at > now())
     AND (l.max_uses IS NULL OR l.current_uses < l.max_uses)
$$;

CREATE FUNCTION app.visitor_hash(p_client text) RETURNS bytea
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  d date := (now() AT TIME ZONE 'UTC')::date;
  s bytea;
BEGIN
  INSERT INTO link_visit_salts (day, salt)
  VALUES (d, decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'))
  ON CONFLICT (day) DO NOTHING;
  SELECT salt INTO s FROM link_visit_salts WHERE day = d;
  RETURN sha256(s || convert_to(coalesce(p_client, ''), 'UTF8'));
END $$;

-- The preview: counts a click (and a unique visitor) on a live link.
CREATE FUNCTION app.link_visit(p_code text, p_client text)
RETURNS TABLE (title text, description text, name text, call_type text, access_type text,
               requires_password boolean, require_approval boolean, expires_at timestamptz, live boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  l shareable_links;
  n integer;
BEGIN
  SELECT * INTO l FROM shareable_links WHERE short_code = p_code;
  IF NOT FOUND THEN RETURN; END IF;
  IF app.link_is_live(l) THEN
    INSERT INTO link_visitors (link_id, day, visitor)
    VALUES (l.link_id, (now() AT TIME ZONE 'UTC')::date, app.visitor_hash(p_client))
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE shareable_links s SET total_clicks = s.total_clicks + 1, unique_visitors = s.unique_visitors + n
     WHERE s.link_id = l.link_id;
  END IF;
  RETURN QUERY
    SELECT l.title, l.description, c.name, c.call_type, l.access_type, l.access_type = 'password',
           l.require_approval, l.expires_at, app.link_is_live(l)
      FROM calls c WHERE c.call_id = l.call_id;
END $$;

-- What POST /join needs to decide; the password hash leaves only to be verified.
CREATE FUNCTION app.link_for_join(p_code text)
RETURNS TABLE (link_id uuid, call_id uuid, created_by uuid, access_type text, password_hash text,
               require_approval boolean, default_role text, live boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT l.link_id, l.call_id, l.created_by, l.access_type, l.password_hash, l.require_approval,
         l.default_role, app.link_is_live(l)
    FROM shareable_links l WHERE l.short_code = p_code
$$;

-- Counts one password attempt; returns the seconds to wait when over the limit, else 0.
CREATE FUNCTION app.link_password_attempt(p_link uuid, p_client text, p_window_seconds integer, p_max integer)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  w interval := make_interval(secs => p_window_seconds);
  a link_password_attempts;
BEGIN
  INSERT INTO link_password_attempts AS t (link_id, client, window_start, attempts)
  VALUES (p_link, app.visitor_hash(p_client), now(), 1)
  ON CONFLICT (link_id, client) DO UPDATE SET
    window_start = CASE WHEN t.window_start <= now() - w THEN now() ELSE t.window_start END,
    attempts = CASE WHEN t.window_start <= now() - w THEN 1 ELSE t.attempts + 1 END
  RETURNING * INTO a;
  IF a.attempts <= p_max THEN RETURN 0; END IF;
  RETURN greatest(1, ceil(extract(epoch FROM a.window_start + w - now())))::integer;
END $$;

-- A right password clears the client's count.
CREATE FUNCTION app.link_password_passed(p_link uuid, p_client text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  DELETE FROM link_password_attempts WHERE link_id = p_link AND client = app.visitor_hash(p_client)
$$;

-- Restricted links: is the current user a contact of p_owner whom p_owner has not blocked?
CREATE FUNCTION app.is_contact_of(p_owner uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM contacts WHERE user_id = p_owner AND contact_user_id = app.current_user_id()
                   AND NOT is_blocked)
$$;

-- A waiting-room request on a live link, announced to the call's creator only.
CREATE FUNCTION app.join_request_create(p_link uuid, p_display_name text, p_role text, p_secret_hash bytea,
    p_ttl_seconds integer)
RETURNS TABLE (request_id uuid, expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  l shareable_links;
  r join_requests;
BEGIN
  SELECT * INTO l FROM shareable_links WHERE link_id = p_link;
  IF NOT FOUND OR NOT app.link_is_live(l) THEN RETURN; END IF;
  INSERT INTO join_requests (link_id, call_id, user_id, display_name, role, secret_hash, expires_at)
  VALUES (l.link_id, l.call_id, app.current_user_id(), p_display_name, p_role, p_secret_hash,
          now() + make_interval(secs => p_ttl_seconds))
  RETURNING * INTO r;
  INSERT INTO call_events (call_id, audience_user_id, type, payload)
  VALUES (l.call_id, l.created_by, 'join_request.created', jsonb_build_object(
    'request_id', r.request_id, 'link_id', l.link_id, 'display_name', r.display_name,
    'user_id', r.user_id, 'role', r.role, 'expires_at', r.expires_at));
  RETURN QUERY SELECT r.request_id, r.expires_at;
END $$;

-- Tells a signed-in requester (else the creator) of a decision. A definer because
-- the creator's scope may not insert an event it cannot itself read back, and
-- call_events readers see only their own audience rows.
CREATE FUNCTION app.join_request_announce(p_request uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  INSERT INTO call_events (call_id, audience_user_id, type, payload)
  SELECT r.call_id, coalesce(r.user_id, c.created_by), 'join_request.' || r.status,
         jsonb_build_object('request_id', r.request_id, 'status', r.status)
    FROM join_requests r JOIN calls c ON c.call_id = r.call_id
   WHERE r.request_id = p_request AND c.created_by = app.current_user_id() AND r.status <> 'pending'
$$;

-- Housekeeping for the cleanup job: yesterday's salts (which unlinks every stored
-- visitor hash from any address), visitor rows of past days, stale password
-- counters, and waiting-room requests a day past their expiry.
CREATE FUNCTION app.links_cleanup(p_attempt_window_seconds integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  today date := (now() AT TIME ZONE 'UTC')::date;
  n integer;
  total integer := 0;
BEGIN
  DELETE FROM link_visit_salts WHERE day < today;
  GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
  DELETE FROM link_visitors WHERE day < today;
  GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
  DELETE FROM link_password_attempts WHERE window_start < now() - make_interval(secs => p_attempt_window_seconds);
  GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
  DELETE FROM join_requests WHERE expires_at < now() - interval '1 day';
  GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
  RETURN total;
END $$;

ALTER TABLE link_visit_salts ENABLE ROW LEVEL SECURITY;
ALTER TABLE link_visitors ENABLE ROW LEVEL SECURITY;
ALTER TABLE link_password_attempts ENABLE ROW LEVEL SECURITY;
-- (the three above: only the functions here touch them; no policies, no grants)

ALTER TABLE join_requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY join_requests_select ON join_requests FOR SELECT USING (app.is_call_creator(call_id));
CREATE POLICY join_requests_update ON join_requests FOR UPDATE USING (app.is_call_creator(call_id))
  WITH CHECK (app.is_call_creator(call_id));
GRANT SELECT, UPDATE ON join_requests TO auralink_app;

REVOKE EXECUTE ON FUNCTION app.visitor_hash(text), app.links_cleanup(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.link_is_live(shareable_links), app.link_visit(text, text), app.link_for_join(text),
  app.link_password_attempt(uuid, text, integer, integer), app.link_password_passed(uuid, text),
  app.is_contact_of(uuid), app.join_request_create(uuid, text, text, bytea, integer),
  app.join_request_announce(uuid) TO auralink_app;
