-- The people who joined a call, counted once per call instead of once per session row.
--
-- The calls list and detail count distinct identities over call_participants under the
-- caller's RLS, so the participants' policy (app.can_see_call) ran for every session row
-- of every call on the page: a page of 20 webinar-sized calls (~500 sessions each) ran it
-- ~10,000 times, 170 ms to over a second per page on the 1M bench. The answer is the
-- same with the policy checked once: it depends only on the call (USING
-- app.can_see_call(call_id)), so every row of a call is visible or none is. This
-- function checks it once and counts as the owner; a call the caller cannot see counts 0,
-- which is what the policy would have let them count.
CREATE FUNCTION app.call_people_joined(p_call uuid) RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT app.can_see_call(p_call) THEN
    RETURN 0;
  END IF;
  RETURN (SELECT count(DISTINCT identity)::int FROM call_participants
           WHERE call_id = p_call AND joined_at IS NOT NULL);
END $$;

REVOKE EXECUTE ON FUNCTION app.call_people_joined(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.call_people_joined(uuid) TO auralink_app;
