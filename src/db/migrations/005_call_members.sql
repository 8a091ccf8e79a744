-- Call history by user, as an index: one row per (user, call) for the creator and for
-- every signed-in user who took part. Listing a user's calls then reads only that
-- user's rows in (created_at, call_id) order instead of scanning calls and asking
-- "is this mine?" of each row, and membership checks in RLS become a key probe.
CREATE TABLE call_members (
  user_id         uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  call_id         uuid NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
  call_created_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, call_id)
);
CREATE INDEX call_members_history_idx ON call_members (user_id, call_created_at DESC, call_id DESC);
CREATE INDEX call_members_call_idx ON call_members (call_id);

ALTER TABLE call_members ENABLE ROW LEVEL SECURITY;
CREATE POLICY call_members_select ON call_members FOR SELECT USING (user_id = app.current_user_id());
-- Written only by the triggers below (owner rights): no insert/update/delete policy.
GRANT SELECT ON call_members TO auralink_app;

CREATE FUNCTION app.call_members_from_call() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO call_members (user_id, call_id, call_created_at)
  VALUES (NEW.created_by, NEW.call_id, NEW.created_at)
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER calls_members AFTER INSERT ON calls FOR EACH ROW EXECUTE FUNCTION app.call_members_from_call();

CREATE FUNCTION app.call_members_from_participant() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO call_members (user_id, call_id, call_created_at)
  SELECT NEW.user_id, c.call_id, c.created_at FROM calls c WHERE c.call_id = NEW.call_id
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER call_participants_members AFTER INSERT OR UPDATE OF user_id ON call_participants
  FOR EACH ROW WHEN (NEW.user_id IS NOT NULL) EXECUTE FUNCTION app.call_members_from_participant();

-- Rebuilds the index from calls and participants; for this migration's backfill and
-- for bulk loads that ran with triggers off (bench/dataset.ts).
CREATE FUNCTION app.rebuild_call_members() RETURNS void
LANGUAGE sql AS $$
  INSERT INTO call_members (user_id, call_id, call_created_at)
  SELECT created_by, call_id, created_at FROM calls
  ON CONFLICT DO NOTHING;
  INSERT INTO call_members (user_id, call_id, call_created_at)
  SELECT DISTINCT p.user_id, p.call_id, c.created_at
    FROM call_participants p JOIN calls c ON c.call_id = p.call_id
   WHERE p.user_id IS NOT NULL
  ON CONFLICT DO NOTHING;
$$;
REVOKE EXECUTE ON FUNCTION app.rebuild_call_members() FROM PUBLIC;
SELECT app.rebuild_call_members();

-- Same meaning as before (creator, invitee or someone who took part), two key probes.
CREATE OR REPLACE FUNCTION app.is_call_member(p_call uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT app.current_user_id() IS NOT NULL AND (
       EXISTS (SELECT 1 FROM call_members WHERE user_id = app.current_user_id() AND call_id = p_call)
    OR EXISTS (SELECT 1 FROM call_invitees WHERE call_id = p_call AND user_id = app.current_user_id()))
$$;

-- Cheap checks first: own and public calls never reach the membership probes.
DROP POLICY calls_select ON calls;
CREATE POLICY calls_select ON calls FOR SELECT USING (
  created_by = app.current_user_id()
  OR (privacy = 'public' AND app.current_user_id() IS NOT NULL)
  OR app.is_call_member(call_id));
