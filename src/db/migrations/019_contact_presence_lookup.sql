-- Presence of a contact (in a call now) as a lookup of that user's connected sessions.
-- The join in 004 let the planner start from the calls open now and walk each one's
-- connected sessions, or hash all of them: with webinar rooms holding thousands of
-- guests that cost 8-50 ms per contact, and a contacts page asks for 20. The call's
-- status is now read per session of the user (a few rows along
-- call_participants_connected_user_idx), by primary key.
CREATE OR REPLACE FUNCTION app.contact_in_call(p_user uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM contacts k WHERE k.user_id = app.current_user_id() AND k.contact_user_id = p_user)
     AND NOT app.is_blocked_by(p_user)
     AND EXISTS (SELECT 1 FROM call_participants p
                  WHERE p.user_id = p_user AND p.status = 'connected'
                    AND (SELECT c.status FROM calls c WHERE c.call_id = p.call_id) IN ('waiting', 'active'))
$$;
