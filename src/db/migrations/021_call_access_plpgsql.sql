-- The call access helpers of the RLS policies (001, 005) in plpgsql, same bodies.
--
-- As SQL functions that are SECURITY DEFINER (never inlined), each was parsed and
-- planned again at every place a statement called it, on every execution: a token grant
-- (calls' policy twice, the seat upsert's four policy checks) planned ten of them, half
-- of PostgreSQL's CPU per grant. can_see_call also planned is_call_member again for
-- every row it was called on, so reading the connected sessions of a call with 800
-- people took ~100 ms. plpgsql keeps each query's plan for the connection's life.
--
-- Same answers for every input: the same expressions, STABLE (the caller's snapshot),
-- SECURITY DEFINER with the same search_path; the policies that call them and the
-- grants on them are unchanged (CREATE OR REPLACE keeps both).
CREATE OR REPLACE FUNCTION app.is_call_creator(p_call uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM calls WHERE call_id = p_call AND created_by = app.current_user_id());
END $$;

-- Creator, invitee or someone who took part (005: call_members holds creators and
-- participants).
CREATE OR REPLACE FUNCTION app.is_call_member(p_call uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN app.current_user_id() IS NOT NULL AND (
       EXISTS (SELECT 1 FROM call_members WHERE user_id = app.current_user_id() AND call_id = p_call)
    OR EXISTS (SELECT 1 FROM call_invitees WHERE call_id = p_call AND user_id = app.current_user_id()));
END $$;

-- Members, plus any signed-in user for a public room.
CREATE OR REPLACE FUNCTION app.can_see_call(p_call uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN app.current_user_id() IS NOT NULL AND (
       app.is_call_member(p_call)
    OR EXISTS (SELECT 1 FROM calls WHERE call_id = p_call AND privacy = 'public'));
END $$;
