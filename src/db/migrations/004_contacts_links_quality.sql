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
